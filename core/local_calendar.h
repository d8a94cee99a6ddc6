// The local day and hour an instant falls in, as instants: where daily and hourly windows end
// (export_type daily/hourly, schedule slots). Pure functions over a TimeZone.
#ifndef EXPORTD_CORE_LOCAL_CALENDAR_H_
#define EXPORTD_CORE_LOCAL_CALENDAR_H_

#include "core/time_zone.h"

namespace exportd {

// The first instant whose local date is t's local date: local midnight, or, on a day whose
// midnight the clock skipped (e.g. America/Santiago 2026-09-06, Asia/Beirut before 2023), the
// end of that gap; when midnight is read twice, its first occurrence. <= t.
SysSeconds StartOfLocalDay(const TimeZone& zone, SysSeconds t);

// The start of t's local hour: the last instant <= t at which the clock read that hour's
// :00:00 (so in a fold, the start of the pass t is in: 01:30 PST on 2026-11-01 in
// America/Los_Angeles gives 01:00 PST, not 01:00 PDT), or, when the clock skipped it, the end
// of the gap (e.g. 02:30 after a 02:00 -> 02:30 change). <= t.
SysSeconds StartOfLocalHour(const TimeZone& zone, SysSeconds t);

}  // namespace exportd

#endif  // EXPORTD_CORE_LOCAL_CALENDAR_H_
