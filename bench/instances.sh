#!/usr/bin/env bash
# Three exportd instances on one host sharing one PostgreSQL task store, against one instance
# with the same total of workers, on a throwaway cluster of tests/postgres/cluster.sh
# (synchronous_commit on). In rounds, the two set-ups in alternating order, each on a fresh
# database:
#   one:   1 instance,  workers 3, wrk -t2 -c64 against it;
#   three: 3 instances, workers 1 each, one wrk -t1 -c22 against each, all three at once.
# Measured in each set-up:
#   exports: 6 CSV exports of the narrow bench dataset (1,000,000 rows each) created at once
#            (round-robin over the instances): rows/s = 6,000,000 / (last finished_at - first
#            created_at), by the tasks' own times (one host, one clock);
#   creates: then durable POST /v1/exports for --seconds (a filter that finds no row); creates/s =
#            tasks in the store after the run / seconds (one GET /metrics: the store is shared).
# Each instance writes its files to its own data dir (local storage): the set-up measures the
# shared queue, not a shared bucket.
#   bench/instances.sh [--binary PATH] [--rounds N] [--seconds N]  (default build-p, 3, 10)
# Data: $EXPORTD_BENCH_DIR or /tmp/exportd-bench/narrow.sqlite (bench/run.sh or bench/stores.sh
# make it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/build-p/server/exportd"
rounds=3
seconds=10
while (($#)); do
  case "$1" in
    --binary) bin=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) sed -n '2,19p' "$0"; exit 2 ;;
  esac
done
[[ -x "$bin" ]] || { echo "no exportd at $bin (build it, or pass --binary)" >&2; exit 1; }
for tool in wrk jq curl python3; do
  command -v $tool >/dev/null || { echo "$tool is not installed" >&2; exit 1; }
done
data=${EXPORTD_BENCH_DIR:-/tmp/exportd-bench}
[[ -s "$data/narrow.sqlite" && -s "$data/narrow.config.json" ]] ||
  { echo "no $data/narrow.sqlite: run bench/stores.sh or bench/run.sh first" >&2; exit 1; }
data=$(cd "$data" && pwd)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pids=()
bases=()
work=$(mktemp -d)
cluster="$work/pg"
chmod 755 "$work"  # the cluster's server user must enter it
stop_all() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  bases=()
}
cleanup() {
  stop_all
  bash "$root/tests/postgres/cluster.sh" stop "$cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
echo "== $(bash "$root/tests/postgres/cluster.sh" start "$cluster")" >&2
pg_url=$(bash "$root/tests/postgres/cluster.sh" url "$cluster")
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
psql_do() { "$pgbin/psql" "$pg_url" -qAtc "$1"; }
cat "$data/narrow.sqlite" >/dev/null  # into the page cache, for every run alike

key="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
auth="Authorization: Bearer $key"
no_rows='{"dataset": "narrow", "format": "csv", "filter": {"id": {"lt": 0}}}'

# start_instances N WORKERS DB: N instances on database DB, each with WORKERS workers.
start_instances() {
  local n=$1 workers=$2 db=$3 i port
  psql_do "CREATE DATABASE $db"
  jq --arg dir "$data" --argjson w "$workers" '{workers: $w, demo_rows: 1000,
      max_connections_per_client: 0,
      datasets: [.datasets[] | .source.path = ($dir + "/" + .source.path)]}' \
    "$data/narrow.config.json" >"$work/config.json"
  for i in $(seq "$n"); do
    port=$(free_port)
    EXPORTD_TASK_STORE_URL=${pg_url/\/postgres\?//$db?} EXPORTD_BOOTSTRAP_KEY=$key \
      "$bin" --config "$work/config.json" --data-dir "$work/$db-$i" \
      --listen "127.0.0.1:$port" --log-level warn >"$work/$db-$i.log" 2>&1 &
    pids+=($!)
    bases+=("http://127.0.0.1:$port")
  done
  for i in $(seq 0 $((n - 1))); do
    for _ in $(seq 300); do curl -sf "${bases[$i]}/healthz" >/dev/null && break; sleep 0.1; done
    curl -sf "${bases[$i]}/healthz" >/dev/null ||
      { echo "exportd did not start:" >&2; cat "$work/$db-$((i + 1)).log" >&2; exit 1; }
  done
}
tasks_in_store() {
  curl -sf -H "$auth" "${bases[0]}/metrics" | awk '/^exportd_tasks\{/ { n += $2 } END { print n + 0 }'
}
# Milliseconds since the epoch of an RFC 3339 UTC time with milliseconds (jq filter).
ms='def ms: (sub("\\.[0-9]+Z$"; "Z") | fromdate) * 1000 + (capture("\\.(?<m>[0-9]+)Z$").m | tonumber);'

declare -A res  # res[<setup> <measure> <round>]
run_setup() {  # SETUP ROUND
  local setup=$1 r=$2 n workers conns before after i total ids=() st wrk_pids=()
  if [[ $setup == one ]]; then n=1 workers=3 conns=64; else n=3 workers=1 conns=22; fi
  start_instances "$n" "$workers" "${setup}_$r"
  # Six narrow exports created at once, round-robin over the instances.
  for i in $(seq 0 5); do
    ids+=("$(curl -sf -H "$auth" -H 'Content-Type: application/json' \
      "${bases[$((i % n))]}/v1/exports" -d '{"dataset": "narrow", "format": "csv"}' | jq -r .id)")
  done
  for id in "${ids[@]}"; do
    while :; do
      st=$(curl -sf -H "$auth" "${bases[0]}/v1/exports/$id" | jq -r .status)
      case $st in Succeeded) break ;; Failed | Cancelled) echo "export $id $st" >&2; exit 1 ;; esac
      sleep 0.2
    done
  done
  res["$setup exports $r"]=$(for id in "${ids[@]}"; do curl -sf -H "$auth" "${bases[0]}/v1/exports/$id"; done |
    jq -rs "$ms"' (map(.finished_at | ms) | max) - (map(.created_at | ms) | min) | . as $t
            | "\($t) \(6000000 * 1000 / $t | floor)"')
  # Creates, against every instance at once (after the exports: the small tasks they queue
  # are left to the instances' workers when they stop).
  before=$(tasks_in_store)
  for i in $(seq 0 $((n - 1))); do
    WRK_BODY=$no_rows wrk -t$((3 - n > 0 ? 2 : 1)) -c"$conns" -d"${seconds}s" \
      -s "$root/bench/wrk_post.lua" -H "$auth" "${bases[$i]}/v1/exports" >"$work/wrk-$i.txt" &
    wrk_pids+=($!)
  done
  wait "${wrk_pids[@]}"
  after=$(tasks_in_store)
  total=0
  for i in $(seq 0 $((n - 1))); do
    total=$(awk -v t="$total" '/Requests\/sec/ { printf "%.0f", t + $2 }' "$work/wrk-$i.txt")
  done
  res["$setup creates $r"]="$(((after - before) / seconds)) $total"
  stop_all
  echo "   $setup round $r: creates/s (durable, requests) ${res["$setup creates $r"]};" \
       "6 exports in ms, rows/s ${res["$setup exports $r"]}" >&2
}

for r in $(seq "$rounds"); do
  if ((r % 2)); then order="one three"; else order="three one"; fi
  for setup in $order; do run_setup "$setup" "$r"; done
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
field() { local r; for r in $(seq "$rounds"); do awk -v n="$3" '{ print $n }' <<<"${res["$2 $1 $r"]}"; done; }
cell() { echo "$(median $(field "$@")) ($(field "$@" | paste -sd, | sed 's/,/, /g'))"; }
ratios() {  # MEASURE FIELD: median of three/one per round
  local r out=()
  for r in $(seq "$rounds"); do
    out+=("$(awk -v a="$(awk -v n="$2" '{print $n}' <<<"${res["three $1 $r"]}")" \
                 -v b="$(awk -v n="$2" '{print $n}' <<<"${res["one $1 $r"]}")" \
                 'BEGIN { printf "%.2f", a / b }')")
  done
  median "${out[@]}"
}
echo
echo "Medians of $rounds rounds (every round's value in parentheses); three/one = median of the per-round ratios."
echo
echo "| measure | 1 instance, 3 workers | 3 instances, 1 worker each | three/one |"
echo "|---|---|---|---|"
echo "| durable creates/s | $(cell creates one 1) | $(cell creates three 1) | $(ratios creates 1) |"
echo "| POST requests/s (wrk) | $(cell creates one 2) | $(cell creates three 2) | $(ratios creates 2) |"
echo "| 6 narrow exports, first created to last finished, ms | $(cell exports one 1) | $(cell exports three 1) | $(ratios exports 1) |"
echo "| rows/s over the 6 exports | $(cell exports one 2) | $(cell exports three 2) | $(ratios exports 2) |"
