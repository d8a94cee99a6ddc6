#!/usr/bin/env bash
# A PostgreSQL source against psql's own copy: the narrow bench table (bench/gen_data.cc, 1,000,000
# rows x 20 columns) loaded into a throwaway PostgreSQL cluster, then exported to CSV by exportd
# (dataset source type postgres) and by `psql -c "\copy (SELECT ... ORDER BY id) TO 'f.csv' csv
# header"`, in interleaved rounds; prints each round and the medians, and checks that both wrote
# the same rows (count and the key of every row, in order).
#   bench/pg_source.sh EXPORTD_BINARY GEN_BINARY [ROUNDS] [WORK_DIR]
# EXPORTD_BINARY: a Release exportd; GEN_BINARY: exportd_bench_gen (-DEXPORTD_BUILD_BENCH=ON).
# Needs Debian's postgresql (tests/postgres/cluster.sh starts the cluster), sqlite3, jq, curl.
# Also times two reference points of the server side alone: COPY ... TO STDOUT and a cursor
# fetched in batches (psql's FETCH_COUNT), both to /dev/null. bench/README.md keeps the table.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
gen=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
rounds=${3:-5}
work=${4:-$(mktemp -d -t exportd-pg-bench.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
chmod 755 "$work"  # the server runs as the postgres user and must enter it
# shellcheck source=bench/lib_exportd.sh
source "$here/lib_exportd.sh"

cluster="$work/pg"
cleanup() {
  stop_exportd 2>/dev/null || true
  bash "$root/tests/postgres/cluster.sh" stop "$cluster" >/dev/null 2>&1 || true
}
trap cleanup EXIT

[[ -s "$work/narrow.sqlite" ]] || "$gen" narrow --dir "$work" >/dev/null
bash "$root/tests/postgres/cluster.sh" start "$cluster" >/dev/null
url=$(bash "$root/tests/postgres/cluster.sh" url "$cluster")

echo "== loading the narrow table into PostgreSQL"
psql "$url" -qX -v ON_ERROR_STOP=1 -c "CREATE TABLE narrow (id bigint PRIMARY KEY,
  region text NOT NULL, created_at timestamptz NOT NULL, updated_unix bigint, name text,
  note text, label text, qty bigint, count_a bigint, count_b bigint, big bigint,
  amount double precision, price double precision, ratio double precision, lat double precision,
  lon double precision, score double precision, code text, status text, comment text)"
start=$EPOCHREALTIME
sqlite3 -csv "$work/narrow.sqlite" "SELECT * FROM narrow ORDER BY id" |
  psql "$url" -qX -v ON_ERROR_STOP=1 -c "\copy narrow FROM STDIN csv"
psql "$url" -qX -c "VACUUM ANALYZE narrow"
rows=$(psql "$url" -qAtX -c "SELECT count(*) FROM narrow")
echo "   $rows rows in $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME-$start}") s," \
  "$(psql "$url" -qAtX -c "SELECT pg_size_pretty(pg_total_relation_size('narrow'))")"

columns="id, region, created_at, updated_unix, name, note, label, qty, count_a, count_b, big,
  amount, price, ratio, lat, lon, score, code, status, comment"
cat >"$work/config.json" <<JSON
{ "workers": 1,
  "datasets": [ { "name": "narrow", "key": "id",
                  "source": { "type": "postgres", "url": "$url", "table": "narrow" } } ] }
JSON

# exportd_round THREADS: one CSV export on a fresh server; prints its milliseconds.
exportd_round() {
  EXPORTD_ENCRYPTION=off EXPORTD_THREADS_PER_EXPORT=$1 start_exportd "$bin" "$work/config.json" "$work/data" \
    "$work/exportd.log" || exit 1
  read -r ms status got < <(run_export '{"dataset": "narrow", "format": "csv"}')
  [[ $status == Succeeded && $got == "$rows" ]] || { echo "export: $status $got rows" >&2; exit 1; }
  echo "$ms"
  [[ $1 == 1 ]] && keep_exportd_files
  stop_exportd
}

keep_exportd_files() {
  rm -rf "$work/exportd_files"
  cp -r "$(find "$work/data/exports" -mindepth 1 -maxdepth 1 -type d | head -1)" \
    "$work/exportd_files"
}

psql_round() {
  local s=$EPOCHREALTIME
  psql "$url" -qX -c "\copy (SELECT $columns FROM narrow ORDER BY id) TO '$work/psql.csv' csv header"
  awk "BEGIN{printf \"%.0f\n\", ($EPOCHREALTIME-$s)*1000}"
}

declare -a one two copy
for ((r = 1; r <= rounds; r++)); do
  a=$(exportd_round 1)
  b=$(psql_round)
  c=$(exportd_round 2)
  one+=("$a"); copy+=("$b"); two+=("$c")
  echo "round $r: exportd 1 thread ${a} ms, psql \\copy ${b} ms, exportd 2 threads ${c} ms"
done

echo "== the same rows"
python3 - "$work/psql.csv" "$work/exportd_files" <<'PY'
import csv, glob, os, sys
def keys(paths):
    out = []
    for p in paths:
        with open(p, newline="") as f:
            r = csv.reader(f)
            next(r)
            out.extend(row[0] for row in r)
    return out
psql = keys([sys.argv[1]])
files = sorted(glob.glob(os.path.join(sys.argv[2], "part-*.csv")))
ours = keys(files)
print(f"psql {len(psql)} rows, exportd {len(ours)} rows in {len(files)} files, "
      f"keys {'identical' if psql == ours else 'DIFFER'}")
sys.exit(0 if psql == ours and psql else 1)
PY

echo "== server side alone (to /dev/null)"
s=$EPOCHREALTIME
psql "$url" -qX -c "COPY (SELECT $columns FROM narrow ORDER BY id) TO STDOUT" >/dev/null
echo "COPY TO STDOUT (text): $(awk "BEGIN{printf \"%.0f\", ($EPOCHREALTIME-$s)*1000}") ms"
s=$EPOCHREALTIME
psql "$url" -qAtX -v FETCH_COUNT=20000 -c "SELECT $columns FROM narrow ORDER BY id" >/dev/null
echo "cursor, FETCH 20000 at a time: $(awk "BEGIN{printf \"%.0f\", ($EPOCHREALTIME-$s)*1000}") ms"

echo "== medians of $rounds rounds"
echo "exportd, 1 thread:   $(median "${one[@]}") ms"
echo "exportd, 2 threads:  $(median "${two[@]}") ms"
echo "psql \\copy csv:     $(median "${copy[@]}") ms"
