#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for SECONDS each (default 20), one after another,
# starting from its seed corpus in tests/fuzz/corpus/<target>/. Fails on the first crash, leak,
# timeout or violated property, leaving the reproducer (crash-*, leak-*, timeout-*) in the
# work directory, which it then keeps and names.
#   tests/fuzz/run.sh [SECONDS]
# Environment:
#   FUZZ_BUILD    the EXPORTD_FUZZ=ON build directory (default build/fuzz)
#   FUZZ_TARGETS  space-separated subset of targets (default all)
#   FUZZ_JOBS     targets to run at once (default 1)
# Build first:
#   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DEXPORTD_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
#   cmake --build build/fuzz --target fuzz_targets
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-20}
build=${FUZZ_BUILD:-$root/build/fuzz}
targets=(${FUZZ_TARGETS:-request_json_fuzz filter_compiler_fuzz query_params_fuzz csv_tsv_writer_fuzz s3_xml_fuzz
          envelope_decrypt_fuzz flattener_paths_fuzz})
jobs=${FUZZ_JOBS:-1}

# -max_len per target: request bodies and query strings of a few KB reach every rule (the
# limits on in-lists, tags and partitions are counted in items, not bytes); the writer input
# is at most 2 + 48 cells * 24 bytes. An envelope of 4 KB is a header (81 bytes with the
# fuzzer's key id) and up to 250 chunks at the smallest chunk size, and every accepted one is
# re-read once per flipped byte, so more only slows the run. The flattener needs runs of
# documents (the layout guessed from the one before): dozens of lines of up to a few hundred
# bytes.
max_len() {
  case $1 in
    csv_tsv_writer_fuzz) echo 1300 ;;
    envelope_decrypt_fuzz) echo 4096 ;;
    flattener_paths_fuzz) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

work=$(mktemp -d "${TMPDIR:-/tmp}/exportd-fuzz.XXXXXX")
keep=0
trap '(( keep )) || rm -rf "$work"' EXIT

run_one() {  # target
  local t=$1 dir=$work/$1
  local bin=$build/tests/fuzz/$t
  [[ -x $bin ]] || { echo "fuzz: $bin is not built" >&2; return 1; }
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp "$root/tests/fuzz/corpus/$t/"* "$dir/corpus/"  # the run adds to the copy, not the repo
  local seeds
  seeds=$(ls "$dir/corpus" | wc -l)
  # detect_leaks stays on; halt_on_error/abort_on_error so UBSan findings fail the run.
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
     "$bin" "$dir/corpus" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
       -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
       >"$dir/log" 2>&1; then
    local execs
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz: $t ok: $execs runs in ${seconds}s, corpus $seeds -> $(ls "$dir/corpus" | wc -l)"
  else
    echo "fuzz: $t FAILED; reproducer and log in $dir" >&2
    tail -n 60 "$dir/log" >&2
    return 1
  fi
}

status=0
running=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if (( ++running >= jobs )); then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
    ((running--))
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
if (( status )); then
  keep=1
  echo "fuzz: failures kept in $work" >&2
fi
exit $status
