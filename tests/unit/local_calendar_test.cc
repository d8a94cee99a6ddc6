#include "core/local_calendar.h"

#include <gtest/gtest.h>

#include <chrono>

#include "storage/tz/date_time_zone_db.h"

namespace exportd {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

std::shared_ptr<const TimeZone> Zone(std::string_view name) {
  auto zone = DateTimeZoneDb().Find(name);
  EXPECT_TRUE(zone.ok()) << zone.status().ToString();
  return *zone;
}

TEST(LocalCalendarTest, UtcDaysAndHours) {
  const auto utc = Zone("UTC");
  const SysSeconds t = sys_days{2026y / 6 / 15} + 13h + 45min + 10s;
  EXPECT_EQ(StartOfLocalDay(*utc, t), sys_days{2026y / 6 / 15});
  EXPECT_EQ(StartOfLocalHour(*utc, t), sys_days{2026y / 6 / 15} + 13h);
  EXPECT_EQ(StartOfLocalDay(*utc, sys_days{2026y / 6 / 15}), sys_days{2026y / 6 / 15});
  EXPECT_EQ(StartOfLocalHour(*utc, sys_days{2026y / 6 / 15} + 13h), sys_days{2026y / 6 / 15} + 13h);
}

TEST(LocalCalendarTest, LosAngelesDaysAroundTheChanges) {
  const auto la = Zone("America/Los_Angeles");
  // An ordinary day: midnight PST is 08:00 UTC; the local day of 2026-01-15T05:00Z is the 14th.
  EXPECT_EQ(StartOfLocalDay(*la, sys_days{2026y / 1 / 15} + 5h), sys_days{2026y / 1 / 14} + 8h);
  // 2026-03-08 is 23 hours long, 2026-11-01 25: both start at local midnight.
  EXPECT_EQ(StartOfLocalDay(*la, sys_days{2026y / 3 / 8} + 20h), sys_days{2026y / 3 / 8} + 8h);
  EXPECT_EQ(StartOfLocalDay(*la, sys_days{2026y / 3 / 9} + 6h), sys_days{2026y / 3 / 8} + 8h);
  EXPECT_EQ(StartOfLocalDay(*la, sys_days{2026y / 3 / 9} + 7h), sys_days{2026y / 3 / 9} + 7h);
  EXPECT_EQ(StartOfLocalDay(*la, sys_days{2026y / 11 / 1} + 9h + 30min),
            sys_days{2026y / 11 / 1} + 7h);
  EXPECT_EQ(StartOfLocalDay(*la, sys_days{2026y / 11 / 2} + 7h + 59min),
            sys_days{2026y / 11 / 1} + 7h);
}

TEST(LocalCalendarTest, LosAngelesHoursAroundTheChanges) {
  const auto la = Zone("America/Los_Angeles");
  // Spring: 01:59:59 PST is followed by 03:00 PDT (10:00 UTC).
  EXPECT_EQ(StartOfLocalHour(*la, sys_days{2026y / 3 / 8} + 9h + 59min),
            sys_days{2026y / 3 / 8} + 9h);
  EXPECT_EQ(StartOfLocalHour(*la, sys_days{2026y / 3 / 8} + 10h + 15min),
            sys_days{2026y / 3 / 8} + 10h);
  // Fall: 01:xx PDT (08:xx UTC), then 01:xx PST (09:xx UTC); each pass is its own hour.
  EXPECT_EQ(StartOfLocalHour(*la, sys_days{2026y / 11 / 1} + 8h + 30min),
            sys_days{2026y / 11 / 1} + 8h);
  EXPECT_EQ(StartOfLocalHour(*la, sys_days{2026y / 11 / 1} + 9h + 30min),
            sys_days{2026y / 11 / 1} + 9h);
  EXPECT_EQ(StartOfLocalHour(*la, sys_days{2026y / 11 / 1} + 9h), sys_days{2026y / 11 / 1} + 9h);
  EXPECT_EQ(StartOfLocalHour(*la, sys_days{2026y / 11 / 1} + 10h + 5min),
            sys_days{2026y / 11 / 1} + 10h);
}

TEST(LocalCalendarTest, BerlinDaysAndHoursAroundTheChanges) {
  const auto berlin = Zone("Europe/Berlin");
  EXPECT_EQ(StartOfLocalDay(*berlin, sys_days{2026y / 3 / 29} + 12h),
            sys_days{2026y / 3 / 28} + 23h);
  EXPECT_EQ(StartOfLocalDay(*berlin, sys_days{2026y / 3 / 30} + 12h),
            sys_days{2026y / 3 / 29} + 22h);
  EXPECT_EQ(StartOfLocalDay(*berlin, sys_days{2026y / 10 / 25} + 12h),
            sys_days{2026y / 10 / 24} + 22h);
  // 02:xx CEST (00:xx UTC), then 02:xx CET (01:xx UTC).
  EXPECT_EQ(StartOfLocalHour(*berlin, sys_days{2026y / 10 / 25} + 40min),
            sys_days{2026y / 10 / 25});
  EXPECT_EQ(StartOfLocalHour(*berlin, sys_days{2026y / 10 / 25} + 1h + 40min),
            sys_days{2026y / 10 / 25} + 1h);
  // 01:xx CET, then 03:00 CEST at 01:00 UTC.
  EXPECT_EQ(StartOfLocalHour(*berlin, sys_days{2026y / 3 / 29} + 1h + 20min),
            sys_days{2026y / 3 / 29} + 1h);
}

TEST(LocalCalendarTest, DaysWhoseMidnightDoesNotExistStartAtTheGapEnd) {
  // America/Santiago 2026-09-06: 00:00 -04 -> 01:00 -03 at 04:00 UTC.
  const auto santiago = Zone("America/Santiago");
  EXPECT_EQ(StartOfLocalDay(*santiago, sys_days{2026y / 9 / 6} + 15h),
            sys_days{2026y / 9 / 6} + 4h);
  EXPECT_EQ(StartOfLocalDay(*santiago, sys_days{2026y / 9 / 6} + 4h), sys_days{2026y / 9 / 6} + 4h);
  EXPECT_EQ(StartOfLocalDay(*santiago, sys_days{2026y / 9 / 6} + 4h - 1s),
            sys_days{2026y / 9 / 5} + 4h);
  // Asia/Beirut 2026-03-29: 00:00 EET -> 01:00 EEST at 22:00 UTC the day before.
  const auto beirut = Zone("Asia/Beirut");
  EXPECT_EQ(StartOfLocalDay(*beirut, sys_days{2026y / 3 / 29} + 10h),
            sys_days{2026y / 3 / 28} + 22h);
  // America/Havana 2026-03-08: 00:00 CST -> 01:00 CDT at 05:00 UTC.
  const auto havana = Zone("America/Havana");
  EXPECT_EQ(StartOfLocalDay(*havana, sys_days{2026y / 3 / 8} + 12h), sys_days{2026y / 3 / 8} + 5h);
}

TEST(LocalCalendarTest, DaysWhoseMidnightRepeatsStartAtItsFirstOccurrence) {
  // America/Havana 2026-11-01: 01:00 CDT -> 00:00 CST at 05:00 UTC; 00:xx is read twice.
  const auto havana = Zone("America/Havana");
  EXPECT_EQ(StartOfLocalDay(*havana, sys_days{2026y / 11 / 1} + 5h + 30min),
            sys_days{2026y / 11 / 1} + 4h);
  EXPECT_EQ(StartOfLocalDay(*havana, sys_days{2026y / 11 / 1} + 20h),
            sys_days{2026y / 11 / 1} + 4h);
  // ... while its hour is the pass it is in.
  EXPECT_EQ(StartOfLocalHour(*havana, sys_days{2026y / 11 / 1} + 5h + 30min),
            sys_days{2026y / 11 / 1} + 5h);
  // America/Santiago 2026-04-05: 00:00 -03 -> 23:00 -04 of the 4th; the 5th starts once, at
  // 04:00 UTC, and the repeated 23:xx belong to the 4th.
  const auto santiago = Zone("America/Santiago");
  EXPECT_EQ(StartOfLocalDay(*santiago, sys_days{2026y / 4 / 5} + 3h + 30min),
            sys_days{2026y / 4 / 4} + 3h);
  EXPECT_EQ(StartOfLocalDay(*santiago, sys_days{2026y / 4 / 5} + 4h), sys_days{2026y / 4 / 5} + 4h);
}

TEST(LocalCalendarTest, HalfHourChangesOfLordHowe) {
  const auto lord_howe = Zone("Australia/Lord_Howe");
  // 2026-10-04 02:00 +1030 -> 02:30 +11 at 15:30 UTC on the 3rd: hour 02 starts at 02:30.
  EXPECT_EQ(StartOfLocalHour(*lord_howe, sys_days{2026y / 10 / 3} + 15h + 45min),
            sys_days{2026y / 10 / 3} + 15h + 30min);
  // 2026-04-05 02:00 +11 -> 01:30 +1030 at 15:00 UTC on the 4th: 01:00 was read once, at
  // 14:00 UTC, so the second pass through 01:30-01:59 still belongs to that hour.
  EXPECT_EQ(StartOfLocalHour(*lord_howe, sys_days{2026y / 4 / 4} + 15h + 15min),
            sys_days{2026y / 4 / 4} + 14h);
}

}  // namespace
}  // namespace exportd
