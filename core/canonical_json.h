// The canonical request as JSON text: keys in a fixed (sorted) order, no insignificant
// whitespace, every output-deciding field present (defaults written out; the exceptions are
// "escape_formulas" and the recurring-export members "export_type", "incremental",
// "record_ids", "split_by" and "time_zone", written only when they differ from their defaults
// so that older hashes stay valid). Two requests that
// produce the same output have the same text, so sha256(CanonicalJson(r)) is the query_hash.
#ifndef EXPORTD_CORE_CANONICAL_JSON_H_
#define EXPORTD_CORE_CANONICAL_JSON_H_

#include <string>
#include <vector>

#include "core/request.h"

namespace exportd {

// REQUIRES: Canonicalize(request) has been applied.
// {"compression":"none","dataset":"samples",["escape_formulas":true,]["export_type":"daily",]
//  "fields":[...],"filter":[{"field":"x","op":"eq","value":1}, {"field":"y","op":"in",
//  "values":[1,2]}],"format":"csv",["incremental":true,]"max_rows_per_file":80000,
//  "partitions":[...],["record_ids":[1,2],]"since":"...Z"|null,["split_by":"partition",]
//  ["time_zone":"Europe/Berlin",]"until":...}
std::string CanonicalJson(const ExportRequest& request);

// The "filter" member's array on its own (a dataset's row_filter as GET /v1/datasets shows it).
std::string CanonicalFilterJson(const std::vector<Condition>& filter);

// One value as the canonical text writes it (reals always with a '.' or an exponent).
void AppendFilterValueJson(const FilterValue& value, std::string& out);

}  // namespace exportd

#endif  // EXPORTD_CORE_CANONICAL_JSON_H_
