// Durations as people write them in configuration and requests: whole seconds ("3600") or one
// number with a unit suffix ("7d", "36h", "90m", "3600s").
#ifndef EXPORTD_CORE_DURATION_H_
#define EXPORTD_CORE_DURATION_H_

#include <chrono>
#include <string>
#include <string_view>

#include "core/status.h"

namespace exportd {

// The longest duration accepted anywhere (100 years): far below the range of TimePoint, so that
// `now + duration` can never overflow.
inline constexpr std::chrono::seconds kMaxDuration{100LL * 365 * 24 * 3600};

// Parses digits with an optional unit: s (seconds, also the meaning without a unit), m, h, d.
// No sign, no spaces, no fractions, no compound forms ("1h30m"). Zero is accepted; callers
// check their own ranges. kInvalidArgument (with `pointer`) for anything else or for more than
// kMaxDuration. Pure, thread-safe.
Result<std::chrono::seconds> ParseDuration(std::string_view text, const std::string& pointer = {});

// Whole seconds as given (from a JSON integer); kInvalidArgument if negative or over
// kMaxDuration.
Result<std::chrono::seconds> DurationFromSeconds(int64_t seconds, const std::string& pointer = {});

// The shortest exact form in the largest unit that divides it: 604800 s -> "7d", 5400 s ->
// "90m", 61 s -> "61s".
std::string FormatDuration(std::chrono::seconds d);

}  // namespace exportd

#endif  // EXPORTD_CORE_DURATION_H_
