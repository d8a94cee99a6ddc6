// Which slots of a schedule fire now: a pure function of the schedule's cron and zone, what it
// fired last, when it was created or enabled, and now. The caller (the schedule runner) records
// each fired slot, at most one task per (schedule, slot), and calls again on its next tick.
#ifndef EXPORTD_CORE_SCHEDULE_SLOTS_H_
#define EXPORTD_CORE_SCHEDULE_SLOTS_H_

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "core/cron.h"
#include "core/time_zone.h"

namespace exportd {

// What to do with slots that came due while nothing fired them (downtime). Slots of a paused
// schedule are not missed: resuming it moves `enabled_at`.
enum class CatchUp {
  kLatest,  // the most recent due slot fires, once; older missed ones are skipped (default)
  kAll,     // every due slot fires, oldest first, at most kMaxCatchUpSlots per call
  kNone,    // missed slots are skipped; only a slot due within kOnTimeGrace fires
};

// "latest" | "all" | "none"; nullopt for anything else.
std::optional<CatchUp> ParseCatchUp(std::string_view text);
std::string_view CatchUpName(CatchUp mode);

// kAll fires at most this many slots per call (the oldest); the next call, after the caller
// recorded the last of them, continues from there, so every slot still fires once.
inline constexpr size_t kMaxCatchUpSlots = 1000;
// kNone fires a slot only while now - slot <= this: a tick that comes a little late (the runner
// polls, the process was busy) is not a missed slot.
inline constexpr std::chrono::seconds kOnTimeGrace{60};

struct SlotInput {
  // The last slot this schedule fired (nullopt: none yet).
  std::optional<SysSeconds> last_fired;
  // When the schedule was created or last enabled, or its cron or zone changed: slots at or
  // before it never fire.
  SysSeconds enabled_at{};
  SysSeconds now{};
  CatchUp catch_up = CatchUp::kLatest;
};

struct SlotPlan {
  // The slots to fire now, ascending; each after max(last_fired, enabled_at) and <= now.
  std::vector<SysSeconds> due;
  // kAll stopped at kMaxCatchUpSlots and more slots may be due: call again after recording them.
  bool more_due = false;
  // The first slot after now (nullopt: none within the cron search horizon).
  std::optional<SysSeconds> next;
};

SlotPlan PlanSlots(const CronExpr& expr, const TimeZone& zone, const SlotInput& input);

// The end of a daily or hourly window for slot T: the start of T's local day or hour in the
// schedule's zone (see core/local_calendar.h).
enum class WindowPeriod { kDaily, kHourly };
SysSeconds WindowEndForSlot(WindowPeriod period, const TimeZone& zone, SysSeconds slot);

}  // namespace exportd

#endif  // EXPORTD_CORE_SCHEDULE_SLOTS_H_
