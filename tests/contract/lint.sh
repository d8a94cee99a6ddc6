#!/usr/bin/env bash
# Lints openapi.yaml with the pinned Redocly CLI (redocly.yaml + .redocly.lint-ignore.yaml at the repo root).
# Fails on errors and, unlike plain `redocly lint`, on warnings too: the spec must lint clean.
# Needs tests/contract/node_modules (run.sh installs it with `npm ci`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
cd "$root"
set +e
out="$(npx --prefix "$here" --no-install redocly lint openapi.yaml 2>&1)"
rc=$?
set -e
# Drop Redocly's boxed Node-version banner and npm's config chatter.
printf '%s\n' "$out" | sed -e '/╔/,/╝/d' -e '/^npm warn Unknown user config/d'
if [[ $rc -ne 0 ]]; then
  echo "lint.sh: redocly lint failed (exit $rc)" >&2
  exit "$rc"
fi
if grep -Eq 'You have [0-9]+ warnings?' <<<"$out"; then
  echo "lint.sh: redocly lint reported warnings; the spec must lint clean" >&2
  exit 1
fi
echo "lint.sh: openapi.yaml lints clean"
