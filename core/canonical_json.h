// The canonical request as JSON text: keys in a fixed (sorted) order, no insignificant
// whitespace, every output-deciding field present (defaults written out; the one exception is
// "escape_formulas", written only when true so that older hashes stay valid). Two requests that
// produce the same output have the same text, so sha256(CanonicalJson(r)) is the query_hash.
#ifndef EXPORTD_CORE_CANONICAL_JSON_H_
#define EXPORTD_CORE_CANONICAL_JSON_H_

#include <string>

#include "core/request.h"

namespace exportd {

// REQUIRES: Canonicalize(request) has been applied.
// {"compression":"none","dataset":"samples",["escape_formulas":true,]"fields":[...],
//  "filter":[{"field":"x","op":"eq",
//  "value":1}, {"field":"y","op":"in","values":[1,2]}],"format":"csv","max_rows_per_file":80000,
//  "partitions":[...],"since":"...Z"|null,"until":...}
std::string CanonicalJson(const ExportRequest& request);

}  // namespace exportd

#endif  // EXPORTD_CORE_CANONICAL_JSON_H_
