#include "core/schedule_firing.h"

#include <chrono>
#include <memory>
#include <utility>

#include "core/schedule_service.h"
#include "core/schedule_slots.h"
#include "core/time_format.h"
#include "core/time_zone.h"

namespace exportd {
namespace {}  // namespace

TimePoint ManualRunSlot(TimePoint now) {
  const TimePoint slot = std::chrono::floor<Millis>(now);
  return IsManualRunSlot(slot) ? slot : slot + Millis(1);
}

bool IsManualRunSlot(TimePoint slot) { return slot != TimePoint(FloorSeconds(slot)); }

std::string FiringTag(const Schedule& schedule, TimePoint slot) {
  return "schedule=" + schedule.name +
         ";slot=" + (IsManualRunSlot(slot) ? FormatRfc3339(slot) : FormatRfc3339Seconds(slot));
}

CreateExportArgs FiringArgs(const Schedule& schedule, const TimeZone& zone, TimePoint slot) {
  CreateExportArgs args = ToCreateExportArgs(schedule.request);
  if (!args.tag) args.tag = FiringTag(schedule, slot);
  const ExportType type = args.request.export_type;
  if (!args.request.until && (type == ExportType::kDaily || type == ExportType::kHourly)) {
    args.request.until =
        WindowEndForSlot(type == ExportType::kDaily ? WindowPeriod::kDaily : WindowPeriod::kHourly,
                         zone, FloorSeconds(slot));
  }
  args.schedule_id = schedule.id;
  args.schedule_slot = slot;
  return args;
}

FireFn FireThrough(ExportService& service, const TimeZoneDb& zones) {
  return [&service, &zones](const Schedule& schedule, TimePoint slot,
                            const EventOrigin& origin) -> Result<Task> {
    Result<std::shared_ptr<const TimeZone>> zone = zones.Find(schedule.time_zone);
    if (!zone.ok()) {
      return Status(StatusCode::kFailedPrecondition, "schedule " + schedule.id + ": time zone " +
                                                         schedule.time_zone + ": " +
                                                         zone.status().message());
    }
    return service.CreateForSchedule(schedule.principal, FiringArgs(schedule, **zone, slot),
                                     origin);
  };
}

FireFn CountedFiring(FireFn fire, Telemetry& telemetry) {
  return [fire = std::move(fire), &telemetry](const Schedule& schedule, TimePoint slot,
                                              const EventOrigin& origin) -> Result<Task> {
    Result<Task> task = fire(schedule, slot, origin);
    telemetry.ScheduleFired(schedule.request.request.dataset,
                            task.ok()                                            ? "created"
                            : task.status().code() == StatusCode::kAlreadyExists ? "already_fired"
                                                                                 : "error");
    return task;
  };
}

}  // namespace exportd
