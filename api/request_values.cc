#include "api/request_values.h"

#include "core/time_format.h"

namespace exportd::api {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

Status MaxRowsOutOfRange() {
  return InvalidArgument(
      "max_rows_per_file must be between 1 and " + std::to_string(kMaxRowsPerFile),
      "/max_rows_per_file");
}

Result<TimePoint> ParseTime(std::string_view text, const std::string& pointer) {
  auto t = ParseRfc3339(text);
  if (!t) {
    return InvalidArgument(
        std::string("'").append(text) +
            "' is not an RFC 3339 timestamp from the years 1678 to 2261 (2024-01-31T12:00:00Z)",
        pointer);
  }
  return *t;
}

Result<Format> ParseFormatValue(std::string_view text, const std::string& pointer) {
  auto f = ParseFormat(text);
  if (!f) {
    return InvalidArgument(
        "unknown format '" + std::string(text) + "'; expected csv, tsv, json or ndjson", pointer);
  }
  return *f;
}

Result<ExportType> ParseExportTypeValue(std::string_view text) {
  auto t = ParseExportType(text);
  if (!t) {
    return InvalidArgument(
        "unknown export_type '" + std::string(text) + "'; expected instant, hourly or daily",
        "/export_type");
  }
  return *t;
}

Result<SplitBy> ParseSplitByValue(std::string_view text) {
  auto s = ParseSplitBy(text);
  if (!s) {
    return InvalidArgument("unknown split_by '" + std::string(text) + "'; expected partition",
                           "/split_by");
  }
  return *s;
}

Result<Compression> ParseCompressionValue(std::string_view text) {
  auto c = ParseCompression(text);
  if (!c) {
    return InvalidArgument("unknown compression '" + std::string(text) + "'; expected none or gzip",
                           "/compression");
  }
  return *c;
}

Result<FilterOp> ParseOpName(std::string_view name, const std::string& pointer) {
  auto op = ParseFilterOp(name);
  if (!op) {
    return InvalidArgument("unknown operator '" + std::string(name) +
                               "'; expected eq, ne, gt, gte, lt, lte, in, prefix or null",
                           pointer);
  }
  return *op;
}

Result<std::chrono::seconds> RetentionValue(Result<std::chrono::seconds> parsed) {
  if (parsed.ok() && *parsed < std::chrono::seconds(1)) {
    return InvalidArgument("retention must be at least 1 second", "/retention");
  }
  return parsed;
}

}  // namespace exportd::api
