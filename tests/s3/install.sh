#!/usr/bin/env bash
# Installs the pinned S3 test server (tests/s3/package-lock.json) with `npm ci` when
# node_modules is missing or the lockfile changed since the last install (node_modules is
# git-ignored). Run by the ctest fixture "s3rver_deps" before the tests that start s3rver.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
stamp="$here/node_modules/.package-lock.sha256"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "install.sh: npm ci (tests/s3)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) 2> >(grep -v '^npm warn Unknown user config' >&2)
  echo "$want" >"$stamp"
fi
