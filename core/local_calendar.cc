#include "core/local_calendar.h"

#include <chrono>

namespace exportd {

SysSeconds StartOfLocalDay(const TimeZone& zone, SysSeconds t) {
  const auto midnight = std::chrono::floor<std::chrono::days>(zone.ToLocal(t));
  // kUnique: the instant; kAmbiguous: the first; kNonexistent: the gap's end. All are `first`.
  return zone.FromLocal(LocalSeconds(midnight)).first;
}

SysSeconds StartOfLocalHour(const TimeZone& zone, SysSeconds t) {
  const auto hour = std::chrono::floor<std::chrono::hours>(zone.ToLocal(t));
  const LocalResolution start = zone.FromLocal(LocalSeconds(hour));
  if (start.kind == LocalResolution::Kind::kAmbiguous && start.second <= t) return start.second;
  return start.first;
}

}  // namespace exportd
