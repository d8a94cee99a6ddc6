#!/usr/bin/env bash
# Durable creates/s (POST /v1/exports -> 202) on each task store, side by side in one run:
# SQLite (DATA_DIR/exportd.db) and PostgreSQL (a throwaway cluster of tests/postgres/cluster.sh,
# synchronous_commit on, its default). wrk with 64 connections for --seconds; each POST is a
# durable create of an export that finds no row (filter id < 0), so the one worker spends little.
#   bench/creates.sh [--binary PATH] [--seconds N]     (default: build-p/server/exportd, 10 s)
# Prints a markdown table: requests/s, p50/p99 latency and durable tasks/s (tasks in the store
# after the run / seconds).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/build-p/server/exportd"
seconds=10
while (($#)); do
  case "$1" in
    --binary) bin=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) sed -n '2,8p' "$0"; exit 2 ;;
  esac
done
[[ -x "$bin" ]] || { echo "no exportd at $bin (build it, or pass --binary)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
source "$root/bench/lib_exportd.sh"

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
bash "$root/tests/postgres/cluster.sh" start "$cluster" >/dev/null
pg_url=$(bash "$root/tests/postgres/cluster.sh" url "$cluster")

cat >"$work/config.json" <<'JSON'
{ "workers": 1, "demo_rows": 1000, "max_connections_per_client": 0 }
JSON
body='{"dataset": "samples", "format": "csv", "filter": {"id": {"lt": 0}}}'

tasks_in_store() {
  curl -sf -H "$srv_auth" "$srv_base/metrics" |
    awk '/^exportd_tasks\{/ { n += $2 } END { print n + 0 }'
}

echo "| store | requests/s | p50 | p99 | non-2xx | durable tasks/s |"
echo "|---|---|---|---|---|---|"
for store in sqlite postgres; do
  if [[ $store == postgres ]]; then export EXPORTD_TASK_STORE_URL=$pg_url; else unset EXPORTD_TASK_STORE_URL; fi
  start_exportd "$bin" "$work/config.json" "$work/data-$store" "$work/$store.log"
  before=$(tasks_in_store)
  out=$(WRK_BODY=$body wrk -t2 -c64 -d"${seconds}s" --latency -s "$root/bench/wrk_post.lua" \
        -H "$srv_auth" "$srv_base/v1/exports")
  after=$(tasks_in_store)
  stop_exportd
  rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  bad=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
  echo "| $store | $rps | $p50 | $p99 | ${bad:-0} | $(( (after - before) / seconds )) |"
done
