#!/usr/bin/env bash
# Installs what exportd needs from Debian packages (and, with --test, what its test suite
# needs). Idempotent and quiet when everything is already there.
#   deploy/install-deps.sh          build and run dependencies
#   deploy/install-deps.sh --test   also what the tests use (Node.js and npm, Chromium, PostgreSQL)
#   deploy/install-deps.sh --fuzz   that, and clang for the libFuzzer targets (deploy/test.sh --fuzz)
set -euo pipefail

want_test=0
want_fuzz=0
[[ "${1:-}" == "--test" ]] && want_test=1
[[ "${1:-}" == "--fuzz" ]] && want_test=1 && want_fuzz=1

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libsqlite3-dev sqlite3
  libcurl4-openssl-dev libssl-dev zlib1g-dev libsimdjson-dev libcli11-dev libcpp-jwt-dev
  libpugixml-dev libhowardhinnant-date-dev tzdata libpq-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
if (( want_test )); then
  packages+=(python3 openssl jq)
  # The formatting check, a compiler cache for repeated runs of the suite, and a faster linker
  # for its test executables (deploy/test.sh uses lld when it is there).
  packages+=(clang-format ccache lld)
  # The notification tests' SMTP server (run with /usr/bin/python3 -m aiosmtpd).
  packages+=(python3-aiosmtpd)
  # The PostgreSQL task store's tests start a throwaway cluster of their own
  # (tests/postgres/cluster.sh); Debian 12's server is PostgreSQL 15.
  packages+=(postgresql)
  # The dashboard's browser tests (tests/browser): headless Chromium, driven by playwright-core.
  # fonts-liberation is only a recommendation of chromium (not installed here): the screenshots
  # need a font.
  packages+=(chromium fonts-liberation)
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
fi

# The fuzz targets (tests/fuzz): clang with libFuzzer and the sanitizer runtimes.
(( want_fuzz )) && packages+=(clang libclang-rt-14-dev)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# node/npm may come from outside Debian (e.g. nodesource); their presence on PATH is enough.
if (( ${#missing[@]} )); then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=()
  (( EUID == 0 )) || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq >/dev/null
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Node.js packages of tests/contract are installed by tests/contract/run.sh (npm ci from
# its lockfile) when that test runs; those of tests/s3 (the S3 test server) by tests/s3/install.sh,
# which ctest runs first as the s3rver_deps fixture of every S3 test; those of tests/browser
# (playwright-core, which drives Debian's chromium and never downloads a browser) by
# tests/browser/run.sh.

# promtool, for `promtool check metrics` in tests/integration/metrics_scrape_test.cc: only the
# binary, taken from Debian's prometheus package (installing the package would also set up and
# start a Prometheus server). Without it that test checks the format with its own parser only.
if (( want_test )) && ! command -v promtool >/dev/null 2>&1; then
  sudo_cmd=()
  (( EUID == 0 )) || sudo_cmd=(sudo)
  tmp=$(mktemp -d)
  if (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1 \
      && dpkg-deb -x prometheus_*.deb extracted); then
    "${sudo_cmd[@]}" install -m 0755 "$tmp/extracted/usr/bin/promtool" /usr/local/bin/promtool
  else
    echo "install-deps: prometheus package not downloadable; metrics are checked without promtool" >&2
  fi
  rm -rf "$tmp"
fi
