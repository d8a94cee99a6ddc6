// A TimeZoneDb that knows "UTC" only: the wiring's stand-in until the adapter over the system's
// time zone database (storage/tz) is wired in its place. Every other name is kInvalidArgument,
// so a request naming another zone is refused (422), never run in the wrong zone.
#ifndef EXPORTD_SERVER_UTC_TIME_ZONE_DB_H_
#define EXPORTD_SERVER_UTC_TIME_ZONE_DB_H_

#include <memory>
#include <string_view>

#include "core/time_zone.h"

namespace exportd {

class UtcOnlyTimeZoneDb final : public TimeZoneDb {
 public:
  UtcOnlyTimeZoneDb();
  Result<std::shared_ptr<const TimeZone>> Find(std::string_view name) const override;

 private:
  std::shared_ptr<const TimeZone> utc_;
};

}  // namespace exportd

#endif  // EXPORTD_SERVER_UTC_TIME_ZONE_DB_H_
