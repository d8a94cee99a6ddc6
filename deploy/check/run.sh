#!/usr/bin/env bash
# Validates deploy/ (ctest: deploy_manifests): installs the pinned checkers (package-lock.json)
# with `npm ci` when needed, runs check.mjs on deploy/, then on broken copies of it, each of which
# must be refused with the expected problem (so that every kind of check can fail).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
deploy="$(dirname "$here")"
stamp="$here/node_modules/.package-lock.sha256"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "run.sh: npm ci (deploy/check)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) 2> >(grep -v '^npm warn Unknown user config' >&2)
  echo "$want" >"$stamp"
fi

node "$here/check.mjs" "$deploy"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# refused FILE SED-EXPRESSION EXPECTED: a copy of deploy/ with FILE edited must fail with EXPECTED.
refused() {
  local file=$1 expr=$2 expected=$3 out
  rm -rf "$work/deploy"
  mkdir -p "$work/deploy"
  cp -r "$deploy/compose.yaml" "$deploy/exportd.json" "$deploy/kubernetes" "$work/deploy/"
  sed -i "$expr" "$work/deploy/$file"
  cmp -s "$deploy/$file" "$work/deploy/$file" && { echo "FAIL: '$expr' changed nothing in $file" >&2; exit 1; }
  if out=$(node "$here/check.mjs" "$work/deploy" 2>&1); then
    echo "FAIL: $file with '$expr' was accepted" >&2
    exit 1
  fi
  grep -qF -- "$expected" <<<"$out" || { echo "FAIL: $file with '$expr': want '$expected', got:" >&2; echo "$out" >&2; exit 1; }
  echo "refused as expected: $file with '$expr'"
}
refused kubernetes/deployment.yaml 's/replicas: 2/replicas: two/' 'Deployment exportd: schema'
refused kubernetes/deployment.yaml 's/containerPort: 8080/containerPort: "eighty"/' 'Deployment exportd: schema'
refused kubernetes/deployment.yaml 's#path: /readyz#path: /ready#' 'readinessProbe is not GET /readyz'
refused kubernetes/deployment.yaml 's/name: exportd-keys/name: other-keys/' 'Secret other-keys is not among the manifests'
refused kubernetes/configmap.yaml 's/"type": "s3"/"type": "local"/' 'need storage.type s3'
refused compose.yaml 's/retries: 10/retries: ten/' 'compose.yaml: schema'
refused compose.yaml 's/^  restart: unless-stopped/  restarts: unless-stopped/' 'compose.yaml: schema'
refused compose.yaml '/EXPORTD_TASK_STORE_URL:/d' 'no EXPORTD_TASK_STORE_URL'
echo "deploy/: OK"
