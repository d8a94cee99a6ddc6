#include "api/audit_query.h"

#include <charconv>

#include "core/time_format.h"
#include "core/ulid.h"

namespace exportd::api {
namespace {

Result<int64_t> ParseDecimal(const std::string& text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Malformed("not an integer");
  }
  return value;
}

Result<TimePoint> ParseInstant(const std::string& name, const std::string& text) {
  std::optional<TimePoint> t = ParseRfc3339(text);
  if (!t) {
    return Malformed(
        name + " must be an RFC 3339 timestamp such as 2025-03-01T10:00:00Z, not '" + text + "'",
        "/" + name);
  }
  return *t;
}

// Event types are lower-case words with underscores ("download", "access_denied").
bool IsTypeName(const std::string& type) {
  if (type.empty() || type.size() > 64) return false;
  for (char c : type) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  return true;
}

// The outcomes a file access can have (openapi.yaml's AccessOutcome).
bool IsAccessOutcome(const std::string& outcome) {
  for (const char* known : {"completed", "interrupted", "not_modified", "denied", "gone",
                            "not_found", "range_not_satisfiable", "failed"}) {
    if (outcome == known) return true;
  }
  return false;
}

}  // namespace

Result<EventQuery> ParseAuditQuery(const std::multimap<std::string, std::string>& params) {
  EventQuery query;
  query.limit = kAuditDefaultLimit;
  for (const auto& [name, value] : params) {
    if (name != "type" && params.count(name) > 1) {
      return Malformed("query parameter '" + name + "' is repeated");
    }
    if (value.empty()) {
      return InvalidArgument("query parameter '" + name + "' must not be empty", "/" + name);
    }
    if (name == "actor") {
      query.actor = value;
    } else if (name == "task") {
      if (!IsUlid(value)) return InvalidArgument("task must be an export id", "/task");
      query.task_id = value;
    } else if (name == "type") {
      size_t start = 0;
      for (;;) {
        const size_t comma = value.find(',', start);
        std::string type = value.substr(start, comma == std::string::npos ? comma : comma - start);
        if (!IsTypeName(type)) {
          return InvalidArgument("type must list event types such as download,access_denied",
                                 "/type");
        }
        query.types.push_back(std::move(type));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (name == "since") {
      ASSIGN_OR_RETURN(query.since, ParseInstant(name, value));
    } else if (name == "until") {
      ASSIGN_OR_RETURN(query.until, ParseInstant(name, value));
    } else if (name == "remote") {
      query.remote = value;
    } else if (name == "file") {
      query.file = value;
    } else if (name == "outcome") {
      if (!IsAccessOutcome(value)) {
        return InvalidArgument(
            "outcome must be one of completed, interrupted, not_modified, "
            "denied, gone, not_found, range_not_satisfiable, failed",
            "/outcome");
      }
      query.outcome = value;
    } else if (name == "limit") {
      Result<int64_t> limit = ParseDecimal(value);
      if (!limit.ok()) return Malformed("limit must be an integer", "/limit");
      if (*limit < 1 || *limit > kAuditMaxLimit) {
        return InvalidArgument("limit must be between 1 and " + std::to_string(kAuditMaxLimit),
                               "/limit");
      }
      query.limit = static_cast<int>(*limit);
    } else if (name == "cursor") {
      Result<int64_t> seq = ParseDecimal(value);
      if (!seq.ok() || *seq < 1) return Malformed("cursor is not one this server returned");
      query.before_seq = *seq;
    } else {
      return InvalidArgument("unknown query parameter '" + name + "'");
    }
  }
  if (query.since && query.until && *query.since >= *query.until) {
    return InvalidArgument("since must be before until", "/since");
  }
  return query;
}

std::string AuditCursor(int64_t seq) { return std::to_string(seq); }

}  // namespace exportd::api
