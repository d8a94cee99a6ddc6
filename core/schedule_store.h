// ScheduleStore: where schedules are kept. Implemented in storage/ (SqliteScheduleStore).
#ifndef EXPORTD_CORE_SCHEDULE_STORE_H_
#define EXPORTD_CORE_SCHEDULE_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "core/schedule.h"
#include "core/status.h"

namespace exportd {

// Thread-safe. Times are kept to the millisecond.
class ScheduleStore {
 public:
  virtual ~ScheduleStore() = default;

  // Stores a new schedule (its last_run is ignored: a new schedule has fired nothing).
  // kAlreadyExists for a used id.
  virtual Status Create(const Schedule& schedule) = 0;
  // kNotFound for an unknown id.
  virtual Result<Schedule> Get(const std::string& id) = 0;
  // The schedules of `principal`, or every schedule when nullopt, in id order (creation order).
  // No pagination: a principal has few schedules, each a small row.
  virtual Result<std::vector<Schedule>> List(const std::optional<std::string>& principal) = 0;
  // Replaces what the owner controls (name, cron, time_zone, request, enabled, catch_up),
  // enabled_at and updated_at; principal, created_at and last_run stay as stored (firing writes
  // last_run). kNotFound for an unknown id.
  virtual Status Update(const Schedule& schedule) = 0;
  // kNotFound for an unknown id. The runs it fired (and their tasks) stay.
  virtual Status Delete(const std::string& id) = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_SCHEDULE_STORE_H_
