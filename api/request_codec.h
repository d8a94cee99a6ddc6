// The two ways a client describes an export (a JSON body, or URL query parameters on a search
// page's link) decoded into one ExportRequest.
//
// The way from bytes to a request the service may run:
//   1. ParseCreateExportJson / ParseCreateExportQuery: syntax and types (kMalformed, 400) and
//      dataset-independent meaning (kInvalidArgument, 422: unknown members or operators, bad
//      format names, ranges, RFC 3339, notify targets through ValidateNotify,
//      core/notify_target.h).
//   2. ExportService::Create finds the Dataset named by request.dataset (an unknown one is 422)
//      and prepares the request against it: PrepareRequest (core/request_prepare.h).
// Every error carries a JSON pointer into the equivalent JSON body ("/filter/depth_m/gt"), for
// the query form as well.
//
// Nothing here throws.
#ifndef EXPORTD_API_REQUEST_CODEC_H_
#define EXPORTD_API_REQUEST_CODEC_H_

#include <chrono>
#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/request.h"
#include "core/status.h"

namespace exportd::api {

// Limits that apply to both forms.
inline constexpr size_t kMaxTagChars = 256;  // Unicode code points
inline constexpr size_t kMaxPartitions = 1000;

struct CreateExportInput {
  ExportRequest request;
  std::optional<std::string> tag;
  Notify notify;
  // Not part of the canonical request (it does not decide the output). Checked here for shape
  // and >= 1 s; the upper bound is the deployment's, checked by ExportService::Create.
  std::optional<std::chrono::seconds> retention;
  // nullopt: the deployment's default. ExportService::Create puts the outcome into
  // request.escape_formulas, where it is part of the canonical request.
  std::optional<bool> escape_formulas;

  friend bool operator==(const CreateExportInput&, const CreateExportInput&) = default;
};

// A JSON object as in the API's "Create an export". Besides what the API names:
//  - an optional member given as null counts as absent ("dataset" is required and must be a
//    string);
//  - duplicate member names anywhere are kMalformed (parsers disagree on which one wins);
//  - "eq" is accepted as an explicit operator ({"depth": {"eq": 5}});
//  - "fields": [] and "partitions": [] are kInvalidArgument (omit them to mean "all");
//  - the filter's values are kept as sent (JSON integers that fit int64 as int64_t, other
//    numbers as double); PrepareRequest fits them to the fields' types.
//  - "record_ids" holds JSON strings and integers (anything else is kMalformed), kept as sent;
//    [] is kInvalidArgument, like more than kMaxRecordIds ids.
Result<CreateExportInput> ParseCreateExportJson(std::string_view body);

// A "filter" object of that body on its own (for a dataset's row_filter in the configuration):
// the same syntax, the same errors, pointers starting "/filter".
Result<std::vector<Condition>> ParseFilterJson(const nlohmann::json& filter);

// cpp-httplib's Params. Keys: dataset, format | fileType, fields (comma-separated; may repeat,
// concatenated), partitions (likewise), since, until, max_rows_per_file, compression, tag,
// retention, escape_formulas (true | false, else 400), incremental (true | false, else 400),
// export_type, time_zone, split_by, record_ids (comma-separated; may repeat, concatenated; the
// ids stay strings), notify.webhook, notify.email
// (comma-separated; may repeat), filter.<field>=v (eq), filter.<field>.<op>=v,
// filter.<field>.in=a,b,c. The last dot splits off an operator only when what follows it is an
// operator name, so field names may contain dots. Any other key, or a repeat of a key not listed as
// repeatable, is an error (unknown: 422, repeated: 400). Filter values stay strings ("null" takes
// true | false, else 400); PrepareRequest converts them. A comma cannot be part of a value of
// fields, partitions or "in".
Result<CreateExportInput> ParseCreateExportQuery(
    const std::multimap<std::string, std::string>& params);

}  // namespace exportd::api

#endif  // EXPORTD_API_REQUEST_CODEC_H_
