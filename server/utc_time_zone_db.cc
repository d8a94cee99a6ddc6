#include "server/utc_time_zone_db.h"

#include <string>

namespace exportd {
namespace {

class UtcTimeZone final : public TimeZone {
 public:
  const std::string& name() const override { return name_; }
  LocalSeconds ToLocal(SysSeconds t) const override { return LocalSeconds(t.time_since_epoch()); }
  LocalResolution FromLocal(LocalSeconds local) const override {
    const SysSeconds t(local.time_since_epoch());
    return LocalResolution{LocalResolution::Kind::kUnique, t, t};
  }

 private:
  std::string name_ = "UTC";
};

}  // namespace

UtcOnlyTimeZoneDb::UtcOnlyTimeZoneDb() : utc_(std::make_shared<const UtcTimeZone>()) {}

Result<std::shared_ptr<const TimeZone>> UtcOnlyTimeZoneDb::Find(std::string_view name) const {
  if (name == "UTC") return utc_;
  return InvalidArgument("unknown time zone '" + std::string(name) +
                         "' (this build knows UTC only)");
}

}  // namespace exportd
