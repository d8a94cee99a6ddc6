// ScheduleRunner: fires the due slots of every enabled schedule.
//
// Each run lists the schedules, asks PlanSlots (core/schedule_slots.h) which slots of each are
// due at clock.Now() (from the last slot it fired, when it was enabled and its catch_up), and
// fires each through a FireFn (core/schedule_firing.h), oldest first. The store refuses a
// second task for a (schedule, slot) (kAlreadyExists): such a slot was fired already, by an
// earlier run or another instance, and is skipped silently. Any other failure (the owner's
// quota, a dataset gone) is logged and the slot is not recorded, so the next run fires it again
// (catch_up permitting). A schedule deleted or disabled fires no more: each slot re-reads its
// schedule just before firing.
//
// The background thread runs at once, then sleeps until the earliest next slot of any schedule,
// at most `max_sleep` (so that clock jumps and failed slots are noticed), or until Wake().
#ifndef EXPORTD_CORE_SCHEDULE_RUNNER_H_
#define EXPORTD_CORE_SCHEDULE_RUNNER_H_

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/cron.h"
#include "core/logger.h"
#include "core/schedule.h"
#include "core/schedule_firing.h"
#include "core/schedule_store.h"
#include "core/time_zone.h"
#include "core/wakeable_thread.h"

namespace exportd {

struct ScheduleRunnerOptions {
  // The longest sleep between runs (measured on the steady clock).
  std::chrono::milliseconds max_sleep{30'000};
};

struct ScheduleRunStats {
  int fired = 0;    // tasks created
  int skipped = 0;  // slots that had a task already (kAlreadyExists)
  int failed = 0;   // slots (or schedules) left for the next run
  // The earliest slot after now of any enabled schedule; nullopt: none.
  std::optional<TimePoint> next;
  // Some schedule had more due slots than one run fires (catch_up all): run again at once.
  bool more_due = false;
};

// Thread-safe: RunOnce may be called from any thread, also while the background thread runs
// (runs are serialised). The referenced objects must outlive the runner.
class ScheduleRunner {
 public:
  ScheduleRunner(ScheduleStore& schedules, const TimeZoneDb& zones, const Clock& clock,
                 Logger& logger, FireFn fire, ScheduleRunnerOptions options);
  ~ScheduleRunner() { Stop(); }
  ScheduleRunner(const ScheduleRunner&) = delete;
  ScheduleRunner& operator=(const ScheduleRunner&) = delete;

  // One pass over every enabled schedule at clock.Now().
  ScheduleRunStats RunOnce();

  // Starts the background thread. At most once.
  void Start();
  // Makes the thread run now (a schedule was created, changed or deleted). Never blocks.
  void Wake() { thread_.Wake(); }
  // Wakes the thread and joins it; a firing in progress finishes first. Idempotent.
  void Stop() { thread_.Stop(); }

 private:
  // One run of the background thread; how long to sleep after it.
  std::chrono::milliseconds Pass();
  bool stopping() const { return thread_.stopping(); }
  void FireDue(const Schedule& listed, TimePoint now, ScheduleRunStats& stats);
  // The last slot of the cron that fired, as PlanSlots wants it (REQUIRES: run_mu_ held).
  std::optional<SysSeconds> LastFired(const Schedule& schedule, const CronExpr& expr,
                                      const TimeZone& zone) const;

  ScheduleStore& schedules_;
  const TimeZoneDb& zones_;
  const Clock& clock_;
  Logger& logger_;
  const FireFn fire_;
  const ScheduleRunnerOptions options_;

  std::mutex run_mu_;  // serialises RunOnce
  // Per schedule, the latest cron slot this runner saw fired (created or refused as taken):
  // spares a store round trip per run after a manual run (see LastFired). Guarded by run_mu_.
  std::map<std::string, SysSeconds> known_fired_;

  WakeableThread thread_;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_SCHEDULE_RUNNER_H_
