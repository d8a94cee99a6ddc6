// A TimeZoneDb for unit tests: "UTC", "Europe/Berlin" (UTC+1) and "America/Los_Angeles"
// (UTC-8), each at a fixed offset all year round (no DST: tests of DST rules use the real
// adapter). Any other name is kInvalidArgument, as the real database answers for an unknown zone.
#ifndef EXPORTD_TESTS_FAKES_FAKE_TIME_ZONE_DB_H_
#define EXPORTD_TESTS_FAKES_FAKE_TIME_ZONE_DB_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/time_zone.h"

namespace exportd::fakes {

class FixedOffsetTimeZone final : public TimeZone {
 public:
  FixedOffsetTimeZone(std::string name, std::chrono::seconds offset)
      : name_(std::move(name)), offset_(offset) {}

  const std::string& name() const override { return name_; }
  LocalSeconds ToLocal(SysSeconds t) const override {
    return LocalSeconds(t.time_since_epoch() + offset_);
  }
  LocalResolution FromLocal(LocalSeconds local) const override {
    const SysSeconds t(local.time_since_epoch() - offset_);
    return LocalResolution{LocalResolution::Kind::kUnique, t, t};
  }

 private:
  std::string name_;
  std::chrono::seconds offset_;
};

class FakeTimeZoneDb final : public TimeZoneDb {
 public:
  Result<std::shared_ptr<const TimeZone>> Find(std::string_view name) const override {
    using std::chrono::hours;
    if (name == "UTC") return Zone("UTC", hours(0));
    if (name == "Europe/Berlin") return Zone("Europe/Berlin", hours(1));
    if (name == "America/Los_Angeles") return Zone("America/Los_Angeles", hours(-8));
    return InvalidArgument("unknown time zone '" + std::string(name) + "'");
  }

 private:
  static std::shared_ptr<const TimeZone> Zone(const char* name, std::chrono::seconds offset) {
    return std::make_shared<const FixedOffsetTimeZone>(name, offset);
  }
};

}  // namespace exportd::fakes

#endif  // EXPORTD_TESTS_FAKES_FAKE_TIME_ZONE_DB_H_
