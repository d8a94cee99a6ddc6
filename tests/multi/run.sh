#!/usr/bin/env bash
# Three exportd instances on one PostgreSQL task store and one S3 bucket, one of them killed
# mid-export. ctest runs it (test multi_instance, fixtures postgres and s3rver); a user can run it
# by hand:
#   tests/multi/run.sh [EXPORTD_BINARY]        (default: build/debug/server/exportd)
# It uses the cluster named by EXPORTD_TEST_POSTGRES_URL (a schema of its own in it), or else
# starts a throwaway one with tests/postgres/cluster.sh; the S3 test server (tests/s3, installed
# by tests/s3/install.sh) on a free loopback port. Checks:
#   - GET /v1/instances lists the three instances;
#   - 30 exports created round-robin over them all Succeed, each exactly once (one "succeed"
#     event), and `exportd verify --source` passes for each;
#   - the tasks the killed instance was running (event lease_expired) are started again by the
#     others within the lease (3 s) plus the idle poll (2 s) and 2 s of slack after the kill;
#   - first starts follow creation order (FIFO across instances) except where a lease expired.
# Every wait has a deadline; nothing sleeps for a fixed time to let something happen.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="$(realpath "${1:-$root/build/debug/server/exportd}")"
[[ -x "$bin" ]] || { echo "run.sh: no exportd at $bin" >&2; exit 2; }
for tool in curl jq node python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed" >&2; exit 2; }
done

lease=3
tasks=30
work="$(mktemp -d)"
chmod 755 "$work"  # a cluster started here runs as a server user that must enter it
pids=()
own_cluster=""
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [[ -n "$own_cluster" ]] && bash "$root/tests/postgres/cluster.sh" stop "$own_cluster" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }
# wait_for SECONDS WHAT COMMAND...: runs COMMAND every 50 ms until it succeeds or the deadline.
wait_for() {
  local limit=$1 what=$2 deadline
  shift 2
  deadline=$(($(now_ms) + limit * 1000))
  until "$@"; do
    (($(now_ms) < deadline)) || fail "$what: not within ${limit} s"
    sleep 0.05
  done
}

# PostgreSQL: the fixture's cluster (a schema of our own), or one of our own.
pg_url=${EXPORTD_TEST_POSTGRES_URL:-}
if [[ -z "$pg_url" ]]; then
  own_cluster="$work/pg"
  bash "$root/tests/postgres/cluster.sh" start "$own_cluster" >/dev/null
  pg_url=$(bash "$root/tests/postgres/cluster.sh" url "$own_cluster")
fi
schema="multi_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
psql "$pg_url" -qAtc "CREATE SCHEMA $schema" >/dev/null
case "$pg_url" in *\?*) sep='&' ;; *) sep='?' ;; esac
store_url="${pg_url}${sep}options=-csearch_path%3D${schema}"

# S3: the pinned test server, one bucket.
[[ -d "$root/tests/s3/node_modules/@20minutes/s3rver" ]] || bash "$root/tests/s3/install.sh"
s3_port=$(free_port)
mkdir -p "$work/s3"
node --openssl-legacy-provider "$root/tests/s3/s3rver.mjs" "$s3_port" "$work/s3" exports \
  >"$work/s3.log" 2>&1 &
pids+=($!)
wait_for 20 "the S3 test server starts" grep -q ready "$work/s3.log"

# Each export reads 3,000 rows at 1,500 rows/s in files of 300: about 2 s, ten files.
cat >"$work/config.json" <<JSON
{ "workers": 2, "lease_seconds": $lease, "demo_rows": 3000, "max_rows_per_second": 1500,
  "max_connections_per_client": 0,
  "storage": { "type": "s3", "endpoint": "http://127.0.0.1:$s3_port", "region": "us-east-1",
               "bucket": "exports", "prefix": "multi", "access_key_id": "S3RVER",
               "secret_access_key": "S3RVER" } }
JSON
key="multi-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
auth="Authorization: Bearer $key"
export EXPORTD_TASK_STORE_URL="$store_url" EXPORTD_BOOTSTRAP_KEY="$key"

declare -a base ids inst_pid
start_instance() {
  local i=$1 port
  port=$(free_port)
  "$bin" --config "$work/config.json" --data-dir "$work/data$i" --listen "127.0.0.1:$port" \
    --log-level info >"$work/exportd$i.log" 2>&1 &
  inst_pid[$i]=$!
  pids+=($!)
  base[$i]="http://127.0.0.1:$port"
}
ready() { curl -sf "${base[$1]}/readyz" >/dev/null; }
t0=$(now_ms)
for i in 0 1 2; do start_instance $i; done
for i in 0 1 2; do wait_for 30 "instance $i is ready" ready $i; done
for i in 0 1 2; do
  ids[$i]=$(sed -n 's/.*instance \(inst_[0-9a-z_]*\); leases.*/\1/p' "$work/exportd$i.log" | head -1)
  [[ -n "${ids[$i]}" ]] || fail "instance $i logged no id"
done
lists_all() {
  local listed
  listed=$(curl -sf -H "$auth" "${base[0]}/v1/instances" | jq -r '.items[].id') || return 1
  for i in 0 1 2; do grep -qx "${ids[$i]}" <<<"$listed" || return 1; done
}
wait_for 10 "GET /v1/instances lists the three instances" lists_all
echo "three instances ready in $(($(now_ms) - t0)) ms: ${ids[*]}"

# 30 exports, created one after the other, round-robin over the instances.
declare -a task
for n in $(seq 0 $((tasks - 1))); do
  i=$((n % 3))
  task[$n]=$(curl -sf -H "$auth" -H 'Content-Type: application/json' "${base[$i]}/v1/exports" \
    -d '{"dataset": "samples", "format": "csv", "max_rows_per_file": 300}' | jq -r .id)
  [[ -n "${task[$n]}" && "${task[$n]}" != null ]] || fail "create $n on instance $i"
done

# Kill -9 instance 2 once it runs a task that has written a file but not finished.
victim_mid_export() {
  local running id
  running=$(curl -sf -H "$auth" "${base[0]}/v1/instances" |
    jq -r --arg v "${ids[2]}" '.items[] | select(.id == $v) | .running[]') || return 1
  for id in $running; do
    curl -sf -H "$auth" "${base[0]}/v1/exports/$id/events" |
      jq -e 'any(.items[]; .type == "checkpoint")' >/dev/null && return 0
  done
  return 1
}
wait_for 20 "instance 2 runs a task past its first file" victim_mid_export
kill -9 "${inst_pid[2]}"
killed_at=$(now_ms)
wait "${inst_pid[2]}" 2>/dev/null || true
echo "killed instance 2 (${ids[2]}) mid-export"

terminal() {
  local n status
  for n in $(seq 0 $((tasks - 1))); do
    status=$(curl -sf -H "$auth" "${base[0]}/v1/exports/${task[$n]}" | jq -r .status) || return 1
    case $status in Succeeded | Failed | Cancelled) ;; *) return 1 ;; esac
  done
}
wait_for 45 "every export ends" terminal
echo "all $tasks exports ended $(($(now_ms) - killed_at)) ms after the kill"

# Per task: status, succeed events, first start, and the first start after a lease expiry.
to_ms='(sub("\\.[0-9]+Z$"; "Z") | fromdate) * 1000 + (capture("\\.(?<ms>[0-9]+)Z$").ms | tonumber)'
resumed=0
max_resume=0
: >"$work/starts"
for n in $(seq 0 $((tasks - 1))); do
  id=${task[$n]}
  status=$(curl -sf -H "$auth" "${base[1]}/v1/exports/$id" | jq -r .status)
  [[ $status == Succeeded ]] || fail "task $id ended $status"
  events=$(curl -sf -H "$auth" "${base[1]}/v1/exports/$id/events")
  succeeded=$(jq '[.items[] | select(.type == "succeed")] | length' <<<"$events")
  [[ $succeeded == 1 ]] || fail "task $id succeeded $succeeded times"
  first_start=$(jq "[.items[] | select(.type == \"start\") | .at | $to_ms] | min" <<<"$events")
  echo "$first_start $n" >>"$work/starts"
  expired=$(jq '[.items[] | select(.type == "lease_expired")] | length' <<<"$events")
  if ((expired > 0)); then
    restart=$(jq "[.items as \$e | (\$e | map(.type) | index(\"lease_expired\")) as \$x
                  | \$e[\$x:][] | select(.type == \"start\") | .at | $to_ms] | min" <<<"$events")
    delay=$((restart - killed_at))
    ((delay <= (lease + 4) * 1000)) || fail "task $id resumed $delay ms after the kill"
    ((delay > max_resume)) && max_resume=$delay
    resumed=$((resumed + 1))
  fi
  "$bin" verify "$id" --source --config "$work/config.json" --data-dir "$work/data0" \
    >"$work/verify.out" 2>&1 || { cat "$work/verify.out" >&2; fail "exportd verify $id"; }
done
((resumed > 0)) || fail "no task of the killed instance was resumed (no lease_expired event)"
echo "$resumed task(s) of the killed instance resumed by the others, the last $max_resume ms after the kill"

# FIFO: sorted by first start, creation numbers only go up, but for ties within 50 ms (claims
# that commit in another order than their clocks read) and tasks whose lease expired.
sort -n "$work/starts" | awk -v slack=50 '
  { at[NR] = $1; n[NR] = $2 }
  END {
    bad = 0
    for (i = 2; i <= NR; i++)
      for (j = 1; j < i; j++)
        if (n[j] > n[i] && at[i] - at[j] > slack) { print "task " n[j] " started before " n[i]; bad = 1 }
    exit bad
  }' || fail "starts are not in creation order"
echo "OK: $tasks exports on 3 instances, each Succeeded once and verified; FIFO starts; $(($(now_ms) - t0)) ms"
