#!/usr/bin/env bash
# End-to-end export of the demo dataset through exportd's own API, side by side with
# `sqlite3 -csv` over the same table (the baseline: it writes the document column as raw JSON
# instead of flattening it into a few hundred columns, so it does strictly less work).
#
#   bench/export_demo.sh [RUNS] [ROWS]     defaults: 5 runs, 100000 rows
#
# Builds build/release (Release) if needed; EXPORTD_BUILD_DIR=DIR uses an already configured
# Release build dir instead (bench/run.sh's build-p) and only builds exportd there. Reports per run: POST -> Succeeded wall time,
# rows/s, MB/s, and exportd's peak RSS (VmHWM) sampled from /proc; then medians and the ratio.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
rows=${2:-100000}
build="${EXPORTD_BUILD_DIR:-$root/build/release}"
if [[ -z "${EXPORTD_BUILD_DIR:-}" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEXPORTD_BUILD_TESTS=OFF \
    -DEXPORTD_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$build" --target exportd >/dev/null
bin="$build/server/exportd"

work=$(mktemp -d /tmp/exportd-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
key=bench-$RANDOM$RANDOM
EXPORTD_BOOTSTRAP_KEY=$key EXPORTD_DEMO_ROWS=$rows "$bin" --data-dir "$work/data" \
  --listen 127.0.0.1:$port --log-level warn >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

auth="Authorization: Bearer $key"
now_ms() { date +%s%3N; }
declare -a times rss
for i in $(seq "$runs"); do
  start=$(now_ms)
  id=$(curl -sf -H "$auth" -H 'Content-Type: application/json' "http://127.0.0.1:$port/v1/exports" \
        -d '{"dataset": "samples", "format": "csv"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  peak=0
  while :; do
    status=$(curl -sf -H "$auth" "http://127.0.0.1:$port/v1/exports/$id" |
             python3 -c 'import json,sys; t=json.load(sys.stdin); print(t["status"], t["progress"]["bytes"])')
    hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
    (( hwm > peak )) && peak=$hwm
    case "$status" in Succeeded*) break ;; Failed*|Cancelled*) echo "export $status" >&2; exit 1 ;; esac
    sleep 0.02
  done
  end=$(now_ms)
  bytes=${status#* }
  ms=$(( end - start ))
  times+=("$ms"); rss+=("$peak")
  printf 'exportd run %d: %d ms, %.0f rows/s, %.1f MB/s, peak RSS %d MB\n' "$i" "$ms" \
    "$(awk "BEGIN{print $rows*1000/$ms}")" "$(awk "BEGIN{print $bytes/1000/$ms}")" $(( peak / 1024 ))
done

src="$work/data/demo/samples.sqlite"
declare -a base
for i in $(seq "$runs"); do
  start=$(now_ms)
  sqlite3 -csv -header "$src" 'SELECT * FROM samples ORDER BY id' >"$work/baseline.csv"
  end=$(now_ms)
  base+=("$(( end - start ))")
  printf 'sqlite3 -csv run %d: %d ms (%d MB, document left as raw JSON)\n' "$i" "${base[-1]}" \
    $(( $(stat -c %s "$work/baseline.csv") / 1000000 ))
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m=$(median "${times[@]}"); b=$(median "${base[@]}")
echo "median: exportd ${m} ms end to end (peak RSS $(( $(median "${rss[@]}") / 1024 )) MB);" \
  "sqlite3 -csv ${b} ms; ratio exportd/sqlite3 = $(awk "BEGIN{printf \"%.2f\", $m/$b}")"
