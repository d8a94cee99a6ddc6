#!/usr/bin/env bash
# The benchmark driver of issue 5 (see bench/README.md). Builds the Release exportd and the bench
# tools in build-p, generates the data once, starts the real exportd on its own data dir and a free
# port, and in the same run measures, on the same data:
#   - exportd end to end (POST /v1/exports -> Succeeded): wall time, rows/s, MB/s, peak RSS
#   - sqlite3 -csv (narrow), DuckDB COPY TO csv (@duckdb/node-api), the Node.js exporter
#   - output identical across runs (sha256) and equal in content across formats and tools
#   - 3 concurrent exports vs one alone
#   - wrk against GET /v1/exports/{id} and POST /v1/exports, next to a bare cpp-httplib server
#   - the Google Benchmark micro-benchmarks
# and prints medians and ratios (and writes them to $DIR/results/<time>/summary.md).
#
#   bench/run.sh [options]
#     --runs N          runs per measurement, median reported (default 3; env RUNS)
#     --node-runs N     runs of the Node.js exporter on the wide dense data (default: --runs)
#     --dir DIR         data and results (default $EXPORTD_BENCH_DIR or /tmp/exportd-bench)
#     --datasets LIST   comma list of wide_dense,wide_sparse,narrow (default all three)
#     --skip STAGES     comma list of: node,duckdb,sqlite3,check,formats,concurrent,api,micro
#     --wrk-seconds S   duration of each wrk run (default 10)
#     --regen           regenerate the data even if present
#     --no-build        use the binaries already built (no cmake)
#   env: EXPORTD_BUILD_DIR (default build-p), EXPORTD_BIN (the exportd to measure, default
#        $EXPORTD_BUILD_DIR/server/exportd: e.g. a copy of the binary before a change)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
node_runs=""
dir=${EXPORTD_BENCH_DIR:-/tmp/exportd-bench}
datasets="wide_dense,wide_sparse,narrow"
skip=""
wrk_seconds=10
regen=0
no_build=0
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --node-runs) node_runs=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --datasets) datasets=$2; shift 2 ;;
    --skip) skip=$2; shift 2 ;;
    --wrk-seconds) wrk_seconds=$2; shift 2 ;;
    --regen) regen=1; shift ;;
    --no-build) no_build=1; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
node_runs=${node_runs:-$runs}
skipped() { [[ ",$skip," == *",$1,"* ]]; }
wanted() { [[ ",$datasets," == *",$1,"* ]]; }

build=${EXPORTD_BUILD_DIR:-$root/build-p}
if ((!no_build)); then
  echo "== build (Release, $build)"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEXPORTD_BUILD_TESTS=OFF \
    -DEXPORTD_BUILD_BENCH=ON >/dev/null
  cmake --build "$build" --target bench_tools >/dev/null
fi
bin=${EXPORTD_BIN:-$build/server/exportd}
echo "== exportd under test: $bin"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
results="$dir/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$results"
summary="$results/summary.md"
say() { printf '%s\n' "$*" | tee -a "$summary"; }

# ---- data ---------------------------------------------------------------------------------
declare -A rows_of=([wide_dense]=40000 [wide_sparse]=40000 [narrow]=1000000)
for ds in wide_dense wide_sparse narrow; do
  wanted "$ds" || continue
  if ((regen)) || [[ ! -s "$dir/$ds.sqlite" || ! -s "$dir/$ds.config.json" ]]; then
    echo "== generate $ds"
    start=$EPOCHREALTIME
    "$build/bench/exportd_bench_gen" "${ds/_/-}" --dir "$dir"
    echo "   $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME-$start}") s, $(du -m "$dir/$ds.sqlite" | cut -f1) MB"
  fi
done

# ---- helpers ------------------------------------------------------------------------------
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk "BEGIN{ if ($2 > 0) printf \"%.2f\", $1/$2; else print \"-\" }"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { echo "$EPOCHREALTIME"; }
elapsed_ms() { awk "BEGIN{printf \"%.0f\", ($2-$1)*1000}"; }

# Runs a command, prints "wall_ms maxrss_kb" (GNU time when installed, else wall time only).
timed() {
  local t0 t1 rss=0
  t0=$(now)
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f '%M' -o "$results/.rss" "$@"
    rss=$(tail -1 "$results/.rss")
  else
    "$@"
  fi
  t1=$(now)
  echo "$(elapsed_ms "$t0" "$t1") $rss"
}

# ---- exportd --------------------------------------------------------------------------------
srv_dir="$dir/server"
rm -rf "$srv_dir"
mkdir -p "$srv_dir"
port=$(free_port)
key="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
# One config with every generated dataset (their sqlite paths are relative to $dir). wrk's 64
# connections all come from 127.0.0.1: no per-address connection cap (max_connections_per_client).
jq -s '{datasets: [.[].datasets[]], max_connections_per_client: 0}' $(for ds in wide_dense wide_sparse narrow; do
  wanted "$ds" && echo "$dir/$ds.config.json"; done) >"$dir/bench.config.json"
EXPORTD_BOOTSTRAP_KEY=$key "$bin" --config "$dir/bench.config.json" --data-dir "$srv_dir" \
  --listen "127.0.0.1:$port" --log-level warn >"$results/exportd.log" 2>&1 &
pid=$!
bare_pid=""
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [[ -n "$bare_pid" ]]; then kill "$bare_pid" 2>/dev/null || true; wait "$bare_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
base="http://127.0.0.1:$port"
auth="Authorization: Bearer $key"
for _ in $(seq 300); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$base/healthz" >/dev/null || { echo "exportd did not start:"; cat "$results/exportd.log"; exit 1; }

post_export() {  # BODY -> task id
  curl -sf -H "$auth" -H 'Content-Type: application/json' "$base/v1/exports" -d "$1" | jq -r .id
}
# Waits for a task to finish; sets status/st_json. Polls every 50 ms with one curl and bash
# builtins only, also sampling exportd's VmRSS into peak_rss_kb: on 2 cores a poller that forks
# curl, jq and awk every 10 ms took ~1 s of CPU from a 6 s export. The time of an export is
# taken from the task itself (task_ms), so polling less often does not lengthen it.
wait_task() {
  local id=$1 key value _
  while :; do
    st_json=$(curl -sf -H "$auth" "$base/v1/exports/$id")
    while read -r key value _; do
      case $key in
        VmRSS:) ((value > peak_rss_kb)) && peak_rss_kb=$value ;;
        RssAnon:) ((value > peak_anon_kb)) && peak_anon_kb=$value ;;
      esac
    done <"/proc/$pid/status"
    case "$st_json" in
      *'"status":"Succeeded"'*) status=Succeeded; return 0 ;;
      *'"status":"Failed"'*|*'"status":"Cancelled"'*)
        status=failed; echo "export $id did not succeed: $st_json" >&2; return 1 ;;
    esac
    sleep 0.05
  done
}
# Milliseconds from the earliest created_at to the latest finished_at of these tasks, by the
# server's clock: POST accepted -> Succeeded stored.
task_ms() {  # ID...
  local id
  for id in "$@"; do curl -sf -H "$auth" "$base/v1/exports/$id"; echo; done | python3 -c '
import json, sys
from datetime import datetime
def t(s): return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
tasks = [json.loads(line) for line in sys.stdin if line.strip()]
print(round((max(t(x["finished_at"]) for x in tasks) - min(t(x["created_at"]) for x in tasks)) * 1000))'
}
reset_hwm() { echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$pid/status"; }
# CPU time (user + system, all threads) exportd has used so far, in ms: robust to the machine's
# load where wall time is not (a busy machine stretches wall time, not the work done).
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.0f", ($14 + $15) * 1000 / hz}' "/proc/$pid/stat"; }
# Downloads the parts of a task through its links (files at rest are encrypted) into
# $results/parts/ID/ and prints their paths in order.
task_files() {  # ID
  local out="$results/parts/$1" name url
  mkdir -p "$out"
  curl -sf -H "$auth" "$base/v1/exports/$1" | jq -r '.files[] | "\(.name) \(.url)"' |
    while read -r name url; do
      curl -sf -o "$out/$name" "$url" && echo "$out/$name"
    done
}

# Concatenates the parts of an export into one CSV (header once) for content checks.
join_parts() {  # ID OUT
  local first=1 f
  : >"$2"
  for f in $(task_files "$1"); do
    if ((first)); then cat "$f" >>"$2"; first=0; else tail -n +2 "$f" >>"$2"; fi
  done
}

# One timed export through the API. Sets e_ms e_rows e_bytes e_rss_kb e_sha e_id.
export_once() {  # DATASET FORMAT
  local body="{\"dataset\": \"$1\", \"format\": \"$2\"}" t0 t1
  peak_rss_kb=0; peak_anon_kb=0
  reset_hwm
  local c0; c0=$(cpu_ms)
  t0=$(now)
  e_id=$(post_export "$body")
  wait_task "$e_id"
  e_ms=$(task_ms "$e_id")
  e_cpu_ms=$(( $(cpu_ms) - c0 ))
  e_rows=$(jq -r .progress.rows <<<"$st_json")
  e_bytes=$(jq '[.files[].bytes] | add' <<<"$st_json")
  e_rss_kb=$(hwm_kb)
  ((peak_rss_kb > e_rss_kb)) && e_rss_kb=$peak_rss_kb
  e_anon_kb=$peak_anon_kb
  e_sha=$(jq -r '[.files[].sha256] | join(",")' <<<"$st_json" | sha256sum | cut -c1-16)
}
delete_task() { curl -sf -X DELETE -H "$auth" "$base/v1/exports/$1" >/dev/null || true; }

declare -A med_ms med_rss med_mbs med_rows base_ms
say "# exportd benchmarks $(date -u +%FT%TZ)"
say ""
say "machine: $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), $(free -g | awk '/Mem:/ {print $2}') GB RAM, load average at start: $(cut -d' ' -f1-3 /proc/loadavg); runs per figure: $runs"
say ""
say "## exportd end to end (POST -> Succeeded), CSV"
say ""
say "peak RSS = VmHWM (reset before each export through /proc/PID/clear_refs), which counts the pages of"
say "any SQLite file pages exportd maps (none since round 1: PRAGMA mmap_size = 0); anon = the highest RssAnon sampled while"
say "polling (every ~50 ms): the process's own memory. Times are the server's: created_at to finished_at."
say ""
say "| dataset | rows | MB | median ms | CPU ms (median) | rows/s | MB/s | peak RSS MB | peak anon MB | runs (ms) | identical across runs |"
say "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
declare -A keep_id
for ds in wide_dense wide_sparse narrow; do
  wanted "$ds" || continue
  times=(); cpus=(); rsss=(); anons=(); shas=()
  for i in $(seq "$runs"); do
    export_once "$ds" csv
    times+=("$e_ms"); cpus+=("$e_cpu_ms"); rsss+=("$e_rss_kb"); anons+=("$e_anon_kb"); shas+=("$e_sha")
    echo "   exportd $ds run $i: $e_ms ms (CPU $e_cpu_ms ms), $e_rows rows, $e_bytes bytes, peak RSS $((e_rss_kb / 1024)) MB (anon $((e_anon_kb / 1024)) MB), sha $e_sha" >&2
    if ((i < runs)); then delete_task "$e_id"; fi
  done
  keep_id[$ds]=$e_id
  m=$(median "${times[@]}")
  med_ms[$ds]=$m
  med_rss[$ds]=$(( $(median "${rsss[@]}") / 1024 ))
  med_rows[$ds]=$e_rows
  same=$([[ $(printf '%s\n' "${shas[@]}" | sort -u | wc -l) == 1 ]] && echo yes || echo NO)
  say "| $ds | $e_rows | $((e_bytes / 1000000)) | $m | $(median "${cpus[@]}") | $(awk "BEGIN{printf \"%.0f\", $e_rows*1000/$m}") | $(awk "BEGIN{printf \"%.0f\", $e_bytes/1000/$m}") | ${med_rss[$ds]} | $(( $(median "${anons[@]}") / 1024 )) | ${times[*]} | $same |"
done

# ---- baselines on the same data -----------------------------------------------------------
say ""
say "## Baselines on the same data (process wall time; exportd/baseline < 1 means exportd is faster)"
say ""
say "| dataset | tool | median ms | peak RSS MB | runs (ms) | exportd / tool | content equal to exportd's |"
say "|---|---|---:|---:|---|---:|---|"
node_dir="$root/bench/node"
have_node_deps=0
if [[ -d "$node_dir/node_modules/better-sqlite3" ]] || (cd "$node_dir" && npm_config_build_from_source=true npm ci --no-audit --no-fund >"$results/npm.log" 2>&1); then
  have_node_deps=1
fi
check_content() {  # A B -> "yes" / "NO (...)"
  if skipped check; then echo "not checked"; return; fi
  python3 "$root/bench/check_csv.py" "$1" "$2" 2>&1 | tail -1
}
baseline_row() {  # DATASET TOOL OUTFILE REFCSV CMD...
  local ds=$1 tool=$2 out=$3 ref=$4 n=$runs; shift 4
  [[ $tool == node && $ds == wide_dense ]] && n=$node_runs
  local times=() rsss=() r
  for i in $(seq "$n"); do
    r=$(timed "$@")
    times+=("${r% *}"); rsss+=("${r#* }")
    echo "   $tool $ds run $i: ${r% *} ms, peak RSS $(( ${r#* } / 1024 )) MB" >&2
  done
  local m; m=$(median "${times[@]}")
  base_ms[$ds,$tool]=$m
  local eq; eq=$(check_content "$ref" "$out")
  say "| $ds | $tool | $m | $(( $(median "${rsss[@]}") / 1024 )) | ${times[*]} | $(ratio "${med_ms[$ds]}" "$m") | $eq |"
}
for ds in wide_dense wide_sparse narrow; do
  wanted "$ds" || continue
  ref="$dir/exportd_$ds.csv"
  join_parts "${keep_id[$ds]}" "$ref"
  if [[ $ds == narrow ]] && ! skipped sqlite3; then
    baseline_row "$ds" "sqlite3 -csv" "$dir/sqlite3_$ds.csv" "$ref" \
      bash -c "sqlite3 -csv -header '$dir/$ds.sqlite' 'SELECT * FROM $ds ORDER BY id' >'$dir/sqlite3_$ds.csv'"
  fi
  if ! skipped node; then
    if ((have_node_deps)); then
      doc_args=()
      [[ $ds == wide_* ]] && doc_args=(doc "$dir/wide_fields.txt")
      baseline_row "$ds" node "$dir/node_$ds.csv" "$ref" \
        node "$node_dir/export_csv.js" "$dir/$ds.sqlite" "$ds" "$dir/node_$ds.csv" "${doc_args[@]}"
    else
      say "| $ds | node | skipped: npm ci failed (see $results/npm.log) | | | | |"
    fi
  fi
  if ! skipped duckdb; then
    if ((have_node_deps)) && [[ -d "$node_dir/node_modules/@duckdb/node-api" ]]; then
      duck="$dir/$ds.duckdb"
      if [[ ! -s $duck ]]; then
        src=$ref
        [[ $ds == narrow && -s "$dir/sqlite3_$ds.csv" ]] && src="$dir/sqlite3_$ds.csv"
        echo "   loading $ds into DuckDB (setup, not timed)" >&2
        node "$node_dir/duckdb_csv.js" load "$duck" "$ds" "$src" $([[ $ds == wide_* ]] && echo all_varchar)
      fi
      baseline_row "$ds" duckdb "$dir/duckdb_$ds.csv" "$ref" \
        node "$node_dir/duckdb_csv.js" export "$duck" "$ds" "$dir/duckdb_$ds.csv"
    else
      say "| $ds | duckdb | skipped: no DuckDB (apt-cache policy duckdb: not in Debian 12; npm @duckdb/node-api not installed) | | | | |"
    fi
  fi
done

# ---- formats: same content in CSV, TSV, JSON, NDJSON ----------------------------------------
if ! skipped formats; then
  say ""
  say "## Other formats (one run each; content compared with the CSV export)"
  say ""
  say "| dataset | format | ms | MB | peak RSS MB | peak anon MB | content equal to CSV |"
  say "|---|---|---:|---:|---:|---:|---|"
  for ds in wide_dense wide_sparse narrow; do
    wanted "$ds" || continue
    for fmt in tsv ndjson json; do
      export_once "$ds" "$fmt"
      eq=$(skipped check && echo "not checked" || python3 "$root/bench/check_csv.py" "$dir/exportd_$ds.csv" --format "$fmt" --parts "$(task_files "$e_id" | tr '\n' ' ')" 2>&1 | tail -1)
      say "| $ds | $fmt | $e_ms | $((e_bytes / 1000000)) | $((e_rss_kb / 1024)) | $((e_anon_kb / 1024)) | $eq |"
      delete_task "$e_id"
    done
  done
fi

# ---- 3 concurrent exports ------------------------------------------------------------------
if ! skipped concurrent; then
  say ""
  say "## Three concurrent exports (workers = 3) vs one alone"
  say ""
  say "| dataset | one alone: rows/s | three at once: total ms | total rows/s | ratio | peak RSS MB | peak anon MB |"
  say "|---|---:|---:|---:|---:|---:|---:|"
  for ds in wide_dense narrow; do
    wanted "$ds" || continue
    peak_rss_kb=0; peak_anon_kb=0; reset_hwm
    ids=("$(post_export "{\"dataset\": \"$ds\", \"format\": \"csv\"}")" \
         "$(post_export "{\"dataset\": \"$ds\", \"format\": \"csv\"}")" \
         "$(post_export "{\"dataset\": \"$ds\", \"format\": \"csv\"}")")
    for id in "${ids[@]}"; do wait_task "$id"; done
    ms=$(task_ms "${ids[@]}")
    rss=$(hwm_kb); ((peak_rss_kb > rss)) && rss=$peak_rss_kb
    one=$(awk "BEGIN{printf \"%.0f\", ${med_rows[$ds]}*1000/${med_ms[$ds]}}")
    three=$(awk "BEGIN{printf \"%.0f\", 3*${med_rows[$ds]}*1000/$ms}")
    say "| $ds | $one | $ms | $three | $(ratio "$three" "$one") | $((rss / 1024)) | $((peak_anon_kb / 1024)) |"
    for id in "${ids[@]}"; do delete_task "$id"; done
  done
fi
rm -rf "$results/parts"

# ---- API load ------------------------------------------------------------------------------
if ! skipped api && command -v wrk >/dev/null; then
  say ""
  say "## API load: wrk, 64 connections, 2 threads, ${wrk_seconds} s a run"
  say ""
  bare_port=$(free_port)
  "$build/bench/exportd_bench_bare_httplib" "$bare_port" 64 >"$results/bare.log" 2>&1 &
  bare_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$bare_port/x" >/dev/null && break; sleep 0.05; done
  wrk_run() {  # NAME URL [wrk args...] -> "req/s p50 p99 non2xx"
    local name=$1 url=$2; shift 2
    wrk -t2 -c64 -d"${wrk_seconds}s" --latency "$@" "$url" >"$results/wrk_$name.txt" 2>&1
    python3 "$root/bench/parse_wrk.py" "$results/wrk_$name.txt"
  }
  # A zero-row export, so the queue drains as fast as tasks are created (each still commits a file,
  # a manifest and its task-store transitions).
  post_body='{"dataset": "narrow", "format": "csv", "filter": {"id": {"lt": 0}}}'
  id=${keep_id[narrow]:-${keep_id[wide_sparse]:-${keep_id[wide_dense]}}}
  # Context for the ratio: the narrow task's body lists 13 files with signed links, 55 times the
  # bare server's 120 bytes. The same bare server padded to that size, and a GET of a one-file
  # task (wide dense), show how much of the gap is the size of the answer.
  get_bytes=$(curl -sf -H "$auth" "$base/v1/exports/$id" | wc -c)
  padded_port=$(free_port)
  "$build/bench/exportd_bench_bare_httplib" "$padded_port" 64 "$get_bytes" >"$results/bare_padded.log" 2>&1 &
  padded_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$padded_port/x" >/dev/null && break; sleep 0.05; done
  one_file_id=${keep_id[wide_dense]:-}
  [ "$one_file_id" = "$id" ] && one_file_id=""
  [ -n "$one_file_id" ] && one_file_bytes=$(curl -sf -H "$auth" "$base/v1/exports/$one_file_id" | wc -c)
  # The floor of the machine for this load (bench/floor_epoll.cc: epoll loops, not a server) with
  # the same body: what wrk, loopback and the scheduler cost at 64 connections without a
  # thread per connection.
  floor_port=$(free_port)
  "$build/bench/exportd_bench_floor_epoll" "$floor_port" 2 "$get_bytes" >"$results/floor_epoll.log" 2>&1 &
  floor_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$floor_port/x" >/dev/null && break; sleep 0.05; done
  # GET in $runs rounds, every server once per round in a new random order (the server measured
  # after another inherits its wake): the host's noise moves p99 by a factor of 2 from one run to
  # the next, so medians over rounds, and ratios within a round.
  declare -A get_rps=() get_p50=() get_p99=() get_ratio=() get_bad=()
  get_targets=(bare exportd padded floor)
  [ -n "$one_file_id" ] && get_targets+=(one_file)
  for r in $(seq "$runs"); do
    declare -A round_rps=()
    for t in $(printf '%s\n' "${get_targets[@]}" | shuf); do
      case $t in
        bare) read -r rps p50 p99 bad < <(wrk_run "bare_get_$r" "http://127.0.0.1:$bare_port/v1/exports/$id") ;;
        exportd) read -r rps p50 p99 bad < <(wrk_run "exportd_get_$r" "$base/v1/exports/$id" -H "$auth") ;;
        padded) read -r rps p50 p99 bad < <(wrk_run "bare_get_padded_$r" "http://127.0.0.1:$padded_port/v1/exports/$id") ;;
        floor) read -r rps p50 p99 bad < <(wrk_run "floor_epoll_get_$r" "http://127.0.0.1:$floor_port/v1/exports/$id") ;;
        one_file) read -r rps p50 p99 bad < <(wrk_run "exportd_get_one_file_$r" "$base/v1/exports/$one_file_id" -H "$auth") ;;
      esac
      round_rps[$t]=$rps
      get_rps[$t]+="$rps " get_p50[$t]+="$p50 " get_p99[$t]+="$p99 " get_bad[$t]+="$bad "
    done
    for t in "${get_targets[@]}"; do get_ratio[$t]+="$(ratio "${round_rps[$t]}" "${round_rps[bare]}") "; done
  done
  kill "$padded_pid" "$floor_pid" 2>/dev/null || true; wait "$padded_pid" "$floor_pid" 2>/dev/null || true
  tasks_before=$(sqlite3 "$srv_dir/exportd.db" 'SELECT COUNT(*) FROM tasks' 2>/dev/null || echo 0)
  read -r b_post b_post50 b_post99 b_postbad < <(WRK_BODY=$post_body wrk_run bare_post "http://127.0.0.1:$bare_port/v1/exports" -s "$root/bench/wrk_post.lua")
  read -r e_post e_post50 e_post99 e_postbad < <(WRK_BODY=$post_body wrk_run exportd_post "$base/v1/exports" -H "$auth" -s "$root/bench/wrk_post.lua")
  tasks_after=$(sqlite3 "$srv_dir/exportd.db" 'SELECT COUNT(*) FROM tasks' 2>/dev/null || echo 0)
  say "GET: medians of $runs rounds (each round runs every server once, in a random order); p99 with its range over the rounds; vs bare = the median of the ratios within a round."
  say ""
  say "| target | req/s | p50 ms | p99 ms (range) | non-2xx | vs bare httplib req/s |"
  say "|---|---:|---:|---|---:|---:|"
  for t in "${get_targets[@]}"; do
    case $t in
      bare) label="bare cpp-httplib GET" ;;
      exportd) label="exportd GET /v1/exports/{id} ($get_bytes-byte body)" ;;
      padded) label="bare cpp-httplib GET, body padded to $get_bytes bytes" ;;
      floor) label="floor: epoll loops (not a server), the same $get_bytes-byte body" ;;
      one_file) label="exportd GET of a one-file task ($one_file_bytes-byte body)" ;;
    esac
    read -r -a p99s <<<"${get_p99[$t]}"
    range=$(printf '%s\n' "${p99s[@]}" | sort -g | sed -n '1p;$p' | paste -sd-)
    read -r -a rpss <<<"${get_rps[$t]}"
    read -r -a p50s <<<"${get_p50[$t]}"
    read -r -a ratios <<<"${get_ratio[$t]}"
    bad_sum=$(printf '%s\n' ${get_bad[$t]} | awk '{n += $1 + 0; if (/sockerr/) e = "+sockerr"} END {print n e}')
    say "| $label | $(printf '%.0f' "$(median "${rpss[@]}")") | $(printf '%.2f' "$(median "${p50s[@]}")") | $(printf '%.2f' "$(median "${p99s[@]}")") ($range) | $bad_sum | $(printf '%.2f' "$(median "${ratios[@]}")") |"
  done
  say ""
  say "POST: one run each (every run leaves its tasks in the store and the queue)."
  say ""
  say "| target | req/s | p50 ms | p99 ms | non-2xx | vs bare httplib req/s |"
  say "|---|---:|---:|---:|---:|---:|"
  say "| bare cpp-httplib POST | $b_post | $b_post50 | $b_post99 | $b_postbad | 1.00 |"
  say "| exportd POST /v1/exports (202, durable) | $e_post | $e_post50 | $e_post99 | $e_postbad | $(ratio "$e_post" "$b_post") |"
  say ""
  say "tasks in the store before/after the POST run: $tasks_before / $tasks_after ($(( (tasks_after - tasks_before) / wrk_seconds )) durable tasks/s)"
  kill "$bare_pid" 2>/dev/null || true; wait "$bare_pid" 2>/dev/null || true; bare_pid=""
fi

# ---- micro-benchmarks ----------------------------------------------------------------------
if ! skipped micro; then
  say ""
  say "## Micro-benchmarks (Google Benchmark, medians of $runs repetitions)"
  say ""
  EXPORTD_BENCH_DIR=$dir "$build/bench/exportd_microbench" --benchmark_repetitions="$runs" \
    --benchmark_report_aggregates_only=true --benchmark_format=console \
    --benchmark_out="$results/microbench.json" --benchmark_out_format=json >"$results/microbench.txt" 2>&1
  say '```'
  grep -E '_median' "$results/microbench.txt" | tee -a "$summary"
  say '```'
fi

echo
echo "results: $results (summary.md, wrk_*.txt, microbench.*, exportd.log)"
