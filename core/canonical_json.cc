#include "core/canonical_json.h"

#include <charconv>
#include <cmath>

#include "core/formats/format_writer.h"
#include "core/time_format.h"

namespace exportd {
namespace {

void AppendString(std::string_view s, std::string& out) {
  out += '"';
  AppendJsonEscaped(s, out);
  out += '"';
}

void AppendInt(int64_t v, std::string& out) {
  char buf[24];
  char* end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out.append(buf, end);
}

// The shortest text that reads back as exactly `v`, always with a '.' or an exponent so that it
// reads back as a real, not an integer. JSON has no infinities or NaN: those become null
// (ValidateRequest rejects them, so a validated request never holds one).
void AppendDouble(double v, std::string& out) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[40];
  char* end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  const std::string_view text(buf, static_cast<size_t>(end - buf));
  out += text;
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

void AppendStringArray(const std::vector<std::string>& items, std::string& out) {
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    AppendString(items[i], out);
  }
  out += ']';
}

// Members in sorted order: field, op, value | values. "in" always writes "values" (an array);
// every other op writes its one value as "value".
void AppendCondition(const Condition& c, std::string& out) {
  out += "{\"field\":";
  AppendString(c.field, out);
  out += ",\"op\":";
  AppendString(FilterOpName(c.op), out);
  if (c.op == FilterOp::kIn) {
    out += ",\"values\":[";
    for (size_t i = 0; i < c.values.size(); ++i) {
      if (i > 0) out += ',';
      AppendFilterValueJson(c.values[i], out);
    }
    out += ']';
  } else {
    out += ",\"value\":";
    if (c.values.empty()) {
      out += "null";
    } else {
      AppendFilterValueJson(c.values.front(), out);
    }
  }
  out += '}';
}

void AppendTime(const std::optional<TimePoint>& t, std::string& out) {
  if (t) {
    AppendString(FormatRfc3339(*t), out);
  } else {
    out += "null";
  }
}

}  // namespace

void AppendFilterValueJson(const FilterValue& v, std::string& out) {
  if (const auto* b = std::get_if<bool>(&v)) {
    out += *b ? "true" : "false";
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    AppendInt(*i, out);
  } else if (const auto* d = std::get_if<double>(&v)) {
    AppendDouble(*d, out);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    AppendString(*s, out);
  } else {
    out += "null";
  }
}

std::string CanonicalFilterJson(const std::vector<Condition>& filter) {
  std::string out = "[";
  for (size_t i = 0; i < filter.size(); ++i) {
    if (i > 0) out += ',';
    AppendCondition(filter[i], out);
  }
  out += ']';
  return out;
}

std::string CanonicalJson(const ExportRequest& request) {
  std::string out;
  out.reserve(256);
  out += "{\"compression\":";
  AppendString(CompressionName(request.compression), out);
  out += ",\"dataset\":";
  AppendString(request.dataset, out);
  // Written only when true, unlike the other members: the text (and query_hash) of every
  // request that does not escape stays what it was before the option existed.
  if (request.escape_formulas) out += ",\"escape_formulas\":true";
  // Likewise every member below that is written only when it differs from its default: the
  // options of recurring exports leave the text of every request without them unchanged.
  if (request.export_type != ExportType::kInstant) {
    out += ",\"export_type\":";
    AppendString(ExportTypeName(request.export_type), out);
  }
  out += ",\"fields\":";
  AppendStringArray(request.fields, out);
  out += ",\"filter\":";
  out += CanonicalFilterJson(request.filter);
  out += ",\"format\":";
  AppendString(FormatName(request.format), out);
  if (request.incremental) out += ",\"incremental\":true";
  out += ",\"max_rows_per_file\":";
  AppendInt(request.max_rows_per_file, out);
  out += ",\"partitions\":";
  AppendStringArray(request.partitions, out);
  if (!request.record_ids.empty()) {
    out += ",\"record_ids\":[";
    for (size_t i = 0; i < request.record_ids.size(); ++i) {
      if (i > 0) out += ',';
      AppendFilterValueJson(request.record_ids[i], out);
    }
    out += ']';
  }
  out += ",\"since\":";
  AppendTime(request.since, out);
  if (request.split_by) {
    out += ",\"split_by\":";
    AppendString(SplitByName(*request.split_by), out);
  }
  if (request.time_zone) {
    out += ",\"time_zone\":";
    AppendString(*request.time_zone, out);
  }
  out += ",\"until\":";
  AppendTime(request.until, out);
  out += '}';
  return out;
}

}  // namespace exportd
