#!/usr/bin/env bash
# Installs what exportd needs from Debian packages (and, with --test, what its test suite
# needs). Idempotent and quiet when everything is already there.
#   deploy/install-deps.sh          build and run dependencies
#   deploy/install-deps.sh --test   also what the tests use (Node.js and npm)
set -euo pipefail

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libsqlite3-dev sqlite3
  libcurl4-openssl-dev libssl-dev zlib1g-dev libsimdjson-dev libcli11-dev libcpp-jwt-dev
  libpugixml-dev libhowardhinnant-date-dev tzdata libpq-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
if (( want_test )); then
  packages+=(python3 openssl)
  # The formatting check, and a compiler cache for repeated runs of the suite.
  packages+=(clang-format ccache)
  # The notification tests' SMTP server (run with /usr/bin/python3 -m aiosmtpd).
  packages+=(python3-aiosmtpd)
  # The PostgreSQL task store's tests start a throwaway cluster of their own
  # (tests/postgres/cluster.sh); Debian 12's server is PostgreSQL 15.
  packages+=(postgresql)
  # The fuzz targets (tests/fuzz): clang with libFuzzer and the sanitizer runtimes.
  packages+=(clang libclang-rt-14-dev)
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
fi

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
# which ctest runs first as the s3rver_deps fixture of every S3 test.
