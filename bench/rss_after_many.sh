#!/usr/bin/env bash
# Memory of one long-lived exportd: six exports one after the other, then three concurrent narrow
# exports, then three concurrent wide dense ones; prints RssAnon after the six and, for each group
# of three, the peak RssAnon (sampled every 50 ms) and VmHWM (reset before the group).
#
#   bench/rss_after_many.sh [EXPORTD_BINARY]     (default build-p/server/exportd)
# Uses the data and bench.config.json that bench/run.sh generates in $EXPORTD_BENCH_DIR
# (default /tmp/exportd-bench). Needs curl, jq, python3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build-p/server/exportd}
dir=${EXPORTD_BENCH_DIR:-/tmp/exportd-bench}
[ -f "$dir/bench.config.json" ] || { echo "run bench/run.sh once first (no $dir/bench.config.json)" >&2; exit 2; }
srv=$(mktemp -d /tmp/exportd-rss.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key=bench-rss-$RANDOM$RANDOM
auth="Authorization: Bearer $key"
cd "$dir"
EXPORTD_BOOTSTRAP_KEY=$key "$bin" --config "$dir/bench.config.json" --data-dir "$srv/data" \
  --listen "127.0.0.1:$port" --log-level warn >"$srv/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$srv"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
mb() { echo $(( $(awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status") / 1024 )); }
peak=0
wait_all() {  # ID... : polls until each is finished, sampling RssAnon
  local id st anon
  for id in "$@"; do
    while :; do
      st=$(curl -sf -H "$auth" "http://127.0.0.1:$port/v1/exports/$id")
      anon=$(mb RssAnon); (( anon > peak )) && peak=$anon
      case "$st" in *'"Succeeded"'*|*'"Failed"'*) break ;; esac
      sleep 0.05
    done
  done
}
post() {
  curl -sf -H "$auth" -H 'Content-Type: application/json' "http://127.0.0.1:$port/v1/exports" \
    -d "{\"dataset\":\"$1\"}" | jq -r .id
}
for ds in narrow wide_dense narrow wide_sparse narrow wide_dense; do wait_all "$(post $ds)"; done
echo "after six exports one after the other: RssAnon $(mb RssAnon) MB"
for ds in narrow wide_dense; do
  echo 5 >"/proc/$pid/clear_refs"  # resets VmHWM
  peak=0
  wait_all "$(post $ds)" "$(post $ds)" "$(post $ds)"
  echo "three $ds at once: peak RssAnon $peak MB, VmHWM $(mb VmHWM) MB; RssAnon after $(mb RssAnon) MB"
done
