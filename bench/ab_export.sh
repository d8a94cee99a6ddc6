#!/usr/bin/env bash
# Side-by-side export times of several exportd binaries (e.g. before and after a change) on the
# generated datasets: in each round every binary, in a new random order, runs one CSV export of
# each dataset on a fresh data dir; the medians per binary and each binary's median ratio to the
# first one. The machine is shared and noisy: read the ratios, which are taken in the same round.
#   bench/ab_export.sh ROUNDS DATASETS BINARY...    e.g. bench/ab_export.sh 5 narrow,wide_sparse a/exportd b/exportd
# Data: $EXPORTD_BENCH_DIR (default /tmp/exportd-bench), made by bench/run.sh or
# `exportd_bench_gen NAME --dir DIR`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib_exportd.sh"
(($# >= 3)) || { sed -n '2,8p' "$0"; exit 2; }
rounds=$1
IFS=, read -r -a datasets <<<"$2"
shift 2
bins=("$@")
dir=${EXPORTD_BENCH_DIR:-/tmp/exportd-bench}
work=$(mktemp -d)
trap 'stop_exportd; rm -rf "$work"' EXIT
jq -s '{datasets: [.[].datasets[]], max_connections_per_client: 0}' \
  $(for ds in "${datasets[@]}"; do echo "$dir/$ds.config.json"; done) >"$work/config.json"
# The configs name their files (sqlite, fields_file) relative to themselves.
sed -i -E "s#\"(path|fields_file)\": *\"([^/\"][^\"]*)\"#\"\1\": \"$dir/\2\"#g" "$work/config.json"
declare -A times
for ((r = 1; r <= rounds; r++)); do
  for b in $(shuf -e "${!bins[@]}"); do
    start_exportd "${bins[$b]}" "$work/config.json" "$work/data" "$work/log"
    for ds in "${datasets[@]}"; do
      read -r ms status rows < <(run_export "{\"dataset\": \"$ds\", \"format\": \"csv\"}")
      [[ $status == Succeeded ]] || { echo "binary $b $ds: $status" >&2; exit 1; }
      times[$b,$ds]+=" $ms"
      echo "round $r binary $b $ds: $ms ms ($rows rows)"
    done
    stop_exportd
  done
done
echo
printf '%-12s' dataset
for b in "${!bins[@]}"; do printf ' | %-22s' "binary $b"; done
echo
for ds in "${datasets[@]}"; do
  printf '%-12s' "$ds"
  base=$(median ${times[0,$ds]})
  for b in "${!bins[@]}"; do
    m=$(median ${times[$b,$ds]})
    printf ' | %7s ms (x%.3f)     ' "$m" "$(awk "BEGIN{print $m/$base}")"
  done
  echo
done
for b in "${!bins[@]}"; do echo "binary $b: ${bins[$b]}"; done
