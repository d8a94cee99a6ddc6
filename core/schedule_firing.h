// What a schedule's firing creates: the export request of one slot, from the schedule's
// template. Pure functions, except FireThrough, which creates the task through ExportService.
#ifndef EXPORTD_CORE_SCHEDULE_FIRING_H_
#define EXPORTD_CORE_SCHEDULE_FIRING_H_

#include <functional>
#include <string>

#include "core/clock.h"
#include "core/export_service.h"
#include "core/schedule.h"
#include "core/status.h"
#include "core/task.h"
#include "core/telemetry.h"
#include "core/time_zone.h"

namespace exportd {

// The slot of a manual run ("run now") at `now`: now to the millisecond, moved 1 ms later when
// that is a whole second. Cron slots are whole minutes, so a manual run never takes (or is
// refused by) a slot of the cron; it is recorded under its own instant.
TimePoint ManualRunSlot(TimePoint now);
// Whether `slot` is one ManualRunSlot gives (not a whole second).
bool IsManualRunSlot(TimePoint slot);

// "schedule=<name>;slot=<slot, RFC 3339 UTC>" (whole seconds for cron slots, milliseconds for
// manual runs).
std::string FiringTag(const Schedule& schedule, TimePoint slot);

// The create-export request of `schedule`'s firing for `slot`: the template's request with
// schedule_id and schedule_slot; the template's tag, else FiringTag; and, when the template's
// export_type is daily or hourly and it gives no `until`, the start of the slot's day or hour
// in `zone` (the schedule's zone: WindowEndForSlot) as `until`.
CreateExportArgs FiringArgs(const Schedule& schedule, const TimeZone& zone, TimePoint slot);

// Creates the export task of `schedule`'s firing for `slot`, with its "created" event caused by
// `origin`. kAlreadyExists when the slot already has a task (fired before, by this or another
// instance); the errors of ExportService::CreateForSchedule otherwise (a stale template:
// kInvalidArgument; the owner's quota: kResourceExhausted).
using FireFn =
    std::function<Result<Task>(const Schedule& schedule, TimePoint slot, const EventOrigin&)>;

// A FireFn over `service`, finding the schedule's zone in `zones`. Both must outlive it.
FireFn FireThrough(ExportService& service, const TimeZoneDb& zones);

// `fire`, with each firing's outcome counted in `telemetry` (which must outlive it): "created",
// "already_fired" (kAlreadyExists) or "error".
FireFn CountedFiring(FireFn fire, Telemetry& telemetry);

}  // namespace exportd

#endif  // EXPORTD_CORE_SCHEDULE_FIRING_H_
