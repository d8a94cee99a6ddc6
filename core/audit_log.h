// AuditLog: the append-only events of a TaskStore's tasks (core/task_store.h), per task and
// across tasks (GET /v1/audit).
#ifndef EXPORTD_CORE_AUDIT_LOG_H_
#define EXPORTD_CORE_AUDIT_LOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/task.h"

namespace exportd {

// The audit trail across tasks (GET /v1/audit): every filter that is set must match.
struct EventQuery {
  std::optional<std::string> actor;
  std::optional<std::string> task_id;
  std::vector<std::string> types;  // any of these; empty: every type
  std::optional<TimePoint> since;  // at >= since
  std::optional<TimePoint> until;  // at < until
  std::optional<std::string> remote;
  std::optional<std::string> file;
  std::optional<std::string> outcome;
  int limit = 100;
  std::optional<int64_t> before_seq;  // keyset cursor: events with seq < before_seq
};

struct EventPage {
  std::vector<TaskEvent> items;        // newest first (descending seq)
  std::optional<int64_t> next_cursor;  // the last item's seq when more may follow
};

// The events of every task: the transitions' own, recorded by the other interfaces in the same
// transaction as the change, and the non-transition ones appended here. Thread-safe. Every
// method is atomic; a returned OK means the change is durable.
class AuditLog {
 public:
  virtual ~AuditLog() = default;

  // Appends a non-transition event (e.g. "download"). Events are append-only: no method
  // changes or removes one, and the records of tasks are never deleted.
  virtual Status AppendEvent(const TaskEvent& event) = 0;
  virtual Result<std::vector<TaskEvent>> Events(const std::string& id) = 0;  // by seq
  // The events of every task that match `query`, newest first. kInvalidArgument if
  // query.limit < 1.
  virtual Result<EventPage> ListEvents(const EventQuery& query) = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_AUDIT_LOG_H_
