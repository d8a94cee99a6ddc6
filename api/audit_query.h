// The query string of GET /v1/audit -> EventQuery. Kept apart from the handler so that every
// rule about its parameters is in one place and testable without a server.
#ifndef EXPORTD_API_AUDIT_QUERY_H_
#define EXPORTD_API_AUDIT_QUERY_H_

#include <map>
#include <string>

#include "core/status.h"
#include "core/task_store.h"

namespace exportd::api {

inline constexpr int kAuditDefaultLimit = 100;
inline constexpr int kAuditMaxLimit = 1000;

// Keys (each at most once, except `type`): actor, task (an export id), type (repeatable and
// comma-separated: any of them), since and until (RFC 3339; at >= since, at < until), remote,
// file, outcome (one of openapi.yaml's AccessOutcome), limit (1..1000, default 100), cursor (a
// next_cursor of an earlier page).
// Errors, as GET /v1/exports has them: kMalformed (400) for a repeated key, a limit that is not
// an integer, a timestamp that does not parse, a cursor this server did not return;
// kInvalidArgument (422, with a pointer such as "/since") for an unknown key, an empty value, a
// limit out of range, a task that is not an export id, an unknown outcome, since not before
// until.
Result<EventQuery> ParseAuditQuery(const std::multimap<std::string, std::string>& params);

// The cursor text of the page after one that ended with the event `seq`.
std::string AuditCursor(int64_t seq);

}  // namespace exportd::api

#endif  // EXPORTD_API_AUDIT_QUERY_H_
