// DateTimeZoneDb: core's TimeZoneDb over the system's tzdata (/usr/share/zoneinfo), read by
// Howard Hinnant's date/tz library.
//
// Limitation: the library reads the transitions listed in the zone files and not their POSIX
// footer rule, and Debian's files list transitions up to 2037; later instants keep the offset in
// force after the last listed transition (e.g. standard time all year).
#ifndef EXPORTD_STORAGE_TZ_DATE_TIME_ZONE_DB_H_
#define EXPORTD_STORAGE_TZ_DATE_TIME_ZONE_DB_H_

#include <memory>
#include <string_view>

#include "core/time_zone.h"

namespace exportd {

// Thread-safe. The zones it hands out stay valid after it is destroyed (the database is
// process-wide and never unloaded).
class DateTimeZoneDb final : public TimeZoneDb {
 public:
  Result<std::shared_ptr<const TimeZone>> Find(std::string_view name) const override;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_TZ_DATE_TIME_ZONE_DB_H_
