#!/usr/bin/env bash
# End-to-end test of the web dashboard in headless Chromium against the real exportd binary.
#   tests/browser/run.sh PATH/TO/exportd [ARTIFACT_DIR]
# ARTIFACT_DIR (default: ./browser-artifacts) receives the screenshots and, after a failure, the
# server log. Chromium is Debian's (deploy/install-deps.sh --test installs it); playwright-core is
# installed here with `npm ci` from package-lock.json when node_modules is missing or the
# lockfile changed since the last install (node_modules is git-ignored). It never downloads a
# browser.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 EXPORTD_BINARY [ARTIFACT_DIR]" >&2
  exit 2
fi
binary="$1"
if [[ ! -x "$binary" ]]; then
  echo "run.sh: no exportd binary at $binary" >&2
  exit 2
fi
artifacts="${2:-$PWD/browser-artifacts}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
  echo "run.sh: no Chromium at $chromium (deploy/install-deps.sh --test installs Debian's chromium)" >&2
  exit 1
fi

stamp="$here/node_modules/.package-lock.sha256"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "run.sh: npm ci (tests/browser)"
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) \
    2> >(grep -v '^npm warn Unknown user config' >&2)
  echo "$want" >"$stamp"
fi

mkdir -p "$artifacts"
exec node "$here/dashboard_test.mjs" "$binary" "$artifacts" "$chromium"
