#include "core/schedule_runner.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/schedule_slots.h"
#include "core/time_format.h"
#include "core/time_zone.h"

namespace exportd {
namespace {

std::string SlotText(TimePoint slot) { return FormatRfc3339(slot); }

}  // namespace

ScheduleRunner::ScheduleRunner(ScheduleStore& schedules, const TimeZoneDb& zones,
                               const Clock& clock, Logger& logger, FireFn fire,
                               ScheduleRunnerOptions options)
    : schedules_(schedules),
      zones_(zones),
      clock_(clock),
      logger_(logger),
      fire_(std::move(fire)),
      options_(options) {}

std::optional<SysSeconds> ScheduleRunner::LastFired(const Schedule& schedule, const CronExpr& expr,
                                                    const TimeZone& zone) const {
  std::optional<SysSeconds> last;
  if (schedule.last_run) {
    const TimePoint slot = schedule.last_run->slot;
    if (!IsManualRunSlot(slot)) {
      last = FloorSeconds(slot);
    } else if (std::optional<SysSeconds> before =
                   LastRunAtOrBefore(expr, zone, FloorSeconds(slot))) {
      // A manual run is no slot of the cron and says nothing of the cron slot before it: that
      // one is planned again, and the store refuses it (kAlreadyExists) if it fired already.
      last = *before - std::chrono::seconds(1);
    }
  }
  if (auto known = known_fired_.find(schedule.id);
      known != known_fired_.end() && (!last || known->second > *last)) {
    last = known->second;
  }
  return last;
}

void ScheduleRunner::FireDue(const Schedule& listed, TimePoint now, ScheduleRunStats& stats) {
  const std::string& id = listed.id;
  Result<CronExpr> expr = ParseCron(listed.cron);
  Result<std::shared_ptr<const TimeZone>> zone = zones_.Find(listed.time_zone);
  if (!expr.ok() || !zone.ok()) {
    // Stored schedules were valid when stored; a zone the database no longer knows is not.
    logger_.Error("schedule " + id + ": cannot plan its slots: " +
                  (expr.ok() ? zone.status() : expr.status()).ToString());
    ++stats.failed;
    return;
  }
  SlotInput input;
  input.last_fired = LastFired(listed, *expr, **zone);
  input.enabled_at = FloorSeconds(listed.enabled_at);
  input.now = FloorSeconds(now);
  input.catch_up = listed.catch_up;
  const SlotPlan plan = PlanSlots(*expr, **zone, input);
  if (plan.next && (!stats.next || TimePoint(*plan.next) < *stats.next)) stats.next = *plan.next;

  for (const SysSeconds slot : plan.due) {
    if (stopping()) return;
    // The owner may have deleted, paused or changed it since the list was read: a slot of a
    // schedule as it no longer is does not fire (the next run plans the schedule as it is).
    Result<Schedule> current = schedules_.Get(id);
    if (!current.ok()) {
      if (current.status().code() != StatusCode::kNotFound) {
        logger_.Warn("schedule " + id +
                     ": cannot read it (retried next run): " + current.status().ToString());
        ++stats.failed;
      }
      return;
    }
    if (!current->enabled || current->cron != listed.cron ||
        current->time_zone != listed.time_zone || current->enabled_at != listed.enabled_at) {
      return;
    }
    Result<Task> task = fire_(*current, slot, EventOrigin{std::string(kHousekeepingActor), ""});
    if (task.ok()) {
      logger_.Info("schedule " + id + ": slot " + SlotText(slot) + " fired: task " + task->id);
      known_fired_[id] = slot;
      ++stats.fired;
    } else if (task.status().code() == StatusCode::kAlreadyExists) {
      known_fired_[id] = std::max(known_fired_[id], slot);
      ++stats.skipped;
    } else {
      // Not recorded: the next run plans this slot again (a later slot first, with catch_up
      // latest, once one is due).
      logger_.Warn("schedule " + id + ": slot " + SlotText(slot) +
                   " did not fire (retried next run): " + task.status().ToString());
      ++stats.failed;
      return;
    }
  }
  stats.more_due = stats.more_due || plan.more_due;
}

ScheduleRunStats ScheduleRunner::RunOnce() {
  std::lock_guard<std::mutex> run_lock(run_mu_);
  ScheduleRunStats stats;
  const TimePoint now = clock_.Now();
  Result<std::vector<Schedule>> schedules = schedules_.List(std::nullopt);
  if (!schedules.ok()) {
    logger_.Error("schedules: cannot list them: " + schedules.status().ToString());
    ++stats.failed;
    return stats;
  }
  for (const Schedule& schedule : *schedules) {
    if (stopping()) break;
    if (schedule.enabled) FireDue(schedule, now, stats);
  }
  return stats;
}

void ScheduleRunner::Start() {
  thread_.Start([this] { return Pass(); });
}

std::chrono::milliseconds ScheduleRunner::Pass() {
  const ScheduleRunStats stats = RunOnce();
  if (stats.more_due) return std::chrono::milliseconds(0);
  if (!stats.next) return options_.max_sleep;
  // Slots are in domain time (the clock); the sleep is on the steady clock. Rounded up, so that
  // the run after it finds the slot due.
  const auto until_next = std::chrono::ceil<std::chrono::milliseconds>(*stats.next - clock_.Now());
  return std::clamp(until_next, std::chrono::milliseconds(1), options_.max_sleep);
}

}  // namespace exportd
