// RFC 3339 timestamps (UTC) in and out. Pure functions, no locale, no time zone database.
#ifndef EXPORTD_CORE_TIME_FORMAT_H_
#define EXPORTD_CORE_TIME_FORMAT_H_

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace exportd {

// "2026-11-21T21:49:38.123Z" (milliseconds always present).
std::string FormatRfc3339(TimePoint t);
// "2026-11-21T21:49:38Z" (whole seconds).
std::string FormatRfc3339Seconds(TimePoint t);

// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" ('t' and ' ' accepted for 'T', 'z' for
// 'Z'). Returns nullopt for anything else, including out-of-range fields (month 13, second 61, Feb
// 30) and instants outside 1677-09-21T00:12:44Z .. 2262-04-11T23:47:16.854Z (what a TimePoint,
// int64 nanoseconds, holds in whole seconds).
std::optional<TimePoint> ParseRfc3339(std::string_view text);

int64_t ToUnixMillis(TimePoint t);
TimePoint FromUnixMillis(int64_t ms);
int64_t ToUnixSeconds(TimePoint t);

}  // namespace exportd

#endif  // EXPORTD_CORE_TIME_FORMAT_H_
