#include "storage/tz/date_time_zone_db.h"

#include <date/tz.h>

#include <exception>
#include <string>
#include <utility>

namespace exportd {
namespace {

// date's local_time and std::chrono's local_time are distinct clocks with the same epoch.
date::local_seconds ToDateLocal(LocalSeconds t) {
  return date::local_seconds{t.time_since_epoch()};
}
LocalSeconds FromDateLocal(date::local_seconds t) { return LocalSeconds{t.time_since_epoch()}; }

class DateTimeZone final : public TimeZone {
 public:
  explicit DateTimeZone(const date::time_zone* zone) : zone_(zone), name_(zone->name()) {}

  const std::string& name() const override { return name_; }

  LocalSeconds ToLocal(SysSeconds t) const override { return FromDateLocal(zone_->to_local(t)); }

  LocalResolution FromLocal(LocalSeconds local) const override {
    const date::local_info info = zone_->get_info(ToDateLocal(local));
    const auto at = [&](const date::sys_info& offset) {
      return SysSeconds{local.time_since_epoch() - offset.offset};
    };
    LocalResolution resolution;
    switch (info.result) {
      case date::local_info::unique:
        resolution.kind = LocalResolution::Kind::kUnique;
        resolution.first = resolution.second = at(info.first);
        break;
      case date::local_info::nonexistent:
        // first: the offset before the gap, second: the one after; the gap ends where the
        // second begins.
        resolution.kind = LocalResolution::Kind::kNonexistent;
        resolution.first = resolution.second = info.second.begin;
        break;
      case date::local_info::ambiguous:
        resolution.kind = LocalResolution::Kind::kAmbiguous;
        resolution.first = at(info.first);
        resolution.second = at(info.second);
        break;
    }
    return resolution;
  }

 private:
  const date::time_zone* zone_;  // owned by date's process-wide database
  std::string name_;
};

}  // namespace

Result<std::shared_ptr<const TimeZone>> DateTimeZoneDb::Find(std::string_view name) const {
  // date reports an unknown name, and an unreadable zone file, by throwing; the file of a zone
  // is read on its first use, so that use happens here and later calls do not throw.
  try {
    const date::time_zone* zone = date::locate_zone(name);
    (void)zone->get_info(date::sys_seconds{});
    return std::shared_ptr<const TimeZone>(std::make_shared<DateTimeZone>(zone));
  } catch (const std::exception&) {
    return InvalidArgument("unknown time zone '" + std::string(name) + "'");
  }
}

}  // namespace exportd
