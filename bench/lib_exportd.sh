# Shared by bench/ab_export.sh and bench/incremental.sh (sourced, not run): start and stop an
# exportd binary on a fresh data dir and a free port, run one export and time it by the server's
# clock (created_at to finished_at, as bench/run.sh does).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_exportd BINARY CONFIG DATA_DIR LOG: sets srv_pid, srv_base, srv_auth.
start_exportd() {
  local bin=$1 config=$2 data=$3 log=$4 port key
  rm -rf "$data"
  mkdir -p "$data"
  port=$(free_port)
  key="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
  EXPORTD_BOOTSTRAP_KEY=$key "$bin" --config "$config" --data-dir "$data" \
    --listen "127.0.0.1:$port" --log-level warn >"$log" 2>&1 &
  srv_pid=$!
  srv_base="http://127.0.0.1:$port"
  srv_auth="Authorization: Bearer $key"
  for _ in $(seq 300); do curl -sf "$srv_base/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "exportd did not start:" >&2
  cat "$log" >&2
  return 1
}

# stop_exportd: stops the server start_exportd started, if any in this shell (a server started
# in a $(...) subshell is that subshell's to stop).
stop_exportd() {
  [[ -n ${srv_pid:-} ]] || return 0
  kill "$srv_pid" 2>/dev/null || true
  wait "$srv_pid" 2>/dev/null || true
}

# run_export BODY: waits for the task and prints "<ms> <status> <rows>". The time is the server's
# (created_at to finished_at), so how often this polls does not change it; a poll is one curl
# (no jq until the end) every 200 ms, because on a machine of two cores a poller that spends CPU
# slows down the export it times.
run_export() {
  local id task
  id=$(curl -sf -H "$srv_auth" -H 'Content-Type: application/json' "$srv_base/v1/exports" -d "$1" |
    jq -r .id)
  while :; do
    task=$(curl -sf -H "$srv_auth" "$srv_base/v1/exports/$id")
    [[ $task =~ \"status\":\"(Succeeded|Failed|Cancelled)\" ]] && break
    sleep 0.2
  done
  jq -r '[(((.finished_at | sub("\\.[0-9]+Z$"; "Z") | fromdate) * 1000
            + (.finished_at | capture("\\.(?<ms>[0-9]+)Z$").ms | tonumber))
           - ((.created_at | sub("\\.[0-9]+Z$"; "Z") | fromdate) * 1000
            + (.created_at | capture("\\.(?<ms>[0-9]+)Z$").ms | tonumber))), .status,
          .progress.rows] | @tsv' <<<"$task" | tr '\t' ' '
}

# median N...: the median of the numbers given.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
