// Schedules: a cron expression in a time zone and the create-export request it fires with.
// The rules of what a valid schedule is live here; ScheduleService (core/schedule_service.h)
// applies them, ScheduleStore (core/schedule_store.h) keeps schedules.
#ifndef EXPORTD_CORE_SCHEDULE_H_
#define EXPORTD_CORE_SCHEDULE_H_

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/request.h"
#include "core/schedule_slots.h"  // CatchUp
#include "core/status.h"

namespace exportd {

// The create-export body a schedule fires with, as decoded and before PrepareRequest: a firing
// prepares it against the dataset as configured then, and the deployment's defaults (retention,
// escape_formulas) apply as they are then. No idempotency key: (schedule, slot) is the key.
struct ScheduleTemplate {
  ExportRequest request;
  std::optional<std::string> tag;
  Notify notify;
  std::optional<std::chrono::seconds> retention;  // nullopt: the deployment's default
  std::optional<bool> escape_formulas;            // nullopt: the deployment's default

  friend bool operator==(const ScheduleTemplate&, const ScheduleTemplate&) = default;
};

// The latest slot fired: written by firing, never by the owner.
struct ScheduleRun {
  TimePoint slot{};
  std::string task_id;
  TimePoint at{};  // when the task was created

  friend bool operator==(const ScheduleRun&, const ScheduleRun&) = default;
};

struct Schedule {
  std::string id;  // "sch_" + ULID
  std::string principal;
  std::string name;
  std::string cron;       // as written; valid for ParseCron
  std::string time_zone;  // an IANA name as the TimeZoneDb spells it
  ScheduleTemplate request;
  bool enabled = true;
  CatchUp catch_up = CatchUp::kLatest;
  TimePoint created_at{};
  TimePoint updated_at{};
  // When it was created, last enabled, or its cron or zone last changed: no slot at or before
  // it fires (SlotInput::enabled_at, core/schedule_slots.h). Not shown by the API.
  TimePoint enabled_at{};
  std::optional<ScheduleRun> last_run;

  friend bool operator==(const Schedule&, const Schedule&) = default;
};

inline constexpr size_t kMaxScheduleNameChars = 200;  // Unicode code points
inline constexpr std::string_view kScheduleIdPrefix = "sch_";

// "sch_" + a new ULID.
std::string NewScheduleId(TimePoint now);
// Whether `id` has the shape NewScheduleId gives (anything else names no schedule).
bool IsScheduleId(std::string_view id);

// 1..kMaxScheduleNameChars code points of valid UTF-8, not only white space: kInvalidArgument
// at "/name" otherwise.
Status ValidateScheduleName(std::string_view name);

}  // namespace exportd

#endif  // EXPORTD_CORE_SCHEDULE_H_
