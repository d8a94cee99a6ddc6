#!/usr/bin/env bash
# Installs what is missing, builds everything with warnings as errors, and runs the whole test
# suite: unit, integration (the real binary over HTTP) and the OpenAPI contract checks; then the
# unit and integration tests again under AddressSanitizer + UndefinedBehaviorSanitizer; then
# a short run of each libFuzzer target (clang, build/fuzz).
#   deploy/test.sh            everything
#   deploy/test.sh --quick    the Debug build's suite only (no sanitizer or fuzz build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
jobs=$(nproc)

"$root/deploy/install-deps.sh" --test

run_suite() {  # build dir, extra cmake args...
  local build=$1; shift
  cmake -S "$root" -B "$build" -G Ninja -DEXPORTD_WERROR=ON -DEXPORTD_BUILD_BENCH=OFF "$@" >/dev/null
  cmake --build "$build" -j"$jobs"
  (cd "$build" && ctest --output-on-failure -j"$jobs" --timeout 600 ${CTEST_ARGS:-})
}

echo "== Debug build: unit, integration and contract tests"
run_suite "$root/build/debug" -DCMAKE_BUILD_TYPE=Debug
if (( ! quick )); then
  echo "== ASan/UBSan build: unit and integration tests"
  CTEST_ARGS="-LE contract" run_suite "$root/build/asan" -DCMAKE_BUILD_TYPE=Debug \
    -DEXPORTD_SANITIZE=address,undefined
  echo "== libFuzzer targets (clang, ASan/UBSan): a short smoke run of each"
  CC=clang CXX=clang++ cmake -S "$root" -B "$root/build/fuzz" -G Ninja -DEXPORTD_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=Debug -DEXPORTD_BUILD_BENCH=OFF >/dev/null
  cmake --build "$root/build/fuzz" -j"$jobs" --target fuzz_targets
  FUZZ_BUILD="$root/build/fuzz" "$root/tests/fuzz/run.sh" 15
fi
echo "== all tests passed"
