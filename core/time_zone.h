// TimeZone and TimeZoneDb: how core turns instants into wall-clock readings of an IANA zone and
// back (daily and hourly windows, cron schedules). Implemented in storage/ over the system's
// time zone database, so that DST rules come from tzdata and not from a table in core.
#ifndef EXPORTD_CORE_TIME_ZONE_H_
#define EXPORTD_CORE_TIME_ZONE_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace exportd {

using SysSeconds = std::chrono::sys_seconds;

// The whole second an instant falls in (towards the past).
inline SysSeconds FloorSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t);
}

// The zone every TimeZoneDb knows, and the default where neither a request nor a dataset names
// one.
inline constexpr std::string_view kUtcZoneName = "UTC";
using LocalSeconds = std::chrono::local_seconds;

// What a wall-clock reading is in a zone: one instant, none (the clock jumped over it: a DST
// gap) or two (the clock read it twice: a DST fold).
struct LocalResolution {
  enum class Kind { kUnique, kNonexistent, kAmbiguous };
  Kind kind = Kind::kUnique;
  // kUnique: the instant. kAmbiguous: the first (earlier) of the two instants.
  // kNonexistent: the first instant after the gap (the instant the clock jumped forward at).
  SysSeconds first{};
  // kAmbiguous: the second (later) instant; otherwise equal to `first`.
  SysSeconds second{};
};

// Thread-safe and immutable.
class TimeZone {
 public:
  virtual ~TimeZone() = default;
  // The IANA name, e.g. "Europe/Berlin", as the database spells it.
  virtual const std::string& name() const = 0;
  // The wall-clock reading at instant `t`.
  virtual LocalSeconds ToLocal(SysSeconds t) const = 0;
  // The instants at which the wall clock reads `local`.
  virtual LocalResolution FromLocal(LocalSeconds local) const = 0;
};

// Thread-safe.
class TimeZoneDb {
 public:
  virtual ~TimeZoneDb() = default;
  // The zone named `name` ("UTC" always exists). kInvalidArgument for a name the database does
  // not know, naming it.
  virtual Result<std::shared_ptr<const TimeZone>> Find(std::string_view name) const = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_TIME_ZONE_H_
