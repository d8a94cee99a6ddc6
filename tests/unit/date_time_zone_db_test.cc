#include "storage/tz/date_time_zone_db.h"

#include <gtest/gtest.h>

#include <chrono>

namespace exportd {
namespace {

using namespace std::chrono_literals;
using std::chrono::local_days;
using std::chrono::sys_days;
using Kind = LocalResolution::Kind;

std::shared_ptr<const TimeZone> Zone(std::string_view name) {
  auto zone = DateTimeZoneDb().Find(name);
  EXPECT_TRUE(zone.ok()) << zone.status().ToString();
  return zone.ok() ? *zone : nullptr;
}

TEST(DateTimeZoneDbTest, UnknownNameIsInvalidArgumentNamingIt) {
  for (const char* name : {"Mars/Olympus_Mons", "", "../../etc/passwd", "america/los_angeles"}) {
    auto zone = DateTimeZoneDb().Find(name);
    ASSERT_FALSE(zone.ok()) << name;
    EXPECT_EQ(zone.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(zone.status().message().find(std::string("'") + name + "'"), std::string::npos)
        << zone.status().message();
  }
}

TEST(DateTimeZoneDbTest, UtcIsTheIdentity) {
  auto utc = Zone("UTC");
  ASSERT_NE(utc, nullptr);
  EXPECT_EQ(utc->name(), "UTC");
  const SysSeconds t = sys_days{2026y / 3 / 8} + 10h + 30min;
  EXPECT_EQ(utc->ToLocal(t).time_since_epoch(), t.time_since_epoch());
  const LocalResolution r = utc->FromLocal(local_days{2026y / 3 / 8} + 10h + 30min);
  EXPECT_EQ(r.kind, Kind::kUnique);
  EXPECT_EQ(r.first, t);
  EXPECT_EQ(r.second, t);
}

TEST(DateTimeZoneDbTest, LosAngelesUniqueReadings) {
  auto la = Zone("America/Los_Angeles");
  ASSERT_NE(la, nullptr);
  EXPECT_EQ(la->name(), "America/Los_Angeles");
  // Winter: UTC-8; summer: UTC-7.
  EXPECT_EQ(la->ToLocal(sys_days{2026y / 1 / 15} + 20h), local_days{2026y / 1 / 15} + 12h);
  EXPECT_EQ(la->ToLocal(sys_days{2026y / 7 / 15} + 20h), local_days{2026y / 7 / 15} + 13h);
  const LocalResolution r = la->FromLocal(local_days{2026y / 7 / 15} + 13h);
  EXPECT_EQ(r.kind, Kind::kUnique);
  EXPECT_EQ(r.first, sys_days{2026y / 7 / 15} + 20h);
}

TEST(DateTimeZoneDbTest, LosAngelesSpringForwardGap) {
  auto la = Zone("America/Los_Angeles");
  ASSERT_NE(la, nullptr);
  // 2026-03-08 02:00 PST -> 03:00 PDT, at 10:00 UTC.
  const SysSeconds gap_end = sys_days{2026y / 3 / 8} + 10h;
  for (std::chrono::seconds offset : {2h + 0s, 2h + 30min + 0s, 2h + 59min + 59s}) {
    const LocalSeconds local = local_days{2026y / 3 / 8} + offset;
    const LocalResolution r = la->FromLocal(local);
    EXPECT_EQ(r.kind, Kind::kNonexistent);
    EXPECT_EQ(r.first, gap_end);
    EXPECT_EQ(r.second, gap_end);
  }
  EXPECT_EQ(la->FromLocal(local_days{2026y / 3 / 8} + 3h).kind, Kind::kUnique);
  EXPECT_EQ(la->FromLocal(local_days{2026y / 3 / 8} + 3h).first, gap_end);
  EXPECT_EQ(la->FromLocal(local_days{2026y / 3 / 8} + 1h + 59min).first, gap_end - 1min);
  EXPECT_EQ(la->ToLocal(gap_end), local_days{2026y / 3 / 8} + 3h);
  EXPECT_EQ(la->ToLocal(gap_end - 1s), local_days{2026y / 3 / 8} + 1h + 59min + 59s);
}

TEST(DateTimeZoneDbTest, LosAngelesFallBackFold) {
  auto la = Zone("America/Los_Angeles");
  ASSERT_NE(la, nullptr);
  // 2026-11-01 02:00 PDT -> 01:00 PST, at 09:00 UTC: 01:00..01:59:59 is read twice.
  const LocalResolution r = la->FromLocal(local_days{2026y / 11 / 1} + 1h + 30min);
  EXPECT_EQ(r.kind, Kind::kAmbiguous);
  EXPECT_EQ(r.first, sys_days{2026y / 11 / 1} + 8h + 30min);   // 01:30 PDT
  EXPECT_EQ(r.second, sys_days{2026y / 11 / 1} + 9h + 30min);  // 01:30 PST
  EXPECT_EQ(la->FromLocal(local_days{2026y / 11 / 1} + 2h).kind, Kind::kUnique);
  EXPECT_EQ(la->FromLocal(local_days{2026y / 11 / 1} + 2h).first, sys_days{2026y / 11 / 1} + 10h);
  EXPECT_EQ(la->ToLocal(sys_days{2026y / 11 / 1} + 8h + 30min),
            local_days{2026y / 11 / 1} + 1h + 30min);
  EXPECT_EQ(la->ToLocal(sys_days{2026y / 11 / 1} + 9h + 30min),
            local_days{2026y / 11 / 1} + 1h + 30min);
}

TEST(DateTimeZoneDbTest, BerlinGapAndFold) {
  auto berlin = Zone("Europe/Berlin");
  ASSERT_NE(berlin, nullptr);
  // 2026-03-29 02:00 CET -> 03:00 CEST, at 01:00 UTC.
  const LocalResolution gap = berlin->FromLocal(local_days{2026y / 3 / 29} + 2h + 30min);
  EXPECT_EQ(gap.kind, Kind::kNonexistent);
  EXPECT_EQ(gap.first, sys_days{2026y / 3 / 29} + 1h);
  EXPECT_EQ(gap.second, sys_days{2026y / 3 / 29} + 1h);
  // 2026-10-25 03:00 CEST -> 02:00 CET, at 01:00 UTC: 02:00..02:59:59 is read twice.
  const LocalResolution fold = berlin->FromLocal(local_days{2026y / 10 / 25} + 2h + 30min);
  EXPECT_EQ(fold.kind, Kind::kAmbiguous);
  EXPECT_EQ(fold.first, sys_days{2026y / 10 / 25} + 30min);        // 02:30 CEST
  EXPECT_EQ(fold.second, sys_days{2026y / 10 / 25} + 1h + 30min);  // 02:30 CET
  EXPECT_EQ(berlin->ToLocal(sys_days{2026y / 10 / 25} + 1h), local_days{2026y / 10 / 25} + 2h);
}

TEST(DateTimeZoneDbTest, ZonesOutliveTheDb) {
  std::shared_ptr<const TimeZone> zone;
  {
    DateTimeZoneDb db;
    auto found = db.Find("Europe/Berlin");
    ASSERT_TRUE(found.ok());
    zone = *found;
  }
  EXPECT_EQ(zone->ToLocal(sys_days{2026y / 1 / 1}), local_days{2026y / 1 / 1} + 1h);
}

}  // namespace
}  // namespace exportd
