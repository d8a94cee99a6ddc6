#include "core/request.h"

#include <algorithm>
#include <cmath>
#include <compare>
#include <set>

#include "core/dataset.h"
#include "core/text.h"
#include "core/time_format.h"

namespace exportd {
namespace {

// A limit that keeps one request's validation and SQL bounded.
constexpr size_t kMaxConditions = 256;

std::string_view ValueKind(const FilterValue& v) {
  switch (v.index()) {
    case 0:
      return "null";
    case 1:
      return "a boolean";
    case 2:
      return "an integer";
    case 3:
      return "a real number";
    default:
      return "a string";
  }
}

// A total order on values: by alternative, then by value; doubles by IEEE totalOrder so that
// sorting never meets an invalid comparator, whatever the request holds.
std::strong_ordering CompareValues(const FilterValue& a, const FilterValue& b) {
  if (a.index() != b.index()) return a.index() <=> b.index();
  if (const auto* x = std::get_if<bool>(&a)) return *x <=> std::get<bool>(b);
  if (const auto* x = std::get_if<int64_t>(&a)) return *x <=> std::get<int64_t>(b);
  if (const auto* x = std::get_if<double>(&a)) return std::strong_order(*x, std::get<double>(b));
  if (const auto* x = std::get_if<std::string>(&a)) return *x <=> std::get<std::string>(b);
  return std::strong_ordering::equal;  // both null
}

std::strong_ordering CompareValueLists(const std::vector<FilterValue>& a,
                                       const std::vector<FilterValue>& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (auto c = CompareValues(a[i], b[i]); c != 0) return c;
  }
  return a.size() <=> b.size();
}

// Ops are ordered by name, not by enum value, so the canonical text (and the query_hash) does
// not depend on the enum's declaration order.
std::strong_ordering CompareConditions(const Condition& a, const Condition& b) {
  if (auto c = a.field <=> b.field; c != 0) return c;
  if (auto c = FilterOpName(a.op) <=> FilterOpName(b.op); c != 0) return c;
  return CompareValueLists(a.values, b.values);
}

// A non-null value against the field's type. Values are expected to have been coerced
// (CoerceForDataset, core/request_prepare.h): numbers for numeric fields, bools for boolean fields,
// RFC 3339 strings for timestamps.
Status ValidateValue(const Field& field, const FilterValue& value, const std::string& pointer) {
  if (const auto* d = std::get_if<double>(&value); d != nullptr && !std::isfinite(*d)) {
    return InvalidArgument("a filter value must be a finite number", pointer);
  }
  auto mismatch = [&](std::string_view wanted) {
    return InvalidArgument("field '" + field.name + "' is " +
                               std::string(FieldTypeName(field.type)) + "; it is compared with " +
                               std::string(wanted) + ", not " + std::string(ValueKind(value)),
                           pointer);
  };
  switch (field.type) {
    case FieldType::kInteger:
    case FieldType::kReal:
      if (!std::holds_alternative<int64_t>(value) && !std::holds_alternative<double>(value)) {
        return mismatch("a number");
      }
      break;
    case FieldType::kText:
      if (!std::holds_alternative<std::string>(value)) return mismatch("a string");
      break;
    case FieldType::kBoolean:
      if (!std::holds_alternative<bool>(value)) return mismatch("true or false");
      break;
    case FieldType::kTimestamp: {
      const auto* s = std::get_if<std::string>(&value);
      if (s == nullptr || !ParseRfc3339(*s).has_value()) {
        return mismatch("an RFC 3339 timestamp string");
      }
      break;
    }
    case FieldType::kAny:
      break;
  }
  return Status::Ok();
}

Status ValidateCondition(const Condition& c, const Dataset& dataset) {
  const Field* field = dataset.FindField(c.field);
  if (field == nullptr) {
    return InvalidArgument("unknown field '" + c.field + "' in dataset '" + dataset.name() + "'",
                           "/filter/" + JsonPointerToken(c.field));
  }
  const std::string pointer = ConditionPointer(c);
  const std::string op_name(FilterOpName(c.op));
  if (c.op == FilterOp::kIn) {
    if (c.values.empty() || c.values.size() > kMaxInValues) {
      return InvalidArgument("'in' takes 1 to " + std::to_string(kMaxInValues) + " values",
                             pointer);
    }
    for (size_t i = 0; i < c.values.size(); ++i) {
      const std::string value_pointer = pointer + "/" + std::to_string(i);
      if (std::holds_alternative<std::monostate>(c.values[i])) {
        return InvalidArgument("'in' cannot match null; use the 'null' operator", value_pointer);
      }
      RETURN_IF_ERROR(ValidateValue(*field, c.values[i], value_pointer));
    }
    return Status::Ok();
  }
  if (c.values.size() != 1) {
    return InvalidArgument("'" + op_name + "' takes exactly one value", pointer);
  }
  const FilterValue& value = c.values.front();
  switch (c.op) {
    case FilterOp::kNull:
      if (!std::holds_alternative<bool>(value)) {
        return InvalidArgument("'null' takes true (is null) or false (is not null)", pointer);
      }
      return Status::Ok();
    case FilterOp::kPrefix:
      if (field->type != FieldType::kText && field->type != FieldType::kAny) {
        return InvalidArgument("'prefix' needs a text field; '" + field->name + "' is " +
                                   std::string(FieldTypeName(field->type)),
                               pointer);
      }
      if (!std::holds_alternative<std::string>(value)) {
        return InvalidArgument("'prefix' takes a string", pointer);
      }
      return Status::Ok();
    case FilterOp::kEq:
    case FilterOp::kNe:
      // eq/ne null are the null test spelled differently; Canonicalize rewrites them.
      if (std::holds_alternative<std::monostate>(value)) return Status::Ok();
      return ValidateValue(*field, value, pointer);
    default:
      break;
  }
  // Ordering operators.
  if (std::holds_alternative<std::monostate>(value)) {
    return InvalidArgument("'" + op_name + "' cannot compare with null", pointer);
  }
  if (field->type == FieldType::kBoolean) {
    return InvalidArgument(
        "'" + op_name + "' is meaningless on boolean field '" + field->name + "'", pointer);
  }
  return ValidateValue(*field, value, pointer);
}

// record_ids against the dataset's key: integers for an integer key, strings for a text key,
// either for a key of undeclared type; not together with the options that choose rows by time.
Status ValidateRecordIds(const ExportRequest& request, const Dataset& dataset) {
  if (request.record_ids.empty()) return Status::Ok();
  const std::string pointer = "/record_ids";
  if (request.incremental) {
    return InvalidArgument("record_ids cannot be combined with incremental", pointer);
  }
  if (request.since || request.until) {
    return InvalidArgument("record_ids cannot be combined with since or until", pointer);
  }
  if (request.record_ids.size() > kMaxRecordIds) {
    return InvalidArgument("record_ids takes 1 to " + std::to_string(kMaxRecordIds) + " ids",
                           pointer);
  }
  const Field* key = dataset.FindField(dataset.spec().key);
  const FieldType type = key == nullptr ? FieldType::kAny : key->type;
  if (type != FieldType::kInteger && type != FieldType::kText && type != FieldType::kAny) {
    return InvalidArgument("record_ids needs a dataset whose key is an integer or text; '" +
                               dataset.spec().key + "' is " + std::string(FieldTypeName(type)),
                           pointer);
  }
  for (size_t i = 0; i < request.record_ids.size(); ++i) {
    const FilterValue& id = request.record_ids[i];
    const bool integer = std::holds_alternative<int64_t>(id);
    const bool text = std::holds_alternative<std::string>(id);
    const bool fits = type == FieldType::kInteger ? integer
                      : type == FieldType::kText  ? text
                                                  : integer || text;
    if (!fits) {
      const std::string_view wanted = type == FieldType::kInteger ? "an integer"
                                      : type == FieldType::kText  ? "a string"
                                                                  : "an integer or a string";
      return InvalidArgument("the key '" + dataset.spec().key + "' is " +
                                 std::string(FieldTypeName(type)) + "; a record id must be " +
                                 std::string(wanted) + ", not " + std::string(ValueKind(id)),
                             pointer + "/" + std::to_string(i));
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view ExportTypeName(ExportType t) {
  switch (t) {
    case ExportType::kInstant:
      return "instant";
    case ExportType::kHourly:
      return "hourly";
    case ExportType::kDaily:
      return "daily";
  }
  return "instant";
}

std::optional<ExportType> ParseExportType(std::string_view name) {
  for (ExportType t : {ExportType::kInstant, ExportType::kHourly, ExportType::kDaily}) {
    if (name == ExportTypeName(t)) return t;
  }
  return std::nullopt;
}

std::string_view SplitByName(SplitBy s) {
  switch (s) {
    case SplitBy::kPartition:
      return "partition";
  }
  return "partition";
}

std::optional<SplitBy> ParseSplitBy(std::string_view name) {
  if (name == SplitByName(SplitBy::kPartition)) return SplitBy::kPartition;
  return std::nullopt;
}

std::string_view FormatName(Format f) {
  switch (f) {
    case Format::kCsv:
      return "csv";
    case Format::kTsv:
      return "tsv";
    case Format::kJson:
      return "json";
    case Format::kNdjson:
      return "ndjson";
  }
  return "csv";
}

std::optional<Format> ParseFormat(std::string_view name) {
  for (Format f : {Format::kCsv, Format::kTsv, Format::kJson, Format::kNdjson}) {
    if (name == FormatName(f)) return f;
  }
  return std::nullopt;
}

std::string_view FormatExtension(Format f) { return FormatName(f); }

std::string_view FormatContentType(Format f) {
  switch (f) {
    case Format::kCsv:
      return "text/csv; charset=utf-8";
    case Format::kTsv:
      return "text/tab-separated-values; charset=utf-8";
    case Format::kJson:
      return "application/json";
    case Format::kNdjson:
      return "application/x-ndjson";
  }
  return "application/octet-stream";
}

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
  }
  return "none";
}

bool IsSpreadsheetFormat(Format f) { return f == Format::kCsv || f == Format::kTsv; }

std::optional<Compression> ParseCompression(std::string_view name) {
  for (Compression c : {Compression::kNone, Compression::kGzip}) {
    if (name == CompressionName(c)) return c;
  }
  return std::nullopt;
}

std::string_view FilterOpName(FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
      return "eq";
    case FilterOp::kNe:
      return "ne";
    case FilterOp::kGt:
      return "gt";
    case FilterOp::kGte:
      return "gte";
    case FilterOp::kLt:
      return "lt";
    case FilterOp::kLte:
      return "lte";
    case FilterOp::kIn:
      return "in";
    case FilterOp::kPrefix:
      return "prefix";
    case FilterOp::kNull:
      return "null";
  }
  return "eq";
}

std::optional<FilterOp> ParseFilterOp(std::string_view name) {
  for (FilterOp op : {FilterOp::kEq, FilterOp::kNe, FilterOp::kGt, FilterOp::kGte, FilterOp::kLt,
                      FilterOp::kLte, FilterOp::kIn, FilterOp::kPrefix, FilterOp::kNull}) {
    if (name == FilterOpName(op)) return op;
  }
  return std::nullopt;
}

std::string ConditionPointer(const Condition& c) {
  std::string p = "/filter/" + JsonPointerToken(c.field);
  if (c.op != FilterOp::kEq) {
    p += '/';
    p += FilterOpName(c.op);
  }
  return p;
}

// Besides ordering, rewrites conditions into one spelling per meaning: "in" values sorted and
// unique, "in" with one value becomes "eq", eq/ne null become null true/false, -0.0 becomes 0.0,
// and identical conditions collapse into one (they are ANDed, so repeating one changes nothing).
void Canonicalize(ExportRequest& request) {
  // Escaping cannot change a JSON or NDJSON file: one canonical form (and query_hash) for both.
  if (!IsSpreadsheetFormat(request.format)) request.escape_formulas = false;
  for (Condition& c : request.filter) {
    for (FilterValue& v : c.values) {
      if (auto* d = std::get_if<double>(&v); d != nullptr && *d == 0.0) *d = 0.0;
    }
    if (c.op == FilterOp::kIn) {
      std::sort(c.values.begin(), c.values.end(),
                [](const FilterValue& a, const FilterValue& b) { return CompareValues(a, b) < 0; });
      c.values.erase(std::unique(c.values.begin(), c.values.end(),
                                 [](const FilterValue& a, const FilterValue& b) {
                                   return CompareValues(a, b) == 0;
                                 }),
                     c.values.end());
      if (c.values.size() == 1) c.op = FilterOp::kEq;
    }
    if ((c.op == FilterOp::kEq || c.op == FilterOp::kNe) && c.values.size() == 1 &&
        std::holds_alternative<std::monostate>(c.values.front())) {
      c.values.front() = (c.op == FilterOp::kEq);
      c.op = FilterOp::kNull;
    }
  }
  std::sort(request.filter.begin(), request.filter.end(),
            [](const Condition& a, const Condition& b) { return CompareConditions(a, b) < 0; });
  request.filter.erase(std::unique(request.filter.begin(), request.filter.end(),
                                   [](const Condition& a, const Condition& b) {
                                     return CompareConditions(a, b) == 0;
                                   }),
                       request.filter.end());
  std::sort(request.partitions.begin(), request.partitions.end());
  request.partitions.erase(std::unique(request.partitions.begin(), request.partitions.end()),
                           request.partitions.end());
  // The key's order: ids of one dataset are all integers or all strings (ValidateRequest), which
  // CompareValues orders as the source does (numbers numerically, text bytewise).
  std::sort(request.record_ids.begin(), request.record_ids.end(),
            [](const FilterValue& a, const FilterValue& b) { return CompareValues(a, b) < 0; });
  request.record_ids.erase(std::unique(request.record_ids.begin(), request.record_ids.end(),
                                       [](const FilterValue& a, const FilterValue& b) {
                                         return CompareValues(a, b) == 0;
                                       }),
                           request.record_ids.end());
}

Status ValidateRequest(const ExportRequest& request, const Dataset& dataset) {
  if (request.dataset != dataset.name()) {
    return InvalidArgument(
        "the request names dataset '" + request.dataset + "', not '" + dataset.name() + "'",
        "/dataset");
  }
  std::set<std::string_view> seen;
  for (size_t i = 0; i < request.fields.size(); ++i) {
    const std::string& name = request.fields[i];
    const std::string pointer = "/fields/" + std::to_string(i);
    if (dataset.FindField(name) == nullptr) {
      return InvalidArgument("unknown field '" + name + "' in dataset '" + dataset.name() + "'",
                             pointer);
    }
    if (!seen.insert(name).second) {
      return InvalidArgument("field '" + name + "' is listed twice", pointer);
    }
  }
  if (request.filter.size() > kMaxConditions) {
    return InvalidArgument("at most " + std::to_string(kMaxConditions) + " filter conditions",
                           "/filter");
  }
  for (const Condition& c : request.filter) RETURN_IF_ERROR(ValidateCondition(c, dataset));
  const auto& spec = dataset.spec();
  if ((request.since || request.until) && !spec.time_field) {
    return InvalidArgument("dataset '" + dataset.name() + "' has no time field to range on",
                           request.since ? "/since" : "/until");
  }
  if (request.since && request.until && !(*request.since < *request.until)) {
    return InvalidArgument("until must be later than since", "/until");
  }
  if (!request.partitions.empty() && !spec.partition_field) {
    return InvalidArgument("dataset '" + dataset.name() + "' has no partition field",
                           "/partitions");
  }
  if (request.max_rows_per_file < 1 || request.max_rows_per_file > kMaxRowsPerFile) {
    return InvalidArgument(
        "max_rows_per_file must be between 1 and " + std::to_string(kMaxRowsPerFile),
        "/max_rows_per_file");
  }
  RETURN_IF_ERROR(ValidateRecordIds(request, dataset));
  if (request.incremental && (!spec.time_field || !spec.partition_field)) {
    return InvalidArgument(
        "incremental needs a dataset with a time field and a partition field; '" + dataset.name() +
            "' has " +
            (spec.time_field        ? "no partition field"
             : spec.partition_field ? "no time field"
                                    : "neither"),
        "/incremental");
  }
  if (request.split_by == SplitBy::kPartition && !spec.partition_field) {
    return InvalidArgument("dataset '" + dataset.name() + "' has no partition field to split by",
                           "/split_by");
  }
  return Status::Ok();
}

}  // namespace exportd
