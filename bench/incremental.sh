#!/usr/bin/env bash
# The nightly incremental scenario of recurring exports: a 1,000,000-row table of 1,000
# partitions (20 columns, the shape of the narrow dataset) in which 1% of the rows arrived since
# the last export. In each round, on a fresh data
# dir: an incremental export up to the previous night (the 99%: it sets every partition's
# watermark), then the nightly incremental export (the 1%), then a full export of the same table;
# the nightly run's time as a share of the full export's, medians over the rounds.
#   bench/incremental.sh [ROUNDS [BINARY]]         (default 3, build-p/server/exportd)
#   EXPORTD_BENCH_NO_INDEX=1 bench/incremental.sh   the same table without its (study, time) index
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib_exportd.sh"
rounds=${1:-3}
bin=${2:-$root/build-p/server/exportd}
dir=${EXPORTD_BENCH_DIR:-/tmp/exportd-bench}/nightly
mkdir -p "$dir"
db=$dir/nightly20.sqlite
[[ ${EXPORTD_BENCH_NO_INDEX:-} == 1 ]] && db=$dir/nightly20_noindex.sqlite
if [[ ! -f $db ]]; then
  echo "generating $db (1,000,000 rows, 1,000 partitions, 1% after 2026-01-31)"
  # Rows 1..990,000 spread over 2026-01-01..2026-01-31, rows 990,001..1,000,000 over
  # 2026-01-31..2026-02-01: the new night. The key is the rowid.
  sqlite3 "$db.tmp" <<'SQL'
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE events (id INTEGER PRIMARY KEY, study TEXT NOT NULL, participant_id INTEGER NOT NULL,
                     collected_at TEXT NOT NULL, value REAL, note TEXT, site TEXT, visit INTEGER,
                     sample_type TEXT, volume_ml REAL, ph REAL, temp_c REAL, flagged INTEGER,
                     operator TEXT, batch TEXT, comment TEXT, lab_code INTEGER, ratio REAL,
                     unit TEXT, status TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
INSERT INTO events
SELECT i, printf('study-%04d', i % 1000), (i * 7919) % 50000,
       strftime('%Y-%m-%dT%H:%M:%SZ', CASE WHEN i <= 990000
         THEN 1767225600 + (i * 2592000) / 990000
         ELSE 1769817600 + ((i - 990000) * 86400) / 10000 END, 'unixepoch'),
       (i % 997) * 0.125, 'note ' || (i % 13), 'site-' || (i % 37), i % 9,
       CASE i % 3 WHEN 0 THEN 'blood' WHEN 1 THEN 'serum' ELSE 'urine, "spot"' END,
       (i % 500) / 10.0, 6.5 + (i % 20) / 10.0, 36.0 + (i % 30) / 10.0, i % 2,
       'op' || (i % 101), printf('B%06d', i / 100), CASE WHEN i % 7 = 0 THEN NULL
         ELSE 'checked by ' || (i % 53) END, i % 10007, (i % 1000) / 999.0, 'mg/L', 'final'
FROM n;
SQL
  [[ $db == *noindex* ]] || sqlite3 "$db.tmp" 'CREATE INDEX events_study_time ON events (study, collected_at)'
  mv "$db.tmp" "$db"
fi
work=$(mktemp -d)
trap 'stop_exportd; rm -rf "$work"' EXIT
cat >"$work/config.json" <<JSON
{ "max_connections_per_client": 0,
  "datasets": [ { "name": "nightly", "source": { "type": "sqlite", "path": "$db", "table": "events" },
                  "key": "id", "time_field": "collected_at", "partition_field": "study",
                  "metrics": { "count_distinct": ["participant_id"] } } ] }
JSON
nightly=() full=() share=()
for ((r = 1; r <= rounds; r++)); do
  start_exportd "$bin" "$work/config.json" "$work/data" "$work/log"
  read -r base_ms _ base_rows < <(run_export '{"dataset": "nightly", "incremental": true, "until": "2026-01-31T00:00:00Z"}')
  read -r n_ms n_status n_rows < <(run_export '{"dataset": "nightly", "incremental": true, "until": "2026-02-01T00:00:00Z"}')
  read -r f_ms f_status f_rows < <(run_export '{"dataset": "nightly"}')
  stop_exportd
  [[ $n_status == Succeeded && $f_status == Succeeded ]] || { echo "round $r: $n_status $f_status" >&2; exit 1; }
  nightly+=("$n_ms") full+=("$f_ms")
  share+=("$(awk "BEGIN{printf \"%.4f\", $n_ms/$f_ms}")")
  echo "round $r: previous nights $base_ms ms ($base_rows rows); nightly $n_ms ms ($n_rows rows); full $f_ms ms ($f_rows rows); nightly/full $(awk "BEGIN{printf \"%.1f%%\", 100*$n_ms/$f_ms}")"
done
echo "median: nightly $(median "${nightly[@]}") ms, full $(median "${full[@]}") ms, nightly/full $(awk "BEGIN{printf \"%.1f%%\", 100*$(median "${share[@]}")}") (median of the per-round shares)"
