#include "core/request_prepare.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "core/time_format.h"

namespace exportd {
namespace {

template <typename T>
bool ParseWhole(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// 2^63 as a double: the first value past int64's range.
constexpr double kTwoPow63 = 9223372036854775808.0;
// Integers up to 2^53 in magnitude are exact as doubles.
constexpr int64_t kMaxExactInDouble = int64_t{1} << 53;

Status CoerceValue(const Field& field, FilterValue& value, const std::string& pointer) {
  auto not_a = [&](std::string_view what) {
    return InvalidArgument("'" + std::get<std::string>(value) + "' is not " + std::string(what) +
                               " (field '" + field.name + "' is " +
                               std::string(FieldTypeName(field.type)) + ")",
                           pointer);
  };
  switch (field.type) {
    case FieldType::kInteger: {
      if (const auto* s = std::get_if<std::string>(&value)) {
        int64_t i = 0;
        double d = 0;
        if (ParseWhole(*s, i)) {
          value = i;
        } else if (ParseWhole(*s, d) && std::isfinite(d)) {
          value = d;
        } else {
          return not_a("a number");
        }
      }
      if (const auto* d = std::get_if<double>(&value);
          d != nullptr && std::trunc(*d) == *d && *d >= -kTwoPow63 && *d < kTwoPow63) {
        value = static_cast<int64_t>(*d);
      }
      return Status::Ok();
    }
    case FieldType::kReal: {
      if (const auto* s = std::get_if<std::string>(&value)) {
        double d = 0;
        if (!ParseWhole(*s, d) || !std::isfinite(d)) return not_a("a number");
        value = d;
      } else if (const auto* i = std::get_if<int64_t>(&value);
                 i != nullptr && *i >= -kMaxExactInDouble && *i <= kMaxExactInDouble) {
        value = static_cast<double>(*i);
      }
      return Status::Ok();
    }
    case FieldType::kBoolean:
      if (const auto* s = std::get_if<std::string>(&value)) {
        if (*s != "true" && *s != "false") return not_a("true or false");
        value = (*s == "true");
      }
      return Status::Ok();
    case FieldType::kTimestamp:
      if (const auto* s = std::get_if<std::string>(&value)) {
        auto t = ParseRfc3339(*s);
        if (!t) return not_a("an RFC 3339 timestamp");
        value = FormatRfc3339(*t);
      }
      return Status::Ok();
    case FieldType::kText:
    case FieldType::kAny:
      return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace

Status CoerceForDataset(ExportRequest& request, const Dataset& dataset) {
  for (Condition& c : request.filter) {
    const Field* field = dataset.FindField(c.field);
    if (field == nullptr || c.op == FilterOp::kNull || c.op == FilterOp::kPrefix) continue;
    const std::string pointer = ConditionPointer(c);
    for (size_t i = 0; i < c.values.size(); ++i) {
      RETURN_IF_ERROR(
          CoerceValue(*field, c.values[i],
                      c.op == FilterOp::kIn ? pointer + "/" + std::to_string(i) : pointer));
    }
  }
  if (const Field* key = dataset.FindField(dataset.spec().key); key != nullptr) {
    for (size_t i = 0; i < request.record_ids.size(); ++i) {
      RETURN_IF_ERROR(CoerceValue(*key, request.record_ids[i], "/record_ids/" + std::to_string(i)));
    }
  }
  return Status::Ok();
}

Result<ExportRequest> PrepareRequest(ExportRequest request, const Dataset& dataset,
                                     const TimeZoneDb& time_zones) {
  RETURN_IF_ERROR(CoerceForDataset(request, dataset));
  RETURN_IF_ERROR(ValidateRequest(request, dataset));
  if (request.time_zone) {
    Result<std::shared_ptr<const TimeZone>> zone = time_zones.Find(*request.time_zone);
    if (!zone.ok()) {
      return InvalidArgument("unknown time zone '" + *request.time_zone +
                                 "' (an IANA name such as Europe/Berlin is expected)",
                             "/time_zone");
    }
    request.time_zone = (*zone)->name();
  }
  Canonicalize(request);
  const std::vector<Field>& all = dataset.fields();
  if (request.fields.size() == all.size() &&
      std::equal(all.begin(), all.end(), request.fields.begin(),
                 [](const Field& f, const std::string& name) { return f.name == name; })) {
    request.fields.clear();
  }
  return request;
}

Result<std::vector<Condition>> PrepareRowFilter(std::vector<Condition> row_filter,
                                                const Dataset& dataset) {
  ExportRequest request;
  request.dataset = dataset.name();
  request.filter = std::move(row_filter);
  RETURN_IF_ERROR(CoerceForDataset(request, dataset));
  RETURN_IF_ERROR(ValidateRequest(request, dataset));
  Canonicalize(request);
  return std::move(request.filter);
}

}  // namespace exportd
