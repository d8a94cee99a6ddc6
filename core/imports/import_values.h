// The checks an import applies before anything is written: a file's columns against the
// dataset's declared fields, and each value against its field's type.
#ifndef EXPORTD_CORE_IMPORTS_IMPORT_VALUES_H_
#define EXPORTD_CORE_IMPORTS_IMPORT_VALUES_H_

#include <string>
#include <vector>

#include "core/dataset.h"
#include "core/imports/import_sink.h"
#include "core/imports/record_parser.h"
#include "core/status.h"

namespace exportd {

// The field index (into dataset.fields()) of each column of a header. kInvalidArgument, with
// `column` set to the 1-based column at fault (0 when none is), for a name that is no field of
// the dataset, a name given twice, or a header without the dataset's key.
Result<std::vector<size_t>> MapHeader(const Dataset& dataset, const std::vector<std::string>& names,
                                      int64_t* column);

// `value` as a value of `field`: kInvalidArgument (the message says what was expected) when it
// is not one. Rules by type: integer: a decimal integer in int64 range; real: a decimal or
// exponent number, or Inf/-Inf; boolean: true/false; timestamp: RFC 3339; text: any text (an
// NDJSON number or boolean is taken as its text); any (and document fields): a JSON number is a
// number, true/false a boolean (NDJSON), anything else text. NULL is NULL for every type.
Result<ImportValue> ConvertValue(const Field& field, const RecordValue& value);
// The same into `out`, reusing its storage (an import converts every value of every row).
// On an error `out` is left unspecified.
Status ConvertValue(const Field& field, const RecordValue& value, ImportValue& out);

}  // namespace exportd

#endif  // EXPORTD_CORE_IMPORTS_IMPORT_VALUES_H_
