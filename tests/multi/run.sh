#!/usr/bin/env bash
# Three exportd instances on one PostgreSQL task store and one S3 bucket, one of them killed
# mid-export (and started again as a new instance), under a cluster-wide cap of 2 running tasks. ctest runs it (test
# multi_instance, fixtures postgres and s3rver); a user can run it by hand:
#   tests/multi/run.sh [EXPORTD_BINARY]        (default: build/debug/server/exportd)
# It uses the cluster named by EXPORTD_TEST_POSTGRES_URL (a schema of its own in it), or else
# starts a throwaway one with tests/postgres/cluster.sh; the S3 test server (tests/s3, installed
# by tests/s3/install.sh) on a free loopback port. Checks:
#   - GET /v1/instances lists the three instances;
#   - 30 exports created round-robin over them all Succeed, each exactly once (one "succeed"
#     event), and `exportd verify --source` passes for each;
#   - the tasks the killed instance was running (event lease_expired) are started again by the
#     others within the lease (3 s) plus the idle poll (2 s) and 2 s of slack after the kill;
#   - first starts follow creation order (FIFO across instances) except where a lease expired;
#   - max_running_cluster 2 over 3 instances of 3 workers: the store, polled throughout, never
#     holds more than 2 Processing tasks (and does hold 2);
#   - each export's terminal webhook reaches a receiver exactly once across the instances (a
#     delivery the killed instance had claimed but not recorded may come twice: documented);
#   - two every-minute schedules, fired by three running instances: every minute slot since
#     their creation has exactly one task (the first slot comes within a minute: the wait for it
#     overlaps the exports).
# Every wait has a deadline; nothing sleeps for a fixed time to let something happen.
# KEEP_MULTI_DIR=1 keeps the working directory (logs, configs, deliveries) for a look afterwards.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="$(realpath "${1:-$root/build/debug/server/exportd}")"
[[ -x "$bin" ]] || { echo "run.sh: no exportd at $bin" >&2; exit 2; }
for tool in curl jq node python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed" >&2; exit 2; }
done

lease=3
tasks=30
cap=2
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
  [[ -n "${KEEP_MULTI_DIR:-}" ]] && echo "kept $work" >&2 || rm -rf "$work"
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

# A webhook receiver: one line per delivery (X-Exportd-Delivery, X-Exportd-Event).
cat >"$work/receiver.py" <<'PY'
import http.server, os, sys, threading
port_file, log = sys.argv[1], sys.argv[2]
lock = threading.Lock()
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with lock, open(log, "a") as f:
            f.write("%s %s\n" % (self.headers.get("X-Exportd-Delivery"), self.headers.get("X-Exportd-Event")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
PY
: >"$work/deliveries"
python3 "$work/receiver.py" "$work/hook_port" "$work/deliveries" >"$work/receiver.log" 2>&1 &
pids+=($!)
wait_for 10 "the webhook receiver starts" test -s "$work/hook_port"
hook="http://127.0.0.1:$(cat "$work/hook_port")/hook"

# Each export reads 1,000 rows at 1,500 rows/s in files of 250: at least 0.67 s, four files. Three
# workers per instance, at most two tasks running in the whole cluster.
cat >"$work/config.json" <<JSON
{ "workers": 3, "max_running_cluster": $cap, "lease_seconds": $lease, "demo_rows": 1000,
  "max_rows_per_second": 1500, "max_connections_per_client": 0,
  "webhook_allowlist": ["127.0.0.0/8"],
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
    --log-level info >>"$work/exportd$i.log" 2>&1 &
  inst_pid[$i]=$!
  pids+=($!)
  base[$i]="http://127.0.0.1:$port"
}
ready() { curl -sf "${base[$1]}/readyz" >/dev/null; }
sql() { psql "$store_url" -qAtc "$1"; }
t0=$(now_ms)
start_instance 0
wait_for 30 "instance 0 is ready" ready 0
# Two every-minute schedules, made before the other two instances start so that all three fire
# them from the first slot on.
declare -a schedules
for name in alpha beta; do
  sch=$(curl -sf -H "$auth" -H 'Content-Type: application/json' "${base[0]}/v1/schedules" -d \
    "{\"name\": \"$name\", \"cron\": \"* * * * *\", \"time_zone\": \"UTC\",
      \"request\": {\"dataset\": \"samples\", \"format\": \"csv\", \"max_rows_per_file\": 500}}" |
    jq -r .id)
  [[ -n "$sch" && "$sch" != null ]] || fail "create schedule $name"
  schedules+=("$sch")
done
schedules_at=$(now_ms)
for i in 1 2; do start_instance $i; done
for i in 1 2; do wait_for 30 "instance $i is ready" ready $i; done

# The number of Processing tasks in the store, polled until the end (the cap's proof).
: >"$work/processing"
(
  while [[ ! -e "$work/stop_watch" ]]; do
    sql "SELECT COUNT(*) FROM tasks WHERE state = 'Processing'" >>"$work/processing" 2>/dev/null || true
  done
) &
pids+=($!)
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
    -d "{\"dataset\": \"samples\", \"format\": \"csv\", \"max_rows_per_file\": 250,
         \"notify\": {\"webhook\": \"$hook\"}}" | jq -r .id)
  [[ -n "${task[$n]}" && "${task[$n]}" != null ]] || fail "create $n on instance $i"
done

# Kill -9 whichever instance first runs a task that has committed its first file and not its
# second, so at least 500 rows (a third of a second) are left to read; asked of the store, one
# query per poll, as the window is short. Under the cap the instances that hold its slots tend
# to keep them (whichever finishes a task claims the next at once), so the victim may be any of
# the three. It is started again at once (same data dir, new port, new id).
victim_mid_export() {
  local owner i
  owner=$(sql "SELECT lease_owner FROM tasks t WHERE state = 'Processing' AND (SELECT COUNT(*)
               FROM task_events e WHERE e.task_id = t.id AND e.type = 'checkpoint') = 1 LIMIT 1")
  [[ -n "$owner" ]] || return 1
  for i in 0 1 2; do [[ ${ids[$i]} == "$owner" ]] && v=$i && return 0; done
  return 1
}
v=""
wait_for 20 "an instance runs a task past its first file" victim_mid_export
kill -9 "${inst_pid[$v]}"
killed_at=$(now_ms)
wait "${inst_pid[$v]}" 2>/dev/null || true
# Deliveries the dead instance had claimed and not recorded: it may have sent them already, and
# another instance sends them again once the claim (60 s) expires.
at_risk=$(sql "SELECT task_id FROM notifications WHERE claimed_by = '${ids[$v]}' AND status = 'pending'")
echo "killed instance $v (${ids[$v]}) mid-export; $(wc -w <<<"$at_risk") unrecorded delivery claim(s)"
# Started again (a new instance: its old tasks wait for their leases like any dead instance's).
start_instance "$v"
wait_for 30 "instance $v is ready again" ready "$v"

terminal() {
  local n status
  for n in $(seq 0 $((tasks - 1))); do
    status=$(curl -sf -H "$auth" "${base[0]}/v1/exports/${task[$n]}" | jq -r .status) || return 1
    case $status in Succeeded | Failed | Cancelled) ;; *) return 1 ;; esac
  done
}
wait_for 45 "every export ends" terminal
echo "all $tasks exports ended $(($(now_ms) - killed_at)) ms after the kill"

# The cap: never more than $cap Processing at once, and reached.
touch "$work/stop_watch"
polls=$(wc -l <"$work/processing")
most=$(sort -n "$work/processing" | tail -1)
((polls > 20)) || fail "the store was polled only $polls times"
((most <= cap)) || fail "$most tasks Processing at once, over max_running_cluster $cap"
((most == cap)) || fail "never $cap tasks Processing at once: the cap was not exercised"
echo "max_running_cluster $cap: at most $most Processing over $polls polls of the store"

# Per task: status, succeed events, first start, and the first start after a lease expiry.
to_ms='(sub("\\.[0-9]+Z$"; "Z") | fromdate) * 1000 + (capture("\\.(?<ms>[0-9]+)Z$").ms | tonumber)'
resumed=0
max_resume=0
: >"$work/starts"
for n in $(seq 0 $((tasks - 1))); do
  id=${task[$n]}
  status=$(curl -sf -H "$auth" "${base[0]}/v1/exports/$id" | jq -r .status)
  [[ $status == Succeeded ]] || fail "task $id ended $status"
  events=$(curl -sf -H "$auth" "${base[0]}/v1/exports/$id/events")
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

# Notifications: every export's webhook arrived; once none is pending in the store no more can
# come; then each arrived exactly once (twice only for an unrecorded claim of the dead instance).
delivered_all() {
  local n
  for n in $(seq 0 $((tasks - 1))); do grep -q "^${task[$n]}-1 " "$work/deliveries" || return 1; done
}
limit=20
[[ -n "$at_risk" ]] && limit=80
wait_for $limit "every export's webhook arrives" delivered_all
none_pending() { [[ $(sql "SELECT COUNT(*) FROM notifications WHERE status = 'pending'") == 0 ]]; }
wait_for 80 "no delivery is pending in the store" none_pending
for n in $(seq 0 $((tasks - 1))); do
  id=${task[$n]}
  count=$(grep -c "^$id-1 export.succeeded$" "$work/deliveries" || true)
  allowed=1
  grep -qx "$id" <<<"$at_risk" && allowed=2
  ((count >= 1 && count <= allowed)) || fail "task $id: $count webhook deliveries"
done
echo "webhooks: $(wc -l <"$work/deliveries") deliveries for $tasks exports, each once"

# Schedules: wait until each has fired a slot (the first comes within a minute of their
# creation), then every minute slot since then has exactly one task.
fired() {
  local s
  for s in "${schedules[@]}"; do
    curl -sf -H "$auth" "${base[0]}/v1/schedules/$s" | jq -e '.last_run != null' >/dev/null || return 1
  done
}
wait_for $(((schedules_at + 75000 - $(now_ms)) / 1000 + 1)) "each schedule fires a slot" fired
checked_at=$(now_ms)
curl -sf -H "$auth" "${base[0]}/v1/exports?limit=200" |
  jq -r '.items[] | select(.schedule_id != null) | "\(.schedule_id) \(.tag | sub(".*slot="; ""))"' |
  sort >"$work/slots"
[[ -z $(uniq -d "$work/slots") ]] || fail "a slot fired twice: $(uniq -d "$work/slots")"
slot_ms() { jq -rn --arg t "$1" '$t | sub("\\.[0-9]+Z$"; "Z") | fromdate * 1000'; }
for s in "${schedules[@]}"; do
  # Every whole minute after the schedules were made, up to 2 s before the check.
  for ((m = (schedules_at / 60000 + 1) * 60000; m <= checked_at - 2000; m += 60000)); do
    found=0
    while read -r sid slot; do
      [[ $sid == "$s" && $(slot_ms "$slot") == "$m" ]] && found=1
    done <"$work/slots"
    ((found == 1)) || fail "schedule $s has no task for the slot at $m ms"
  done
done
echo "schedules: $(wc -l <"$work/slots") slot(s) fired by 3 instances, each once: $(cut -d' ' -f2 "$work/slots" | sort -u | tr '\n' ' ')"
echo "OK: $tasks exports on 3 instances, each Succeeded once and verified; FIFO starts; $(($(now_ms) - t0)) ms"
