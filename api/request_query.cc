// The URL query form of "Create an export" (api/request_codec.h): ParseCreateExportQuery.
#include <charconv>
#include <optional>
#include <utility>
#include <vector>

#include "api/request_codec.h"
#include "api/request_values.h"
#include "core/duration.h"
#include "core/notify_target.h"
#include "core/text.h"

namespace exportd::api {
namespace {

std::vector<std::string> SplitCommas(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = s.find(',', start);
    out.emplace_back(s.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

struct QueryFilterKey {
  std::string field;
  FilterOp op = FilterOp::kEq;
  std::string pointer;  // as in the JSON form: "/filter/<field>" or "/filter/<field>/<op>"
};

// `spec` is the key without "filter.".
QueryFilterKey SplitQueryFilterKey(std::string_view spec) {
  QueryFilterKey key{std::string(spec), FilterOp::kEq, {}};
  if (const size_t dot = spec.rfind('.'); dot != std::string_view::npos) {
    if (auto op = ParseFilterOp(spec.substr(dot + 1))) {
      key.field = std::string(spec.substr(0, dot));
      key.op = *op;
    }
  }
  key.pointer = ConditionPointer(Condition{key.field, key.op, {}});
  return key;
}

Status AddQueryCondition(const QueryFilterKey& key, std::string_view value,
                         std::vector<Condition>& out) {
  Condition c{key.field, key.op, {}};
  if (key.op == FilterOp::kIn) {
    std::vector<std::string> items = SplitCommas(value);
    if (items.size() > kMaxInValues) {
      return InvalidArgument("'in' takes 1 to " + std::to_string(kMaxInValues) + " values",
                             key.pointer);
    }
    for (auto& item : items) c.values.emplace_back(std::move(item));
  } else if (key.op == FilterOp::kNull) {
    if (value != "true" && value != "false") {
      return Malformed("'null' takes true or false", key.pointer);
    }
    c.values.emplace_back(value == "true");
  } else {
    c.values.emplace_back(std::string(value));
  }
  out.push_back(std::move(c));
  return Status::Ok();
}

Result<int64_t> QueryMaxRows(std::string_view text) {
  const std::string pointer = "/max_rows_per_file";
  int64_t rows = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), rows);
  if (end != text.data() + text.size() || text.empty()) {
    return Malformed("max_rows_per_file must be an integer", pointer);
  }
  // Digits too many for int64 are still an integer, just far out of range.
  if (ec == std::errc::result_out_of_range) return MaxRowsOutOfRange();
  if (ec != std::errc()) return Malformed("max_rows_per_file must be an integer", pointer);
  if (rows < 1 || rows > kMaxRowsPerFile) return MaxRowsOutOfRange();
  return rows;
}

}  // namespace

Result<CreateExportInput> ParseCreateExportQuery(
    const std::multimap<std::string, std::string>& params) {
  CreateExportInput in;
  ExportRequest& r = in.request;
  std::optional<Format> format;
  std::optional<Format> file_type;
  bool has_dataset = false;
  std::vector<std::string> unknown;
  for (auto it = params.begin(); it != params.end();) {
    const std::string& key = it->first;
    const auto range = params.equal_range(key);
    std::vector<std::string_view> values;
    for (auto v = range.first; v != range.second; ++v) values.emplace_back(v->second);
    it = range.second;

    const bool repeatable =
        key == "fields" || key == "partitions" || key == "notify.email" || key == "record_ids";
    const bool known = repeatable || key == "dataset" || key == "format" || key == "fileType" ||
                       key == "since" || key == "until" || key == "max_rows_per_file" ||
                       key == "compression" || key == "tag" || key == "notify.webhook" ||
                       key == "retention" || key == "escape_formulas" || key == "incremental" ||
                       key == "export_type" || key == "time_zone" || key == "split_by" ||
                       key.starts_with("filter.");
    if (!known) {
      unknown.push_back(key);
      continue;
    }
    std::optional<QueryFilterKey> filter_key;
    std::string pointer;
    if (key.starts_with("filter.")) {
      filter_key = SplitQueryFilterKey(std::string_view(key).substr(7));
      pointer = filter_key->pointer;
    } else if (key.starts_with("notify.")) {
      pointer = "/notify/" + key.substr(7);
    } else {
      pointer = "/" + key;
    }
    if (!IsValidUtf8(key)) return Malformed("a parameter name is not valid UTF-8");
    for (std::string_view v : values) {
      if (!IsValidUtf8(v)) return Malformed("parameter '" + key + "' is not valid UTF-8", pointer);
    }
    if (!repeatable && values.size() > 1) {
      return Malformed("parameter '" + key + "' is given more than once", pointer);
    }
    const std::string_view value = values.front();
    if (key == "dataset") {
      r.dataset = std::string(value);
      has_dataset = true;
    } else if (key == "format") {
      ASSIGN_OR_RETURN(format, ParseFormatValue(value, pointer));
    } else if (key == "fileType") {
      ASSIGN_OR_RETURN(file_type, ParseFormatValue(value, pointer));
    } else if (key == "fields" || key == "partitions" || key == "notify.email") {
      std::vector<std::string>& list = key == "fields"       ? r.fields
                                       : key == "partitions" ? r.partitions
                                                             : in.notify.email;
      for (std::string_view v : values) {
        for (auto& item : SplitCommas(v)) list.push_back(std::move(item));
      }
    } else if (key == "since") {
      ASSIGN_OR_RETURN(r.since, ParseTime(value, pointer));
    } else if (key == "until") {
      ASSIGN_OR_RETURN(r.until, ParseTime(value, pointer));
    } else if (key == "max_rows_per_file") {
      ASSIGN_OR_RETURN(r.max_rows_per_file, QueryMaxRows(value));
    } else if (key == "compression") {
      ASSIGN_OR_RETURN(r.compression, ParseCompressionValue(value));
    } else if (key == "tag") {
      if (CodePoints(value) > kMaxTagChars) {
        return InvalidArgument("tag is longer than " + std::to_string(kMaxTagChars) + " characters",
                               pointer);
      }
      in.tag = std::string(value);
    } else if (key == "notify.webhook") {
      in.notify.webhook = std::string(value);
    } else if (key == "retention") {
      ASSIGN_OR_RETURN(in.retention, RetentionValue(ParseDuration(value, pointer)));
    } else if (key == "escape_formulas") {
      if (value != "true" && value != "false") {
        return Malformed("escape_formulas must be true or false", pointer);
      }
      in.escape_formulas = value == "true";
    } else if (key == "incremental") {
      if (value != "true" && value != "false") {
        return Malformed("incremental must be true or false", pointer);
      }
      r.incremental = value == "true";
    } else if (key == "export_type") {
      ASSIGN_OR_RETURN(r.export_type, ParseExportTypeValue(value));
    } else if (key == "time_zone") {
      r.time_zone = std::string(value);
    } else if (key == "split_by") {
      ASSIGN_OR_RETURN(r.split_by, ParseSplitByValue(value));
    } else if (key == "record_ids") {
      for (std::string_view v : values) {
        for (auto& item : SplitCommas(v)) r.record_ids.emplace_back(std::move(item));
      }
    } else {
      RETURN_IF_ERROR(AddQueryCondition(*filter_key, value, r.filter));
    }
  }
  if (!unknown.empty()) {
    return InvalidArgument("unknown parameter(s): " + Join(unknown),
                           std::string("/").append(JsonPointerToken(unknown.front())));
  }
  if (!has_dataset) return Malformed("dataset is required", "/dataset");
  if (format && file_type && *format != *file_type) {
    return InvalidArgument("format and fileType disagree", "/fileType");
  }
  if (format) r.format = *format;
  if (file_type) r.format = *file_type;
  if (r.partitions.size() > kMaxPartitions) {
    return InvalidArgument("at most " + std::to_string(kMaxPartitions) + " partitions",
                           "/partitions");
  }
  if (r.record_ids.size() > kMaxRecordIds) {
    return InvalidArgument("record_ids takes 1 to " + std::to_string(kMaxRecordIds) + " ids",
                           "/record_ids");
  }
  RETURN_IF_ERROR(ValidateNotify(in.notify));
  return in;
}

}  // namespace exportd::api
