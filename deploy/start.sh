#!/usr/bin/env bash
# Installs what is missing, builds exportd and its client exportctl (Release) and runs exportd in
# the foreground on its embedded default: SQLite task store and demo dataset, files on local disk
# under ./data.
# Extra arguments go to exportd (e.g. --listen 0.0.0.0:8080, --config exportd.json).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/install-deps.sh"
build="$root/build/release"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEXPORTD_BUILD_TESTS=OFF \
  -DEXPORTD_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target exportd exportctl -j"$(nproc)"
cd "$root"
exec "$build/server/exportd" serve --data-dir "${EXPORTD_DATA_DIR:-$root/data}" "$@"
