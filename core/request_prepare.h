// From a decoded request to the canonical request the service runs: the one step that gives a
// request its meaning against a dataset. The HTTP handlers (through ExportService::Create) and
// the request fuzzers call PrepareRequest and nothing else, so what is fuzzed is what runs.
//
// The decoders in api/ (JSON body, URL query parameters) check syntax and dataset-independent
// meaning; everything that needs the dataset happens here.
#ifndef EXPORTD_CORE_REQUEST_PREPARE_H_
#define EXPORTD_CORE_REQUEST_PREPARE_H_

#include "core/dataset.h"
#include "core/request.h"
#include "core/status.h"
#include "core/time_zone.h"

namespace exportd {

// Fits filter values to the types of their fields, in both decoded forms alike:
//   integer   numbers and strings that parse as numbers; integral reals become int64_t
//   real      numbers and numeric strings become double (int64 beyond 2^53 stays int64)
//   boolean   "true" / "false" become bools
//   timestamp RFC 3339 strings are rewritten in UTC with milliseconds (FormatRfc3339)
//   text, any values are kept as they are
// A string that does not parse as the field's type is kInvalidArgument with the value's pointer.
// Other mismatches (a bool for an integer field, a number for a text field) are left for
// ValidateRequest to reject. Conditions on unknown fields and "null"/"prefix" values are not
// touched. Record ids are fitted to the key's type the same way (so "42" from the URL form is
// the integer 42 for an integer key; for a text key 42 stays an integer, for ValidateRequest to
// reject).
Status CoerceForDataset(ExportRequest& request, const Dataset& dataset);

// CoerceForDataset, ValidateRequest, the time zone looked up in `time_zones` (unknown:
// kInvalidArgument at "/time_zone"; known: spelled as the database spells it), Canonicalize,
// and then "every field of the dataset in dataset order" becomes "no fields" (one canonical
// form for both). The result is ready to hash
// (CanonicalJson) and run; preparing it again gives it back unchanged. Errors are
// kInvalidArgument with a JSON pointer into the equivalent "Create an export" body.
// REQUIRES: request.dataset names `dataset` (the caller looked it up).
Result<ExportRequest> PrepareRequest(ExportRequest request, const Dataset& dataset,
                                     const TimeZoneDb& time_zones);

// A dataset's row_filter (DatasetSpec) as a request's filter would be prepared: coerced to the
// fields' types, validated (kInvalidArgument with the pointer "/filter/<field>[/<op>]") and in
// canonical order.
Result<std::vector<Condition>> PrepareRowFilter(std::vector<Condition> row_filter,
                                                const Dataset& dataset);

}  // namespace exportd

#endif  // EXPORTD_CORE_REQUEST_PREPARE_H_
