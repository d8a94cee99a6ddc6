#!/usr/bin/env bash
# Import speed and memory: exportd's POST /v1/imports (a CSV upload) against `sqlite3 .import` of
# the same CSV into the same empty table, in the same run; and exportd's peak RSS over the import.
#   bench/import.sh EXPORTD_BINARY [ROWS] [WORK_DIR]     (ROWS default 1000000)
# Prints one line per measurement; bench/README.md keeps the table.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
rows=${2:-1000000}
work=${3:-$(mktemp -d)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
# shellcheck source=bench/lib_exportd.sh
source "$here/lib_exportd.sh"

ddl="CREATE TABLE narrow (id INTEGER PRIMARY KEY, site TEXT NOT NULL, observed_at TEXT NOT NULL,
  kind TEXT, status TEXT, count_a INTEGER, count_b INTEGER, count_c INTEGER, value_a REAL,
  value_b REAL, value_c REAL, value_d REAL, label TEXT, note TEXT, flag_a INTEGER, flag_b INTEGER,
  score REAL, ratio REAL, code TEXT, batch INTEGER)"

csv="$work/narrow.csv"
if [[ ! -f $csv ]]; then
  echo "== generating $rows narrow rows (20 columns)"
  python3 - "$csv" "$rows" <<'PY'
import random, sys
path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
with open(path, "w", newline="") as f:
    f.write("id,site,observed_at,kind,status,count_a,count_b,count_c,value_a,value_b,value_c,"
            "value_d,label,note,flag_a,flag_b,score,ratio,code,batch\r\n")
    for i in range(1, n + 1):
        f.write("%d,site-%d,2024-%02d-%02dT%02d:%02d:00Z,%s,%s,%d,%d,%d,%r,%r,%r,%r,"
                "\"label, %d\",%s,%d,%d,%r,%r,C%05d,%d\r\n" % (
            i, rng.randrange(50), rng.randrange(1, 13), rng.randrange(1, 29), rng.randrange(24),
            rng.randrange(60), rng.choice(["rock", "soil", "water"]), rng.choice(["ok", "bad"]),
            rng.randrange(1000), rng.randrange(100000), -rng.randrange(50),
            rng.random() * 1000, rng.random(), rng.randrange(10**6) / 100, rng.random() * 1e-5,
            i % 977, "" if i % 10 == 0 else "note %d" % (i % 13), i % 2, i % 3,
            rng.random() * 100, rng.random(), rng.randrange(10**5), i // 1000))
PY
fi
bytes=$(stat -c %s "$csv")
echo "csv: $rows rows, $bytes bytes"

# sqlite3 .import into an empty table (a rollback journal, one transaction, as sqlite3 does it).
rm -f "$work/sqlite3.db"
sqlite3 "$work/sqlite3.db" "$ddl"
start=$(date +%s.%N)
sqlite3 "$work/sqlite3.db" ".mode csv" ".import --skip 1 $csv narrow"
end=$(date +%s.%N)
sqlite_s=$(echo "$end - $start" | bc -l)
printf 'sqlite3 .import: %.2f s, %.0f rows/s\n' "$sqlite_s" "$(echo "$rows / $sqlite_s" | bc -l)"

# exportd: the same CSV uploaded into an empty importable dataset over the same table.
rm -f "$work/target.db"
sqlite3 "$work/target.db" "$ddl"
cat >"$work/config.json" <<JSON
{ "workers": 1, "datasets": [ { "name": "narrow", "importable": true, "key": "id",
  "source": { "type": "sqlite", "path": "$work/target.db", "table": "narrow" } } ] }
JSON
start_exportd "$bin" "$work/config.json" "$work/data" "$work/exportd.log"
trap stop_exportd EXIT
upload_start=$(date +%s.%N)
id=$(curl -sf -H "$srv_auth" -H 'Content-Type: text/csv' --data-binary "@$csv" \
  "$srv_base/v1/imports?dataset=narrow" | jq -r .id)
upload_end=$(date +%s.%N)
while :; do
  task=$(curl -sf -H "$srv_auth" "$srv_base/v1/imports/$id")
  status=$(jq -r .status <<<"$task")
  case $status in Succeeded | Failed | Cancelled) break ;; esac
  sleep 0.1
done
done_at=$(date +%s.%N)
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$srv_pid/status")
[[ $status == Succeeded ]] || { echo "import $status: $task" >&2; exit 1; }
run_ms=$(jq -r '((.finished_at | sub("\\.[0-9]+Z$"; "Z") | fromdate) - (.started_at | sub("\\.[0-9]+Z$"; "Z") | fromdate))' <<<"$task")
total_s=$(echo "$done_at - $upload_start" | bc -l)
upload_s=$(echo "$upload_end - $upload_start" | bc -l)
printf 'exportd upload (request until 202): %.2f s\n' "$upload_s"
printf 'exportd import, upload to Succeeded: %.2f s, %.0f rows/s (rows_inserted %s)\n' \
  "$total_s" "$(echo "$rows / $total_s" | bc -l)" "$(jq -r .rows_inserted <<<"$task")"
printf 'exportd task started_at..finished_at: about %s s (whole seconds)\n' "$run_ms"
printf 'exportd peak RSS (VmHWM): %.1f MB\n' "$(echo "$hwm_kb / 1024" | bc -l)"
printf 'same rows: %s\n' "$( [[ $(sqlite3 "$work/target.db" 'SELECT count(*), sum(id), total(value_a) FROM narrow') == \
  $(sqlite3 "$work/sqlite3.db" 'SELECT count(*), sum(id), total(value_a) FROM narrow') ]] && echo yes || echo NO)"
