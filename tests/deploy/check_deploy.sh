#!/usr/bin/env bash
# Checks the files of deploy/ against the built exportd (run by ctest: deploy_files):
#   - the systemd unit passes `systemd-analyze verify` without a single warning (an unknown key
#     or a bad value is only a warning there), with ExecStart pointing at the built binary;
#   - the unit's stop timeout exceeds the drain of the example configuration;
#   - the example configurations (systemd and container) are accepted by exportd with the flags
#     the unit and the Dockerfile pass (`keys list` loads and validates the configuration);
#   - the Grafana dashboard is JSON (the metrics it queries are checked against a real /metrics
#     by the integration test metrics_scrape_test).
# Usage: check_deploy.sh SOURCE_DIR EXPORTD_BINARY
set -euo pipefail
src=$1
exportd=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

unit="$src/deploy/systemd/exportd.service"
if command -v systemd-analyze >/dev/null 2>&1; then
  sed "s|/usr/local/bin/exportd|$exportd|" "$unit" > "$tmp/exportd.service"
  out=$(systemd-analyze verify "$tmp/exportd.service" 2>&1) || fail "systemd-analyze verify: $out"
  [[ -z "$out" ]] || fail "systemd-analyze verify warns: $out"
  echo "systemd-analyze verify: clean"
else
  echo "systemd-analyze not installed: the unit's syntax is not checked"
fi

stop_timeout=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$unit")
drain=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("drain_timeout_seconds", 30))' \
  "$src/deploy/exportd.example.json")
[[ -n "$stop_timeout" ]] || fail "no TimeoutStopSec in the unit"
(( stop_timeout > drain + 10 )) || fail "TimeoutStopSec=$stop_timeout leaves no room for a drain of $drain s"

for config in "$src/deploy/exportd.example.json" "$src/deploy/docker/exportd.json"; do
  rm -rf "$tmp/data" && mkdir -m 0700 "$tmp/data"
  out=$(EXPORTD_BOOTSTRAP_KEY=xd_check "$exportd" keys list --config "$config" \
        --data-dir "$tmp/data" --log-format json 2>&1) || fail "exportd refuses $config: $out"
done
echo "example configurations: accepted"

python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"], "no panels"' \
  "$src/deploy/grafana/exportd-dashboard.json" || fail "the Grafana dashboard is not JSON"
echo "grafana dashboard: parses"
