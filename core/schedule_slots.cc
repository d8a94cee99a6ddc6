#include "core/schedule_slots.h"

#include <algorithm>

#include "core/local_calendar.h"

namespace exportd {

std::string_view CatchUpName(CatchUp mode) {
  switch (mode) {
    case CatchUp::kLatest:
      return "latest";
    case CatchUp::kAll:
      return "all";
    case CatchUp::kNone:
      return "none";
  }
  return "latest";
}

std::optional<CatchUp> ParseCatchUp(std::string_view text) {
  for (CatchUp mode : {CatchUp::kLatest, CatchUp::kAll, CatchUp::kNone}) {
    if (text == CatchUpName(mode)) return mode;
  }
  return std::nullopt;
}

SlotPlan PlanSlots(const CronExpr& expr, const TimeZone& zone, const SlotInput& input) {
  SlotPlan plan;
  const SysSeconds after = std::max(input.last_fired.value_or(input.enabled_at), input.enabled_at);
  if (input.catch_up == CatchUp::kAll) {
    plan.due = NextRuns(expr, zone, after, static_cast<int>(kMaxCatchUpSlots));
    plan.more_due = plan.due.size() == kMaxCatchUpSlots && plan.due.back() < input.now;
    plan.due.erase(std::upper_bound(plan.due.begin(), plan.due.end(), input.now), plan.due.end());
  } else if (input.now > after) {
    const std::optional<SysSeconds> latest = LastRunAtOrBefore(expr, zone, input.now);
    if (latest && *latest > after &&
        (input.catch_up == CatchUp::kLatest || input.now - *latest <= kOnTimeGrace)) {
      plan.due.push_back(*latest);
    }
  }
  const std::vector<SysSeconds> next = NextRuns(expr, zone, input.now, 1);
  if (!next.empty()) plan.next = next.front();
  return plan;
}

SysSeconds WindowEndForSlot(WindowPeriod period, const TimeZone& zone, SysSeconds slot) {
  return period == WindowPeriod::kDaily ? StartOfLocalDay(zone, slot)
                                        : StartOfLocalHour(zone, slot);
}

}  // namespace exportd
