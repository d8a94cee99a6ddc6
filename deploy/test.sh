#!/usr/bin/env bash
# Installs what is missing, checks the formatting, builds everything with warnings as errors
# under AddressSanitizer + UndefinedBehaviorSanitizer and runs the whole test suite there: unit,
# integration (the real binary over HTTP), the OpenAPI contract checks, the dashboard in
# Chromium, PostgreSQL and several instances; then builds the Release binaries with warnings as
# errors.
#   deploy/test.sh            that (what CI runs)
#   deploy/test.sh --fuzz     that, then a short run of each libFuzzer target (clang, build/fuzz):
#                             a second instrumented build of the libraries, left out of CI for
#                             its time (docs/testing.md)
#   deploy/test.sh --quick    a plain Debug build's suite only (no sanitizer or fuzz build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
fuzz=0
[[ "${1:-}" == "--quick" ]] && quick=1
[[ "${1:-}" == "--fuzz" ]] && fuzz=1
jobs=$(nproc)

if (( fuzz )); then "$root/deploy/install-deps.sh" --fuzz; else "$root/deploy/install-deps.sh" --test; fi

# ccache (installed above) keeps a second run on the same machine from compiling unchanged files;
# lld (also installed above) links the test executables about three times as fast as ld.bfd.
launcher=()
command -v ccache >/dev/null 2>&1 &&
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
command -v ld.lld >/dev/null 2>&1 && launcher+=(-DEXPORTD_LINKER=lld)

echo "== Formatting: every C++ file as clang-format (.clang-format) writes it"
(cd "$root" && git ls-files -z '*.cc' '*.h' '*.cc.in' |
  xargs -0 clang-format --dry-run --Werror)

build_suite() {  # build dir, extra cmake args...
  local build=$1; shift
  cmake -S "$root" -B "$build" -G Ninja -DEXPORTD_WERROR=ON -DEXPORTD_BUILD_BENCH=OFF \
    "${launcher[@]}" "$@" >/dev/null
  cmake --build "$build" -j"$jobs"
}
run_tests() {  # build dir
  (cd "$1" && ctest --output-on-failure -j"$jobs" --timeout 600 ${CTEST_ARGS:-})
}

if (( quick )); then
  echo "== Debug build: unit, integration and contract tests"
  build_suite "$root/build/debug" -DCMAKE_BUILD_TYPE=Debug
  run_tests "$root/build/debug"
else
  # One Debug build serves both: every test runs under the sanitizers, so a plain Debug build
  # would only repeat the same checks without them. -g1 (line tables): the sanitizers' reports
  # keep their file:line frames, and the build is a sixth faster than with full debug info.
  # Unity builds of the libraries (EXPORTD_UNITY_BUILD) compile their shared headers' templates
  # once per batch of files; the Release build below is not a unity build, so both ways compile.
  echo "== Debug build with ASan/UBSan: unit, integration and contract tests"
  build_suite "$root/build/asan" -DCMAKE_BUILD_TYPE=Debug -DEXPORTD_SANITIZE=address,undefined \
    -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DEXPORTD_UNITY_BUILD=ON
  # The Release build (what deploy/start.sh builds, warnings as errors) runs beside the tests at
  # the lowest priority: the tests wait on servers and clocks for a third of their time, which
  # it fills, and it yields the CPU to them whenever they want it.
  release_log=$(mktemp)
  (nice -n 19 cmake -S "$root" -B "$root/build/release-werror" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DEXPORTD_WERROR=ON -DEXPORTD_BUILD_TESTS=OFF \
    -DEXPORTD_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null &&
    nice -n 19 cmake --build "$root/build/release-werror" --target exportd exportctl -j"$jobs") \
    >"$release_log" 2>&1 &
  release_pid=$!
  tests_ok=1
  run_tests "$root/build/asan" || tests_ok=0
  echo "== Release build of exportd, warnings as errors (what deploy/start.sh builds)"
  release_ok=1
  wait "$release_pid" || release_ok=0
  tail -n 3 "$release_log"
  if (( !release_ok )); then cat "$release_log"; fi
  rm -f "$release_log"
  (( tests_ok && release_ok )) || { echo "== FAILED: tests $tests_ok, Release build $release_ok"; exit 1; }
fi
if (( fuzz )); then
  echo "== libFuzzer targets (clang, ASan/UBSan): a short smoke run of each"
  CC=clang CXX=clang++ cmake -S "$root" -B "$root/build/fuzz" -G Ninja -DEXPORTD_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=Debug -DEXPORTD_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
  cmake --build "$root/build/fuzz" -j"$jobs" --target fuzz_targets
  FUZZ_BUILD="$root/build/fuzz" FUZZ_JOBS=$jobs "$root/tests/fuzz/run.sh" 10
fi
echo "== all tests passed"
