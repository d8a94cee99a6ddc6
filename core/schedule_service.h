// ScheduleService: the operations of /v1/schedules, free of HTTP. api/ calls only this.
// Firing the due slots is the ScheduleRunner's (core/schedule_runner.h); a manual run is here.
#ifndef EXPORTD_CORE_SCHEDULE_SERVICE_H_
#define EXPORTD_CORE_SCHEDULE_SERVICE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/export_service.h"
#include "core/schedule.h"
#include "core/schedule_firing.h"
#include "core/schedule_store.h"
#include "core/status.h"
#include "core/time_zone.h"

namespace exportd {

// What the owner gives when creating a schedule (defaults as in the API).
struct ScheduleSpec {
  std::string name;
  std::string cron;
  std::string time_zone = "UTC";
  ScheduleTemplate request;
  bool enabled = true;
  CatchUp catch_up = CatchUp::kLatest;
};

// PATCH: the members given; absent ones stay.
struct SchedulePatch {
  std::optional<std::string> name;
  std::optional<std::string> cron;
  std::optional<std::string> time_zone;
  std::optional<ScheduleTemplate> request;
  std::optional<bool> enabled;
  std::optional<CatchUp> catch_up;
};

// A schedule as read, with the instants it fires at next.
struct ScheduleView {
  Schedule schedule;
  // The next kNextRunsShown firing instants strictly after now; empty while disabled (a paused
  // schedule fires at no instant).
  std::vector<SysSeconds> next_runs;
};

// What the service calls beyond its store; each may be empty.
struct ScheduleHooks {
  // After each stored change (create, update, delete): e.g. ScheduleRunner::Wake. Must be
  // quick and must not throw.
  std::function<void()> on_change;
  // Creates the task of a manual run (Run); without it Run is kFailedPrecondition.
  FireFn fire;
};

inline constexpr int kNextRunsShown = 5;
inline constexpr int kMaxPreviewRuns = 100;

// Thread-safe. The referenced objects must outlive the service.
class ScheduleService {
 public:
  // Checks a request template as POST /v1/exports would check it, without creating anything:
  // ExportService::Check. Errors carry pointers into the create-export body ("/dataset").
  using TemplateCheck = std::function<Status(const CreateExportArgs&)>;

  ScheduleService(ScheduleStore& store, const TimeZoneDb& zones, const Clock& clock,
                  TemplateCheck check_template, ScheduleHooks hooks = {});

  // kInvalidArgument with the pointer of the offending member: "/name", "/cron", "/time_zone",
  // "/request/..." (the template's own pointer under "/request"). Nothing is stored then.
  Result<ScheduleView> Create(const Principal& who, ScheduleSpec spec);
  // kNotFound for unknown ids and for other principals' schedules (admins see all).
  Result<ScheduleView> Get(const Principal& who, const std::string& id);
  // The caller's schedules (every schedule for an admin), in creation order.
  Result<std::vector<ScheduleView>> List(const Principal& who);
  // Errors as Get, then as Create for the members given; nothing is stored on an error.
  Result<ScheduleView> Update(const Principal& who, const std::string& id, SchedulePatch patch);
  // Errors as Get. The schedule fires no more; its past tasks stay.
  Status Delete(const Principal& who, const std::string& id);
  // Errors as Get. A manual run, paused or not: creates the export task of the slot
  // ManualRunSlot(now) (core/schedule_firing.h), recorded as caused by `who`. The errors of
  // FireFn otherwise (a template gone stale: kInvalidArgument; the owner's quota:
  // kResourceExhausted).
  Result<Task> Run(const Principal& who, const std::string& id);

  // The first `count` (1..kMaxPreviewRuns, else kInvalidArgument at "/count") firing instants
  // of `cron` in `time_zone` strictly after `from`; fewer when it fires no more.
  Result<std::vector<SysSeconds>> Preview(const std::string& cron, const std::string& time_zone,
                                          TimePoint from, int count) const;

 private:
  // Checks what the owner controls; on success rewrites the zone as the database spells it.
  Status Validate(Schedule& schedule) const;
  Result<ScheduleView> View(Schedule schedule) const;
  Result<Schedule> GetOwned(const Principal& who, const std::string& id);

  ScheduleStore& store_;
  const TimeZoneDb& zones_;
  const Clock& clock_;
  TemplateCheck check_template_;
  ScheduleHooks hooks_;
};

// The CreateExportArgs that POST /v1/exports would get for this template.
CreateExportArgs ToCreateExportArgs(const ScheduleTemplate& request);

}  // namespace exportd

#endif  // EXPORTD_CORE_SCHEDULE_SERVICE_H_
