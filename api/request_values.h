// What the two decoders of a "Create an export" request (request_json.cc, request_query.cc)
// share: one value's text to its typed value, with the error and JSON pointer both forms report.
// Internal to api/; the public interface is api/request_codec.h.
#ifndef EXPORTD_API_REQUEST_VALUES_H_
#define EXPORTD_API_REQUEST_VALUES_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/request.h"
#include "core/status.h"

namespace exportd::api {

// "a, b, c": the unknown names an error lists.
std::string Join(const std::vector<std::string>& items);

// Unicode code points in UTF-8 text (continuation bytes are not counted).
size_t CodePoints(std::string_view s);

// kInvalidArgument at "/max_rows_per_file": outside 1..kMaxRowsPerFile.
Status MaxRowsOutOfRange();

// RFC 3339 from the years 1678 to 2261, else kInvalidArgument at `pointer`.
Result<TimePoint> ParseTime(std::string_view text, const std::string& pointer);

// A format name (csv, tsv, json, ndjson), else kInvalidArgument at `pointer`.
Result<Format> ParseFormatValue(std::string_view text, const std::string& pointer);

// none | gzip, else kInvalidArgument at "/compression".
Result<Compression> ParseCompressionValue(std::string_view text);

// instant | hourly | daily, else kInvalidArgument at "/export_type".
Result<ExportType> ParseExportTypeValue(std::string_view text);

// partition, else kInvalidArgument at "/split_by".
Result<SplitBy> ParseSplitByValue(std::string_view text);

// An operator name (eq, ne, ..., null), else kInvalidArgument at `pointer`.
Result<FilterOp> ParseOpName(std::string_view name, const std::string& pointer);

// "retention", parsed either way (whole seconds or a duration string, core/duration.h): at
// least 1 s, else kInvalidArgument at "/retention". Errors in `parsed` pass through.
Result<std::chrono::seconds> RetentionValue(Result<std::chrono::seconds> parsed);

}  // namespace exportd::api

#endif  // EXPORTD_API_REQUEST_VALUES_H_
