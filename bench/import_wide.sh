#!/usr/bin/env bash
# The wide round trip at full size: export -> import -> export of the wide dense dataset (2,897
# document fields, 40,000 rows by default) in every importable format, asserting that the second
# export's files are byte-identical (sha256) to the first's, and reporting each step's time (by
# the server's clock, created_at to finished_at) and exportd's peak RSS.
#   bench/import_wide.sh EXPORTD_BINARY GEN_BINARY [ROWS] [WORK_DIR] [FORMATS]
# GEN_BINARY is exportd_bench_gen (a build with -DEXPORTD_BUILD_BENCH=ON); FORMATS defaults to
# csv,tsv,ndjson. Exits 1 when a round trip is not byte-identical. bench/README.md keeps the table.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
gen=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
rows=${3:-40000}
work=${4:-$(mktemp -d)}
formats=${5:-csv,tsv,ndjson}
mkdir -p "$work"
work=$(cd "$work" && pwd)
# shellcheck source=bench/lib_exportd.sh
source "$here/lib_exportd.sh"

if [[ ! -f $work/wide_dense.sqlite ]]; then
  echo "== generating wide_dense ($rows rows)"
  "$gen" wide-dense --dir "$work" --rows "$rows"
fi
ddl="CREATE TABLE wide_dense (id INTEGER PRIMARY KEY, partition TEXT NOT NULL, ts TEXT NOT NULL, doc TEXT)"
datasets=$(jq -c '.datasets[0] | .source.path = "'"$work"'/wide_dense.sqlite"
  | .document.fields_file = "'"$work"'/wide_fields.txt"' "$work/wide_dense.config.json")
config="[$datasets"
IFS=, read -r -a fmts <<<"$formats"
for f in "${fmts[@]}"; do
  rm -f "$work/copy_$f.sqlite"*
  sqlite3 "$work/copy_$f.sqlite" "$ddl"
  config+=",$(jq -c '.name = "copy_'"$f"'" | .importable = true
    | .source.path = "'"$work"'/copy_'"$f"'.sqlite"' <<<"$datasets")"
done
config+="]"
echo "{\"workers\": 1, \"datasets\": $config}" >"$work/config.json"

start_exportd "$bin" "$work/config.json" "$work/data" "$work/exportd.log"
trap stop_exportd EXIT

# wait_task KIND ID: the finished task's JSON.
wait_task() {
  local task status
  while :; do
    task=$(curl -sf -H "$srv_auth" "$srv_base/v1/$1/$2")
    status=$(jq -r .status <<<"$task")
    case $status in Succeeded | Failed | Cancelled) break ;; esac
    sleep 0.2
  done
  echo "$task"
}
ms_of() {
  jq -r '(((.finished_at | sub("\\.[0-9]+Z$"; "Z") | fromdate) * 1000
           + (.finished_at | capture("\\.(?<ms>[0-9]+)Z$").ms | tonumber))
          - ((.created_at | sub("\\.[0-9]+Z$"; "Z") | fromdate) * 1000
           + (.created_at | capture("\\.(?<ms>[0-9]+)Z$").ms | tonumber)))' <<<"$1"
}
export_of() {
  local id
  id=$(curl -sf -H "$srv_auth" -H 'Content-Type: application/json' "$srv_base/v1/exports" \
    -d "{\"dataset\": \"$1\", \"format\": \"$2\"}" | jq -r .id)
  wait_task exports "$id"
}

failed=0
for f in "${fmts[@]}"; do
  first=$(export_of wide_dense "$f")
  [[ $(jq -r .status <<<"$first") == Succeeded ]] || { echo "export $f: $first" >&2; exit 1; }
  id=$(curl -sf -H "$srv_auth" -H 'Content-Type: application/json' "$srv_base/v1/imports" \
    -d "{\"dataset\": \"copy_$f\", \"from_export\": \"$(jq -r .id <<<"$first")\"}" | jq -r .id)
  imported=$(wait_task imports "$id")
  [[ $(jq -r .status <<<"$imported") == Succeeded ]] || { echo "import $f: $imported" >&2; exit 1; }
  again=$(export_of "copy_$f" "$f")
  [[ $(jq -r .status <<<"$again") == Succeeded ]] || { echo "export again $f: $again" >&2; exit 1; }
  a=$(jq -r '[.files[] | .name + " " + .sha256] | join("\n")' <<<"$first")
  b=$(jq -r '[.files[] | .name + " " + .sha256] | join("\n")' <<<"$again")
  same=no
  [[ -n $a && $a == "$b" ]] && same=yes || failed=1
  printf '%s: export %d ms (%s bytes, %s files), import %d ms (%s rows), export again %d ms; byte-identical: %s\n' \
    "$f" "$(ms_of "$first")" "$(jq '[.files[].bytes] | add' <<<"$first")" "$(jq '.files | length' <<<"$first")" \
    "$(ms_of "$imported")" "$(jq -r .rows_inserted <<<"$imported")" "$(ms_of "$again")" "$same"
done
printf 'exportd peak RSS (VmHWM): %.1f MB\n' "$(echo "$(awk '/VmHWM/ {print $2}' "/proc/$srv_pid/status") / 1024" | bc -l)"
exit "$failed"
