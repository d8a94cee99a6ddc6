// Cron expressions: the standard five fields, and the instants at which one fires in a time
// zone. Pure functions over a TimeZone; no clock.
//
// Syntax: "minute hour day-of-month month day-of-week", fields separated by spaces or tabs.
// A field is a comma-separated list of items; an item is `*`, a value `v`, a range `a-b`
// (a <= b), or a step `*/n` or `a-b/n` (every n-th value from the start; n >= 1). Ranges:
// minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 0-7 or SUN-SAT
// (0 and 7 are Sunday). Names are case-insensitive and may be range ends. Not accepted: `a/n`
// without a range, `?`, `L`, `W`, `#`, `@daily`-style macros, a sixth (seconds or year) field.
//
// Days (Vixie cron's rule): when both day-of-month and day-of-week are restricted (neither
// field starts with `*`), a day matches if either matches; otherwise both must match (a field
// starting with `*`, `*/n` included, counts as unrestricted for this rule).
//
// Impossible expressions are rejected when parsed: a day-of-month that the selected months
// never have, when it alone decides (e.g. "0 0 30 2 *", "0 0 31 4,6,9,11 *").
//
// Firing instants (DST): the expression selects local wall-clock readings (whole minutes, in
// order); each selected reading fires once, at
//   - the instant the clock shows it, when it shows it once;
//   - the first of the two instants, when the clock shows it twice (a fold): the repeated
//     readings are not selected again, so "0 * * * *" or "*/15 * * * *" skip the second pass
//     through the repeated hour (e.g. 01:00-01:59 PST on 2026-11-01 in America/Los_Angeles);
//   - the first instant after the gap, when the clock skips it (a gap); readings of one gap
//     and the reading at the gap's end then fall on the same instant, which fires once (e.g.
//     "30 2 * * *" fires at 03:00 PDT on 2026-03-08, and "*/15 * * * *" once at 03:00 PDT
//     for 02:00, 02:15, 02:30, 02:45 and 03:00).
// The firing instants are therefore strictly increasing, never two for one reading.
#ifndef EXPORTD_CORE_CRON_H_
#define EXPORTD_CORE_CRON_H_

#include <bitset>
#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time_zone.h"

namespace exportd {

struct CronExpr {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // bits 1..31
  std::bitset<13> months;         // bits 1..12
  std::bitset<7> days_of_week;    // bit 0 = Sunday .. 6 = Saturday (7 is stored as 0)
  // The field started with '*' (Vixie's rule above).
  bool day_of_month_star = false;
  bool day_of_week_star = false;
};

// kInvalidArgument (pointer "/cron") with a message naming the field and the reason.
Result<CronExpr> ParseCron(std::string_view text);

// Whether the expression selects the date (month and the day rule).
bool MatchesDay(const CronExpr& expr, std::chrono::year_month_day date);
// Whether the expression selects the local reading's minute (seconds are ignored).
bool Matches(const CronExpr& expr, LocalSeconds reading);

// How far NextRuns and LastRunAtOrBefore look: an expression that selects nothing within this
// many days of the starting point is treated as never firing (a day-of-week AND a 29th of
// February can be 40 years apart; no parseable expression is rarer than that).
inline constexpr int kCronSearchDays = 50 * 366;

// The first `count` firing instants strictly after `from` (fewer when the search horizon ends
// first; none when count <= 0), ascending.
std::vector<SysSeconds> NextRuns(const CronExpr& expr, const TimeZone& zone, SysSeconds from,
                                 int count);

// The last firing instant at or before `t`, if any within the search horizon.
std::optional<SysSeconds> LastRunAtOrBefore(const CronExpr& expr, const TimeZone& zone,
                                            SysSeconds t);

}  // namespace exportd

#endif  // EXPORTD_CORE_CRON_H_
