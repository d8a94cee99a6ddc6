#!/usr/bin/env bash
# The two task stores side by side: SQLite (DATA_DIR/exportd.db) against PostgreSQL (a throwaway
# cluster of tests/postgres/cluster.sh, synchronous_commit on, its default), the same exportd
# binary on the same host, in rounds; each round runs both stores, in alternating order. Per store
# and round, on a fresh exportd (fresh data dir; a fresh database on the cluster):
#   1. export: the narrow bench dataset (1,000,000 rows x 20 columns) to CSV, timed by the task
#      itself (created_at to finished_at), as bench/run.sh times it;
#   2. seed: 200 small exports (a filter that finds no row), waited for until all finished;
#   3. get:  wrk GET /v1/exports/{id} of the finished narrow export (13 files listed);
#   4. list: wrk GET /v1/exports?limit=50 (the 50 newest of the 201 tasks);
#   5. creates: wrk POST /v1/exports (a filter that finds no row, so the worker spends little);
#      durable creates/s = tasks in the store after the run (GET /metrics) / seconds.
# wrk: 2 threads, 64 keep-alive connections (exportd's 64 HTTP threads, no per-address cap),
# --seconds each. Prints every round and the medians as markdown tables.
#   bench/stores.sh [--binary PATH] [--gen PATH] [--rounds N] [--seconds N] [--skip STAGES]
#     --binary   exportd (default build-p/server/exportd)
#     --gen      exportd_bench_gen, to make the narrow dataset when it is missing
#                (default: beside the binary, ../bench/exportd_bench_gen)
#     --rounds   default 3; --seconds default 10
#     --skip     comma list of export,get,list,creates
#     --pool     task_store.pool_size of the PostgreSQL runs (default 8, exportd's default)
# Data: $EXPORTD_BENCH_DIR or /tmp/exportd-bench (narrow.sqlite, 186 MB, as bench/run.sh makes).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/build-p/server/exportd"
gen=""
rounds=3
seconds=10
skip=""
pool=8
while (($#)); do
  case "$1" in
    --binary) bin=$2; shift 2 ;;
    --gen) gen=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --skip) skip=$2; shift 2 ;;
    --pool) pool=$2; shift 2 ;;
    *) sed -n '2,22p' "$0"; exit 2 ;;
  esac
done
[[ -x "$bin" ]] || { echo "no exportd at $bin (build it, or pass --binary)" >&2; exit 1; }
for tool in wrk jq curl python3; do
  command -v $tool >/dev/null || { echo "$tool is not installed" >&2; exit 1; }
done
skipped() { [[ ",$skip," == *",$1,"* ]]; }
source "$root/bench/lib_exportd.sh"

data=${EXPORTD_BENCH_DIR:-/tmp/exportd-bench}
mkdir -p "$data"
data=$(cd "$data" && pwd)
if ! skipped export && [[ ! -s "$data/narrow.sqlite" || ! -s "$data/narrow.config.json" ]]; then
  gen=${gen:-$(dirname "$bin")/../bench/exportd_bench_gen}
  [[ -x "$gen" ]] || { echo "no $data/narrow.sqlite and no exportd_bench_gen at $gen" >&2; exit 1; }
  echo "== generate the narrow dataset in $data" >&2
  "$gen" narrow --dir "$data" >&2
fi

srv_pid=""
work=$(mktemp -d)
cluster="$work/pg"
chmod 755 "$work"  # the cluster's server user must enter it
cleanup() {
  stop_exportd
  bash "$root/tests/postgres/cluster.sh" stop "$cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
echo "== $(bash "$root/tests/postgres/cluster.sh" start "$cluster")" >&2
pg_url=$(bash "$root/tests/postgres/cluster.sh" url "$cluster")
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
psql_do() { "$pgbin/psql" "$pg_url" -qAtc "$1"; }
echo "== synchronous_commit $(psql_do 'SHOW synchronous_commit'), fsync $(psql_do 'SHOW fsync')" >&2

# One worker; the narrow dataset (its path made absolute); no per-address connection cap for
# wrk's 64 connections from 127.0.0.1.
if skipped export; then
  echo '{"workers": 1, "demo_rows": 1000, "max_connections_per_client": 0}' >"$work/config.json"
else
  jq --arg dir "$data" '{workers: 1, demo_rows: 1000, max_connections_per_client: 0,
      datasets: [.datasets[] | .source.path = ($dir + "/" + .source.path)]}' \
    "$data/narrow.config.json" >"$work/config.json"
  cat "$data/narrow.sqlite" >/dev/null  # into the page cache, for every run alike
fi
# The small exports: a filter that finds no row, on the narrow dataset (or the demo dataset
# when the export stage is skipped and no dataset is configured).
small=$(skipped export && echo samples || echo narrow)
no_rows='{"dataset": "'$small'", "format": "csv", "filter": {"id": {"lt": 0}}}'

# Counts of tasks by state from /metrics: "<all> <unfinished>".
task_counts() {
  curl -sf -H "$srv_auth" "$srv_base/metrics" | awk '/^exportd_tasks\{/ {
      n += $2; if ($0 ~ /"(Pending|Processing|Paused)"/) open += $2 } END { print n + 0, open + 0 }'
}
wait_idle() {
  local _ open
  for _ in $(seq 600); do
    read -r _ open < <(task_counts)
    ((open == 0)) && return 0
    sleep 0.1
  done
  echo "tasks still running after 60 s" >&2
  return 1
}
# wrk_line ARGS...: "req/s p50_ms p99_ms non2xx" of one wrk run.
wrk_line() {
  wrk -t2 -c64 -d"${seconds}s" --timeout 10s --latency "$@" >"$work/wrk.txt"
  python3 "$root/bench/parse_wrk.py" "$work/wrk.txt"
}

declare -A res  # res[<store> <measure> <round>] = value
run_store() {  # STORE ROUND
  local store=$1 r=$2 url out before after codes
  if [[ $store == postgres ]]; then
    psql_do "CREATE DATABASE bench_$r"
    jq --arg url "${pg_url/\/postgres\?//bench_$r?}" --argjson pool "$pool" \
      '.task_store = {type: "postgres", url: $url, pool_size: $pool}' "$work/config.json" \
      >"$work/config-postgres.json"
  else
    cp "$work/config.json" "$work/config-sqlite.json"
  fi
  start_exportd "$bin" "$work/config-$store.json" "$work/data-$store-$r" "$work/$store-$r.log"
  if ! skipped export; then
    read -r ms status rows < <(run_export '{"dataset": "narrow", "format": "csv"}')
    [[ $status == Succeeded ]] || { echo "narrow export $status" >&2; exit 1; }
    res["$store export $r"]=$ms
    narrow_id=$(curl -sf -H "$srv_auth" "$srv_base/v1/exports?limit=1" | jq -r '.items[0].id')
  fi
  # 200 small exports in one curl process (its options apply to every URL), then let the
  # worker finish them, so the reads below do not share the CPU with a queue being drained.
  url="$srv_base/v1/exports"
  codes=$(curl -sS -w '%{http_code}\n' -H "$srv_auth" -H 'Content-Type: application/json' \
    -d "$no_rows" $(for _ in $(seq 200); do echo "-o /dev/null $url"; done) | grep -c '^202$' || true)
  ((codes == 200)) || { echo "seeding: $codes of 200 creates answered 202" >&2; exit 1; }
  wait_idle
  if ! skipped get; then
    get_id=${narrow_id:-$(curl -sf -H "$srv_auth" "$srv_base/v1/exports?limit=1" | jq -r '.items[0].id')}
    res["$store get $r"]=$(wrk_line -H "$srv_auth" "$srv_base/v1/exports/$get_id")
  fi
  if ! skipped list; then
    res["$store list $r"]=$(wrk_line -H "$srv_auth" "$srv_base/v1/exports?limit=50")
  fi
  if ! skipped creates; then
    read -r before _ < <(task_counts)
    out=$(WRK_BODY=$no_rows wrk_line -s "$root/bench/wrk_post.lua" -H "$srv_auth" "$url")
    read -r after _ < <(task_counts)
    res["$store creates $r"]="$out $(((after - before) / seconds))"
  fi
  stop_exportd
  echo "   $store round $r: export ${res["$store export $r"]:--} ms; get ${res["$store get $r"]:--};" \
       "list ${res["$store list $r"]:--}; creates ${res["$store creates $r"]:--}" >&2
}

for r in $(seq "$rounds"); do
  if ((r % 2)); then order="sqlite postgres"; else order="postgres sqlite"; fi
  for store in $order; do run_store "$store" "$r"; done
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# field MEASURE STORE N: the N-th field (1-based) of each round's value, one per line.
field() { local r; for r in $(seq "$rounds"); do awk -v n="$3" '{ print $n }' <<<"${res["$2 $1 $r"]:-}"; done; }
med() { median $(field "$@"); }
all() { field "$@" | paste -sd, | sed 's/,/, /g'; }
ratio() { awk "BEGIN{ if ($2 > 0) printf \"%.2f\", $1/$2; else print \"-\" }"; }

echo
echo "Medians of $rounds rounds (each round: both stores, alternating order), wrk -t2 -c64 for ${seconds} s;"
echo "the values of every round in parentheses. PostgreSQL/SQLite is the median of the per-round ratios."
echo
echo "| measure | SQLite | PostgreSQL | PostgreSQL/SQLite |"
echo "|---|---|---|---|"
per_round_ratio() {  # MEASURE FIELD
  local r ratios=()
  for r in $(seq "$rounds"); do
    ratios+=("$(ratio "$(awk -v n="$2" '{print $n}' <<<"${res["postgres $1 $r"]}")" \
                      "$(awk -v n="$2" '{print $n}' <<<"${res["sqlite $1 $r"]}")")")
  done
  median "${ratios[@]}"
}
row() {  # LABEL MEASURE FIELD
  skipped "$2" && return 0
  echo "| $1 | $(med "$2" sqlite "$3") ($(all "$2" sqlite "$3")) |" \
       "$(med "$2" postgres "$3") ($(all "$2" postgres "$3")) | $(per_round_ratio "$2" "$3") |"
}
row "durable creates/s (POST /v1/exports, tasks in the store / s)" creates 5
row "POST /v1/exports requests/s" creates 1
row "POST p50 ms" creates 2
row "POST p99 ms" creates 3
row "GET /v1/exports/{id} req/s" get 1
row "GET /v1/exports/{id} p99 ms" get 3
row "GET /v1/exports?limit=50 req/s" list 1
row "GET /v1/exports?limit=50 p99 ms" list 3
row "narrow export, 1,000,000 rows to CSV, ms" export 1
bad=$(for k in "${!res[@]}"; do [[ $k == *" export "* ]] || awk '{ print $4 }' <<<"${res[$k]}"; done |
      grep -cv '^0$' || true)
echo
echo "wrk runs with non-2xx answers or socket errors: $bad"
