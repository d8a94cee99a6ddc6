#!/usr/bin/env bash
# GET /v1/exports/{id} of several exportd binaries side by side with the bare cpp-httplib server,
# in rounds, so that a change is judged against the noise of the machine: each round runs wrk
# (2 threads, 64 connections) on the bare server and then on each binary in turn, and prints
# req/s, p99 and the ratio to the bare server of the same round.
#
#   bench/get_ab.sh ROUNDS SECONDS EXPORTD_BINARY...
#
# Each binary gets its own server and data dir and first exports the task it will serve:
# `{"dataset": "narrow"}` (13 files), or the JSON request in $GET_AB_REQUEST (e.g.
# '{"dataset": "narrow", "filter": {"id": {"lt": 50000}}}' for a one-file task).
# Uses the data and bench.config.json that bench/run.sh generates in $EXPORTD_BENCH_DIR (default
# /tmp/exportd-bench) and the bare server of $EXPORTD_BUILD_DIR (default build-p). Needs wrk,
# curl, jq, python3. To compare the code before and after a change, copy each build's
# server/exportd aside and pass both.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,16p' "$0" >&2; exit 2; }
rounds=$1 seconds=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${EXPORTD_BENCH_DIR:-/tmp/exportd-bench}
build=${EXPORTD_BUILD_DIR:-$root/build-p}
request=${GET_AB_REQUEST:-'{"dataset": "narrow"}'}
[ -f "$dir/bench.config.json" ] || { echo "run bench/run.sh once first (no $dir/bench.config.json)" >&2; exit 2; }
work=$(mktemp -d /tmp/exportd-get-ab.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_ready() { for _ in $(seq 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; return 1; }

bare_port=$(free_port)
"$build/bench/exportd_bench_bare_httplib" "$bare_port" 64 >"$work/bare.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$bare_port/x"

key=bench-get-ab-$RANDOM$RANDOM
auth="Authorization: Bearer $key"
ports=() ids=()
cd "$dir"
for i in $(seq 0 $(($# - 1))); do
  bin=${*:$((i + 1)):1}
  port=$(free_port)
  EXPORTD_BOOTSTRAP_KEY=$key "$bin" --config "$dir/bench.config.json" --data-dir "$work/data$i" \
    --listen "127.0.0.1:$port" --log-level warn >"$work/exportd$i.log" 2>&1 &
  pids+=($!)
  wait_ready "http://127.0.0.1:$port/healthz"
  id=$(curl -sf -H "$auth" -H 'Content-Type: application/json' -d "$request" \
    "http://127.0.0.1:$port/v1/exports" | jq -r .id)
  status=""
  for _ in $(seq 600); do
    status=$(curl -sf -H "$auth" "http://127.0.0.1:$port/v1/exports/$id" | jq -r .status)
    case $status in Succeeded) break ;; Failed|Cancelled) break ;; esac
    sleep 0.2
  done
  [ "$status" = Succeeded ] || { echo "$bin: the export ended $status" >&2; exit 1; }
  bytes=$(curl -sf -H "$auth" "http://127.0.0.1:$port/v1/exports/$id" | wc -c)
  echo "bin$i = $bin: task $id, $bytes-byte body"
  ports+=("$port") ids+=("$id")
done

# "req/s p99" of one wrk run.
measure() {
  wrk -t2 -c64 -d"${seconds}s" --latency "$@" |
    awk '/Requests\/sec/ {r = $2} $1 == "99%" {p = $2} END {printf "%.0f %s\n", r, p}'
}
for r in $(seq "$rounds"); do
  read -r bare_rps bare_p99 < <(measure "http://127.0.0.1:$bare_port/v1/exports/x")
  line="round $r: bare $bare_rps req/s (p99 $bare_p99)"
  for i in "${!ports[@]}"; do
    read -r rps p99 < <(measure -H "$auth" "http://127.0.0.1:${ports[$i]}/v1/exports/${ids[$i]}")
    line+=" | bin$i $rps req/s, $(awk -v a="$rps" -v b="$bare_rps" 'BEGIN {printf "%.0f%%", 100 * a / b}') (p99 $p99)"
  done
  echo "$line"
done
