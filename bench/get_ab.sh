#!/usr/bin/env bash
# GET /v1/exports/{id} of several exportd binaries side by side with the bare cpp-httplib server,
# in rounds, so that a change is judged against the noise of the machine: each round runs wrk
# (2 threads, 64 connections) on the bare server, on the bare server padded to the size of
# exportd's body, on the epoll floor (bench/floor_epoll.cc) with that same body, and on each
# binary, in a new random order each round (the server measured after another inherits its
# wake); it prints req/s, p50, p90, p99, p99.9 and max (ms), with each binary's ratio to the bare
# server of the same round; then the medians over the rounds.
#
#   bench/get_ab.sh ROUNDS SECONDS EXPORTD_BINARY...
#
# Each binary gets its own server and data dir and first exports the task it will serve:
# `{"dataset": "narrow"}` (13 files), or the JSON request in $GET_AB_REQUEST (e.g.
# '{"dataset": "narrow", "filter": {"id": {"lt": 50000}}}' for a one-file task).
# Uses the data and bench.config.json that bench/run.sh generates in $EXPORTD_BENCH_DIR (default
# /tmp/exportd-bench) and the bare servers of $EXPORTD_BUILD_DIR (default build-p). Needs wrk,
# curl, jq, python3, shuf. To compare the code before and after a change, copy each build's
# server/exportd aside and pass both.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,19p' "$0" >&2; exit 2; }
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
  [ "$i" = 0 ] && first_bytes=$bytes
  ports+=("$port") ids+=("$id")
done

# Pads a second bare server to the size of the first binary's body: how much of the gap is the
# size of the answer.
padded_port=$(free_port)
"$build/bench/exportd_bench_bare_httplib" "$padded_port" 64 "$first_bytes" >"$work/bare_padded.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$padded_port/x"
floor_port=$(free_port)
"$build/bench/exportd_bench_floor_epoll" "$floor_port" 2 "$first_bytes" >"$work/floor.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$floor_port/x"

# One wrk run: "rps=... p50=... p90=... p99=... p99.9=... max=..."
measure() { wrk -t2 -c64 -d"${seconds}s" -s "$root/bench/wrk_percentiles.lua" "$@" | tail -1; }
results=$work/results.txt
for r in $(seq "$rounds"); do
  echo "round $r"
  declare -A line=()
  servers=(bare padded floor)
  for i in "${!ports[@]}"; do servers+=("bin$i"); done
  for name in $(printf '%s\n' "${servers[@]}" | shuf); do
    case $name in
      bare) line[$name]=$(measure "http://127.0.0.1:$bare_port/v1/exports/x") ;;
      padded) line[$name]=$(measure "http://127.0.0.1:$padded_port/v1/exports/x") ;;
      floor) line[$name]=$(measure "http://127.0.0.1:$floor_port/v1/exports/x") ;;
      bin*) i=${name#bin}
            line[$name]=$(measure -H "$auth" "http://127.0.0.1:${ports[$i]}/v1/exports/${ids[$i]}") ;;
    esac
  done
  bare_rps=$(sed 's/^rps=\([0-9]*\).*/\1/' <<<"${line[bare]}")
  for name in "${servers[@]}"; do
    ratio=""
    if [[ $name == bin* ]]; then
      rps=$(sed 's/^rps=\([0-9]*\).*/\1/' <<<"${line[$name]}")
      ratio=" vs_bare=$(awk -v a="$rps" -v b="$bare_rps" 'BEGIN {printf "%.0f%%", 100 * a / b}')"
    fi
    printf '  %-10s %s%s\n' "$name" "${line[$name]}" "$ratio" | tee -a "$results"
  done
done
echo "medians over $rounds rounds (padded and floor: $first_bytes-byte bodies):"
python3 - "$results" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, *fields = line.split()
    values = dict(f.split("=") for f in fields)
    rows.setdefault(name, []).append(values)
for name, runs in rows.items():
    out = []
    for key in ("rps", "p50", "p90", "p99", "p99.9", "max", "vs_bare"):
        if key not in runs[0]:
            continue
        nums = [float(r[key].rstrip("%")) for r in runs]
        median = statistics.median(nums)
        text = "%.0f" % median if key == "rps" else ("%.0f%%" % median if key == "vs_bare" else "%.2f" % median)
        if key == "p99":
            text += " (%.2f-%.2f)" % (min(nums), max(nums))
        out.append("%s=%s" % (key, text))
    print("  %-10s %s" % (name, " ".join(out)))
PY
