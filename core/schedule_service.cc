#include "core/schedule_service.h"

#include <utility>

#include "core/cron.h"
#include "core/time_zone.h"

namespace exportd {
namespace {

// The template's error, with its pointer moved under "/request".
Status UnderRequest(const Status& status) {
  return Status(status.code(), "request: " + status.message(), "/request" + status.pointer());
}

}  // namespace

CreateExportArgs ToCreateExportArgs(const ScheduleTemplate& request) {
  CreateExportArgs args;
  args.request = request.request;
  args.tag = request.tag;
  args.notify = request.notify;
  args.retention = request.retention;
  args.escape_formulas = request.escape_formulas;
  return args;
}

ScheduleService::ScheduleService(ScheduleStore& store, const TimeZoneDb& zones, const Clock& clock,
                                 TemplateCheck check_template, ScheduleHooks hooks)
    : store_(store),
      zones_(zones),
      clock_(clock),
      check_template_(std::move(check_template)),
      hooks_(std::move(hooks)) {}

Status ScheduleService::Validate(Schedule& schedule) const {
  RETURN_IF_ERROR(ValidateScheduleName(schedule.name));
  RETURN_IF_ERROR(ParseCron(schedule.cron).status());
  Result<std::shared_ptr<const TimeZone>> zone = zones_.Find(schedule.time_zone);
  if (!zone.ok()) return InvalidArgument(zone.status().message(), "/time_zone");
  schedule.time_zone = (*zone)->name();
  if (Status checked = check_template_(ToCreateExportArgs(schedule.request)); !checked.ok()) {
    return UnderRequest(checked);
  }
  return Status::Ok();
}

Result<ScheduleView> ScheduleService::View(Schedule schedule) const {
  ScheduleView view;
  if (schedule.enabled) {
    ASSIGN_OR_RETURN(CronExpr expr, ParseCron(schedule.cron));
    ASSIGN_OR_RETURN(std::shared_ptr<const TimeZone> zone, zones_.Find(schedule.time_zone));
    view.next_runs = NextRuns(expr, *zone, FloorSeconds(clock_.Now()), kNextRunsShown);
  }
  view.schedule = std::move(schedule);
  return view;
}

Result<Schedule> ScheduleService::GetOwned(const Principal& who, const std::string& id) {
  if (!IsScheduleId(id)) return NotFound("no schedule " + id);
  ASSIGN_OR_RETURN(Schedule schedule, store_.Get(id));
  // Another principal's schedule is answered exactly like a missing one.
  if (!who.admin && schedule.principal != who.id) return NotFound("no schedule " + id);
  return schedule;
}

Result<ScheduleView> ScheduleService::Create(const Principal& who, ScheduleSpec spec) {
  const TimePoint now = clock_.Now();
  Schedule schedule;
  schedule.id = NewScheduleId(now);
  schedule.principal = who.id;
  schedule.name = std::move(spec.name);
  schedule.cron = std::move(spec.cron);
  schedule.time_zone = std::move(spec.time_zone);
  schedule.request = std::move(spec.request);
  schedule.enabled = spec.enabled;
  schedule.catch_up = spec.catch_up;
  schedule.created_at = schedule.updated_at = schedule.enabled_at = now;
  RETURN_IF_ERROR(Validate(schedule));
  RETURN_IF_ERROR(store_.Create(schedule));
  if (hooks_.on_change) hooks_.on_change();
  return View(std::move(schedule));
}

Result<ScheduleView> ScheduleService::Get(const Principal& who, const std::string& id) {
  ASSIGN_OR_RETURN(Schedule schedule, GetOwned(who, id));
  return View(std::move(schedule));
}

Result<std::vector<ScheduleView>> ScheduleService::List(const Principal& who) {
  ASSIGN_OR_RETURN(std::vector<Schedule> schedules,
                   store_.List(who.admin ? std::nullopt : std::optional<std::string>(who.id)));
  std::vector<ScheduleView> views;
  views.reserve(schedules.size());
  for (Schedule& schedule : schedules) {
    ASSIGN_OR_RETURN(ScheduleView view, View(std::move(schedule)));
    views.push_back(std::move(view));
  }
  return views;
}

Result<ScheduleView> ScheduleService::Update(const Principal& who, const std::string& id,
                                             SchedulePatch patch) {
  ASSIGN_OR_RETURN(Schedule schedule, GetOwned(who, id));
  const Schedule before = schedule;
  if (patch.name) schedule.name = std::move(*patch.name);
  if (patch.cron) schedule.cron = std::move(*patch.cron);
  if (patch.time_zone) schedule.time_zone = std::move(*patch.time_zone);
  if (patch.request) schedule.request = std::move(*patch.request);
  if (patch.enabled) schedule.enabled = *patch.enabled;
  if (patch.catch_up) schedule.catch_up = *patch.catch_up;
  // A template valid when stored may have gone stale (a dataset or field renamed since): every
  // update checks the whole schedule again, so what is stored is always valid now.
  RETURN_IF_ERROR(Validate(schedule));
  schedule.updated_at = clock_.Now();
  // Slots of the old timing, or of the time it was paused, are not missed slots to catch up.
  const bool resumed = schedule.enabled && !before.enabled;
  if (resumed || schedule.cron != before.cron || schedule.time_zone != before.time_zone) {
    schedule.enabled_at = schedule.updated_at;
  }
  RETURN_IF_ERROR(store_.Update(schedule));
  if (hooks_.on_change) hooks_.on_change();
  return View(std::move(schedule));
}

Status ScheduleService::Delete(const Principal& who, const std::string& id) {
  RETURN_IF_ERROR(GetOwned(who, id).status());
  RETURN_IF_ERROR(store_.Delete(id));
  if (hooks_.on_change) hooks_.on_change();
  return Status::Ok();
}

Result<Task> ScheduleService::Run(const Principal& who, const std::string& id) {
  ASSIGN_OR_RETURN(Schedule schedule, GetOwned(who, id));
  if (!hooks_.fire) {
    return Status(StatusCode::kFailedPrecondition, "schedules cannot run in this server");
  }
  // Two manual runs within one millisecond would share a slot: the later takes the next one.
  TimePoint slot = ManualRunSlot(clock_.Now());
  for (int tries = 1;; ++tries) {
    Result<Task> task = hooks_.fire(schedule, slot, EventOrigin{who.id, who.remote});
    if (task.ok() || task.status().code() != StatusCode::kAlreadyExists || tries == 3) {
      return task;
    }
    slot = ManualRunSlot(slot + Millis(1));
  }
}

Result<std::vector<SysSeconds>> ScheduleService::Preview(const std::string& cron,
                                                         const std::string& time_zone,
                                                         TimePoint from, int count) const {
  ASSIGN_OR_RETURN(CronExpr expr, ParseCron(cron));
  Result<std::shared_ptr<const TimeZone>> zone = zones_.Find(time_zone);
  if (!zone.ok()) return InvalidArgument(zone.status().message(), "/time_zone");
  if (count < 1 || count > kMaxPreviewRuns) {
    return InvalidArgument("count must be 1 to " + std::to_string(kMaxPreviewRuns), "/count");
  }
  return NextRuns(expr, **zone, FloorSeconds(from), count);
}

}  // namespace exportd
