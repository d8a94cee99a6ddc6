// The JSON form of "Create an export" (api/request_codec.h): ParseCreateExportJson.
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

#include "api/request_codec.h"
#include "api/request_values.h"
#include "core/duration.h"
#include "core/notify_target.h"
#include "core/text.h"

namespace exportd::api {
namespace {

using Json = nlohmann::json;

// The request schema nests four levels deep ({"filter": {"f": {"in": [..]}}}); anything much
// deeper is hostile and is discarded while parsing rather than built.
constexpr int kMaxJsonDepth = 16;

// Records the first duplicate member name (with its pointer) and discards anything nested
// deeper than kMaxJsonDepth. Used as nlohmann's parser callback.
class JsonGuard {
 public:
  bool OnEvent(int depth, Json::parse_event_t event, Json& parsed) {
    using E = Json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        if (depth >= kMaxJsonDepth) {
          Fail(
              Malformed("the JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels"));
          return false;
        }
        CountElement();
        frames_.push_back(Frame{event == E::array_start, {}, {}, -1});
        return true;
      case E::object_end:
      case E::array_end:
        if (!frames_.empty()) frames_.pop_back();
        return true;
      case E::key:
        if (!frames_.empty() && parsed.is_string()) {
          Frame& top = frames_.back();
          top.key = parsed.get<std::string>();
          if (!top.keys.insert(top.key).second) {
            Fail(Malformed("member '" + top.key + "' appears twice", Pointer()));
          }
        }
        return true;
      case E::value:
        CountElement();
        return true;
    }
    return true;
  }

  const std::optional<Status>& error() const { return error_; }

 private:
  struct Frame {
    bool is_array = false;
    std::set<std::string> keys;
    std::string key;
    long index = -1;
  };

  void CountElement() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
  }

  std::string Pointer() const {
    std::string out;
    for (const Frame& f : frames_) {
      out += '/';
      out += f.is_array ? std::to_string(f.index) : JsonPointerToken(f.key);
    }
    return out;
  }

  void Fail(Status status) {
    if (!error_) error_ = std::move(status);
  }

  std::vector<Frame> frames_;
  std::optional<Status> error_;
};

Result<std::string> JsonString(const Json& v, const std::string& pointer) {
  if (!v.is_string()) return Malformed(pointer + " must be a string", pointer);
  return v.get<std::string>();
}

Result<std::vector<std::string>> JsonStringArray(const Json& v, const std::string& pointer) {
  if (!v.is_array()) return Malformed(pointer + " must be an array of strings", pointer);
  std::vector<std::string> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    ASSIGN_OR_RETURN(std::string s, JsonString(v[i], pointer + "/" + std::to_string(i)));
    out.push_back(std::move(s));
  }
  return out;
}

Result<FilterValue> JsonScalar(const Json& v, const std::string& pointer) {
  switch (v.type()) {
    case Json::value_t::null:
      return FilterValue(std::monostate{});
    case Json::value_t::boolean:
      return FilterValue(v.get<bool>());
    case Json::value_t::number_integer:
      return FilterValue(v.get<int64_t>());
    case Json::value_t::number_unsigned: {
      const auto u = v.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return FilterValue(static_cast<int64_t>(u));
      }
      return FilterValue(static_cast<double>(u));
    }
    case Json::value_t::number_float: {
      const double d = v.get<double>();
      if (!std::isfinite(d)) return Malformed("number out of range", pointer);
      return FilterValue(d);
    }
    case Json::value_t::string:
      return FilterValue(v.get<std::string>());
    default:
      return Malformed("a filter value must be a string, number, boolean or null", pointer);
  }
}

Status ParseJsonFilter(const Json& filter, std::vector<Condition>& out) {
  if (!filter.is_object()) return Malformed("filter must be an object", "/filter");
  for (const auto& [name, spec] : filter.items()) {
    const std::string field_pointer = "/filter/" + JsonPointerToken(name);
    if (!spec.is_object()) {
      ASSIGN_OR_RETURN(FilterValue value, JsonScalar(spec, field_pointer));
      out.push_back(Condition{name, FilterOp::kEq, {std::move(value)}});
      continue;
    }
    if (spec.empty()) return InvalidArgument("no operator given", field_pointer);
    for (const auto& [op_name, arg] : spec.items()) {
      const std::string op_pointer = field_pointer + "/" + JsonPointerToken(op_name);
      ASSIGN_OR_RETURN(FilterOp op, ParseOpName(op_name, op_pointer));
      Condition c{name, op, {}};
      switch (op) {
        case FilterOp::kIn:
          if (!arg.is_array()) return Malformed("'in' takes an array of values", op_pointer);
          if (arg.empty() || arg.size() > kMaxInValues) {
            return InvalidArgument("'in' takes 1 to " + std::to_string(kMaxInValues) + " values",
                                   op_pointer);
          }
          for (size_t i = 0; i < arg.size(); ++i) {
            ASSIGN_OR_RETURN(FilterValue value,
                             JsonScalar(arg[i], op_pointer + "/" + std::to_string(i)));
            c.values.push_back(std::move(value));
          }
          break;
        case FilterOp::kPrefix:
          if (!arg.is_string()) return Malformed("'prefix' takes a string", op_pointer);
          c.values.emplace_back(arg.get<std::string>());
          break;
        case FilterOp::kNull:
          if (!arg.is_boolean()) return Malformed("'null' takes true or false", op_pointer);
          c.values.emplace_back(arg.get<bool>());
          break;
        default: {
          ASSIGN_OR_RETURN(FilterValue value, JsonScalar(arg, op_pointer));
          c.values.push_back(std::move(value));
          break;
        }
      }
      out.push_back(std::move(c));
    }
  }
  return Status::Ok();
}

Status ParseJsonNotify(const Json& v, Notify& out) {
  if (!v.is_object()) return Malformed("notify must be an object", "/notify");
  std::vector<std::string> unknown;
  for (const auto& [key, member] : v.items()) {
    if (key == "webhook") {
      if (member.is_null()) continue;
      ASSIGN_OR_RETURN(std::string url, JsonString(member, "/notify/webhook"));
      out.webhook = std::move(url);
    } else if (key == "email") {
      if (member.is_null()) continue;
      ASSIGN_OR_RETURN(out.email, JsonStringArray(member, "/notify/email"));
    } else {
      unknown.push_back(key);
    }
  }
  if (!unknown.empty()) {
    return InvalidArgument("unknown member(s) of notify: " + Join(unknown),
                           "/notify/" + JsonPointerToken(unknown.front()));
  }
  return ValidateNotify(out);
}

// "record_ids": 1..kMaxRecordIds strings or integers, kept as sent; PrepareRequest fits them to
// the key's type.
Result<std::vector<FilterValue>> JsonRecordIds(const Json& v) {
  const std::string pointer = "/record_ids";
  if (!v.is_array())
    return Malformed("record_ids must be an array of strings or integers", pointer);
  if (v.empty() || v.size() > kMaxRecordIds) {
    return InvalidArgument("record_ids takes 1 to " + std::to_string(kMaxRecordIds) +
                               " ids; omit it to export by filter",
                           pointer);
  }
  std::vector<FilterValue> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const Json& id = v[i];
    if (!id.is_string() && !id.is_number_integer()) {
      return Malformed("a record id must be a string or an integer",
                       pointer + "/" + std::to_string(i));
    }
    ASSIGN_OR_RETURN(FilterValue value, JsonScalar(id, pointer + "/" + std::to_string(i)));
    out.push_back(std::move(value));
  }
  return out;
}

Result<int64_t> JsonMaxRows(const Json& v) {
  const std::string pointer = "/max_rows_per_file";
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u < 1 || u > static_cast<uint64_t>(kMaxRowsPerFile)) return MaxRowsOutOfRange();
    return static_cast<int64_t>(u);
  }
  if (!v.is_number_integer()) return Malformed("max_rows_per_file must be an integer", pointer);
  const auto rows = v.get<int64_t>();
  if (rows < 1 || rows > kMaxRowsPerFile) return MaxRowsOutOfRange();
  return rows;
}

// "retention": whole seconds or a duration string.
Result<std::chrono::seconds> JsonRetention(const Json& v) {
  const std::string pointer = "/retention";
  if (v.is_string()) return RetentionValue(ParseDuration(v.get_ref<const std::string&>(), pointer));
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(kMaxDuration.count())) {
      return InvalidArgument("retention is too long", pointer);
    }
    return RetentionValue(std::chrono::seconds(static_cast<int64_t>(u)));
  }
  if (v.is_number_integer()) return RetentionValue(DurationFromSeconds(v.get<int64_t>(), pointer));
  return Malformed("retention must be an integer (seconds) or a duration string like \"7d\"",
                   pointer);
}

Result<CreateExportInput> FromJsonObject(const Json& doc) {
  CreateExportInput in;
  ExportRequest& r = in.request;
  auto member = [&doc](const char* name) -> const Json* {
    auto it = doc.find(name);
    return it == doc.end() || it->is_null() ? nullptr : &*it;
  };

  const Json* dataset = member("dataset");
  if (dataset == nullptr) return Malformed("dataset is required", "/dataset");
  ASSIGN_OR_RETURN(r.dataset, JsonString(*dataset, "/dataset"));

  std::optional<Format> format;
  if (const Json* v = member("format")) {
    ASSIGN_OR_RETURN(std::string name, JsonString(*v, "/format"));
    ASSIGN_OR_RETURN(format, ParseFormatValue(name, "/format"));
  }
  if (const Json* v = member("fileType")) {
    ASSIGN_OR_RETURN(std::string name, JsonString(*v, "/fileType"));
    ASSIGN_OR_RETURN(Format alias, ParseFormatValue(name, "/fileType"));
    if (format && *format != alias) {
      return InvalidArgument("format and fileType disagree", "/fileType");
    }
    format = alias;
  }
  if (format) r.format = *format;

  if (const Json* v = member("fields")) {
    ASSIGN_OR_RETURN(r.fields, JsonStringArray(*v, "/fields"));
    if (r.fields.empty()) {
      return InvalidArgument("fields must not be empty; omit it to export every field", "/fields");
    }
  }
  if (const Json* v = member("filter")) RETURN_IF_ERROR(ParseJsonFilter(*v, r.filter));
  if (const Json* v = member("since")) {
    ASSIGN_OR_RETURN(std::string text, JsonString(*v, "/since"));
    ASSIGN_OR_RETURN(r.since, ParseTime(text, "/since"));
  }
  if (const Json* v = member("until")) {
    ASSIGN_OR_RETURN(std::string text, JsonString(*v, "/until"));
    ASSIGN_OR_RETURN(r.until, ParseTime(text, "/until"));
  }
  if (const Json* v = member("partitions")) {
    ASSIGN_OR_RETURN(r.partitions, JsonStringArray(*v, "/partitions"));
    if (r.partitions.empty()) {
      return InvalidArgument("partitions must not be empty; omit it to export every partition",
                             "/partitions");
    }
    if (r.partitions.size() > kMaxPartitions) {
      return InvalidArgument("at most " + std::to_string(kMaxPartitions) + " partitions",
                             "/partitions");
    }
  }
  if (const Json* v = member("max_rows_per_file")) {
    ASSIGN_OR_RETURN(r.max_rows_per_file, JsonMaxRows(*v));
  }
  if (const Json* v = member("compression")) {
    ASSIGN_OR_RETURN(std::string name, JsonString(*v, "/compression"));
    ASSIGN_OR_RETURN(r.compression, ParseCompressionValue(name));
  }
  if (const Json* v = member("tag")) {
    ASSIGN_OR_RETURN(std::string tag, JsonString(*v, "/tag"));
    if (CodePoints(tag) > kMaxTagChars) {
      return InvalidArgument("tag is longer than " + std::to_string(kMaxTagChars) + " characters",
                             "/tag");
    }
    in.tag = std::move(tag);
  }
  if (const Json* v = member("notify")) RETURN_IF_ERROR(ParseJsonNotify(*v, in.notify));
  if (const Json* v = member("retention")) {
    ASSIGN_OR_RETURN(in.retention, JsonRetention(*v));
  }
  if (const Json* v = member("escape_formulas")) {
    if (!v->is_boolean()) {
      return Malformed("escape_formulas must be true or false", "/escape_formulas");
    }
    in.escape_formulas = v->get<bool>();
  }
  if (const Json* v = member("incremental")) {
    if (!v->is_boolean()) return Malformed("incremental must be true or false", "/incremental");
    r.incremental = v->get<bool>();
  }
  if (const Json* v = member("export_type")) {
    ASSIGN_OR_RETURN(std::string name, JsonString(*v, "/export_type"));
    ASSIGN_OR_RETURN(r.export_type, ParseExportTypeValue(name));
  }
  if (const Json* v = member("time_zone")) {
    ASSIGN_OR_RETURN(r.time_zone, JsonString(*v, "/time_zone"));
  }
  if (const Json* v = member("record_ids")) {
    ASSIGN_OR_RETURN(r.record_ids, JsonRecordIds(*v));
  }
  if (const Json* v = member("split_by")) {
    ASSIGN_OR_RETURN(std::string name, JsonString(*v, "/split_by"));
    ASSIGN_OR_RETURN(r.split_by, ParseSplitByValue(name));
  }

  static const std::set<std::string, std::less<>> kKnown = {
      "dataset",   "format",          "fileType",          "fields",      "filter",    "since",
      "until",     "partitions",      "max_rows_per_file", "compression", "tag",       "notify",
      "retention", "escape_formulas", "incremental",       "export_type", "time_zone", "record_ids",
      "split_by"};
  std::vector<std::string> unknown;
  for (const auto& [key, value] : doc.items()) {
    if (!kKnown.contains(key)) unknown.push_back(key);
  }
  if (!unknown.empty()) {
    return InvalidArgument("unknown member(s): " + Join(unknown),
                           "/" + JsonPointerToken(unknown.front()));
  }
  return in;
}

}  // namespace

Result<std::vector<Condition>> ParseFilterJson(const nlohmann::json& filter) {
  std::vector<Condition> out;
  try {
    RETURN_IF_ERROR(ParseJsonFilter(filter, out));
  } catch (const std::exception& e) {
    return Malformed(std::string("unexpected JSON content: ") + e.what(), "/filter");
  }
  return out;
}

Result<CreateExportInput> ParseCreateExportJson(std::string_view body) {
  JsonGuard guard;
  Json doc;
  try {
    doc = Json::parse(
        body.begin(), body.end(),
        [&guard](int depth, Json::parse_event_t event, Json& parsed) {
          return guard.OnEvent(depth, event, parsed);
        },
        /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const Json::exception& e) {
    return Malformed(std::string("the body is not valid JSON: ") + e.what());
  }
  if (guard.error()) return *guard.error();
  if (!doc.is_object()) return Malformed("the body must be a JSON object");
  // Nothing below throws for an object built by the parser (every access is type-checked
  // first), but keep exceptions inside this module whatever changes.
  try {
    return FromJsonObject(doc);
  } catch (const std::exception& e) {
    return Malformed(std::string("unexpected JSON content: ") + e.what());
  }
}

}  // namespace exportd::api
