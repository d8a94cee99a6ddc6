#!/usr/bin/env bash
# The OpenAPI contract check: lint openapi.yaml, then validate the real server's responses against it.
#   tests/contract/run.sh BUILD_DIR        (BUILD_DIR/server/exportd)
#   tests/contract/run.sh PATH/TO/exportd  (what ctest passes: $<TARGET_FILE:exportd>)
# Installs the pinned tools with `npm ci` from package-lock.json only when node_modules is missing or
# the lockfile changed since the last install (node_modules is git-ignored).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR|EXPORTD_BINARY" >&2
  exit 2
fi
if [[ -d "$1" ]]; then
  binary="$1/server/exportd"
else
  binary="$1"
fi
if [[ ! -x "$binary" ]]; then
  echo "run.sh: no exportd binary at $binary" >&2
  exit 2
fi
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"

stamp="$here/node_modules/.package-lock.sha256"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "run.sh: npm ci (tests/contract)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) 2> >(grep -v '^npm warn Unknown user config' >&2)
  echo "$want" >"$stamp"
fi

status=0
echo "== lint openapi.yaml"
"$here/lint.sh" || status=1
echo "== check the responses of $binary against openapi.yaml"
node "$here/check_responses.mjs" "$binary" || status=1
exit $status
