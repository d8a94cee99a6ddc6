#include "core/schedule_slots.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/time_format.h"
#include "storage/tz/date_time_zone_db.h"

namespace exportd {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

// A schedule, and a clock the test moves by hand: each Tick plans at `now`, and records the
// last due slot as fired, as the runner does.
class ScheduleSlotsTest : public ::testing::Test {
 protected:
  void Use(std::string_view cron, std::string_view zone, CatchUp mode, SysSeconds enabled_at) {
    auto expr = ParseCron(cron);
    ASSERT_TRUE(expr.ok()) << expr.status().ToString();
    expr_ = *expr;
    auto found = DateTimeZoneDb().Find(zone);
    ASSERT_TRUE(found.ok());
    zone_ = *found;
    input_ = SlotInput{std::nullopt, enabled_at, enabled_at, mode};
  }

  std::vector<std::string> Tick(SysSeconds now) {
    input_.now = now;
    last_plan_ = PlanSlots(expr_, *zone_, input_);
    if (!last_plan_.due.empty()) input_.last_fired = last_plan_.due.back();
    std::vector<std::string> out;
    for (SysSeconds t : last_plan_.due) out.push_back(FormatRfc3339Seconds(t));
    return out;
  }

  std::string Next() const {
    return last_plan_.next ? FormatRfc3339Seconds(*last_plan_.next) : "none";
  }

  CronExpr expr_;
  std::shared_ptr<const TimeZone> zone_;
  SlotInput input_;
  SlotPlan last_plan_;
};

using Slots = std::vector<std::string>;

TEST(CatchUpTest, NamesRoundTrip) {
  for (CatchUp mode : {CatchUp::kLatest, CatchUp::kAll, CatchUp::kNone}) {
    EXPECT_EQ(ParseCatchUp(CatchUpName(mode)), mode);
  }
  EXPECT_EQ(ParseCatchUp("Latest"), std::nullopt);
  EXPECT_EQ(ParseCatchUp(""), std::nullopt);
}

TEST_F(ScheduleSlotsTest, OnTimeTicksFireEachSlotOnce) {
  for (CatchUp mode : {CatchUp::kLatest, CatchUp::kAll, CatchUp::kNone}) {
    Use("*/15 * * * *", "UTC", mode, sys_days{2026y / 1 / 1} + 9h + 5min);
    EXPECT_EQ(Tick(sys_days{2026y / 1 / 1} + 9h + 14min), Slots{});
    EXPECT_EQ(Next(), "2026-01-01T09:15:00Z");
    EXPECT_EQ(Tick(sys_days{2026y / 1 / 1} + 9h + 15min), Slots{"2026-01-01T09:15:00Z"});
    EXPECT_EQ(Next(), "2026-01-01T09:30:00Z");
    EXPECT_EQ(Tick(sys_days{2026y / 1 / 1} + 9h + 15min + 1s), Slots{});  // fired already
    EXPECT_EQ(Tick(sys_days{2026y / 1 / 1} + 9h + 30min + 20s), Slots{"2026-01-01T09:30:00Z"});
  }
}

TEST_F(ScheduleSlotsTest, SlotsAtOrBeforeEnablingNeverFire) {
  for (CatchUp mode : {CatchUp::kLatest, CatchUp::kAll, CatchUp::kNone}) {
    Use("0 * * * *", "UTC", mode, sys_days{2026y / 1 / 1} + 9h);
    EXPECT_EQ(Tick(sys_days{2026y / 1 / 1} + 9h), Slots{});
    EXPECT_EQ(Tick(sys_days{2026y / 1 / 1} + 9h + 30s), Slots{});
    EXPECT_EQ(Next(), "2026-01-01T10:00:00Z");
  }
}

TEST_F(ScheduleSlotsTest, LatestFiresOnlyTheMostRecentMissedSlot) {
  Use("0 * * * *", "UTC", CatchUp::kLatest, sys_days{2026y / 1 / 1});
  EXPECT_EQ(Tick(sys_days{2026y / 1 / 1} + 1h), Slots{"2026-01-01T01:00:00Z"});
  // Down from 01:00:30 to 05:20: 02:00..05:00 were missed; only 05:00 fires, once.
  EXPECT_EQ(Tick(sys_days{2026y / 1 / 1} + 5h + 20min), Slots{"2026-01-01T05:00:00Z"});
  EXPECT_EQ(Next(), "2026-01-01T06:00:00Z");
  EXPECT_EQ(Tick(sys_days{2026y / 1 / 1} + 5h + 21min), Slots{});
}

TEST_F(ScheduleSlotsTest, LatestAfterAYearOfDowntimeOfAYearlySchedule) {
  Use("0 0 29 2 *", "UTC", CatchUp::kLatest, sys_days{2020y / 1 / 1});
  EXPECT_EQ(Tick(sys_days{2026y / 12 / 1}), Slots{"2024-02-29T00:00:00Z"});
  EXPECT_EQ(Next(), "2028-02-29T00:00:00Z");
}

TEST_F(ScheduleSlotsTest, AllFiresEveryMissedSlotInOrder) {
  Use("0 * * * *", "UTC", CatchUp::kAll, sys_days{2026y / 1 / 1});
  EXPECT_EQ(Tick(sys_days{2026y / 1 / 1} + 1h), Slots{"2026-01-01T01:00:00Z"});
  EXPECT_EQ(Tick(sys_days{2026y / 1 / 1} + 4h + 20min),
            (Slots{"2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z", "2026-01-01T04:00:00Z"}));
  EXPECT_FALSE(last_plan_.more_due);
  EXPECT_EQ(Next(), "2026-01-01T05:00:00Z");
}

TEST_F(ScheduleSlotsTest, AllIsCappedPerCallAndContinuesOnTheNext) {
  // A week of every-minute slots (10,080) missed: 1000 per call, oldest first, none twice.
  Use("* * * * *", "UTC", CatchUp::kAll, sys_days{2026y / 1 / 1});
  const SysSeconds now = sys_days{2026y / 1 / 8};
  std::vector<SysSeconds> fired;
  int calls = 0;
  do {
    Tick(now);
    fired.insert(fired.end(), last_plan_.due.begin(), last_plan_.due.end());
    ++calls;
    ASSERT_LE(last_plan_.due.size(), kMaxCatchUpSlots);
  } while (last_plan_.more_due && calls < 20);
  EXPECT_EQ(calls, 11);
  ASSERT_EQ(fired.size(), 7u * 24 * 60);
  for (size_t i = 0; i < fired.size(); ++i) {
    ASSERT_EQ(fired[i], SysSeconds(sys_days{2026y / 1 / 1}) + std::chrono::minutes(i + 1));
  }
  EXPECT_EQ(Tick(now), Slots{});
}

TEST_F(ScheduleSlotsTest, NoneSkipsMissedSlotsAndFiresWithinTheGrace) {
  Use("0 * * * *", "UTC", CatchUp::kNone, sys_days{2026y / 1 / 1});
  EXPECT_EQ(Tick(sys_days{2026y / 1 / 1} + 1h + kOnTimeGrace), Slots{"2026-01-01T01:00:00Z"});
  // Down over 02:00 and 03:00; back at 03:01:01, past the grace: nothing fires.
  EXPECT_EQ(Tick(sys_days{2026y / 1 / 1} + 3h + kOnTimeGrace + 1s), Slots{});
  EXPECT_EQ(Next(), "2026-01-01T04:00:00Z");
  EXPECT_EQ(Tick(sys_days{2026y / 1 / 1} + 4h + 10s), Slots{"2026-01-01T04:00:00Z"});
}

TEST_F(ScheduleSlotsTest, EveryMinuteOverTheLosAngelesChangesFiresEachInstantOnce) {
  // Ticking every 20 s through both 2026 changes, the slots fired are exactly NextRuns'.
  for (const SysSeconds start : {SysSeconds(sys_days{2026y / 3 / 8} + 9h + 30min),
                                 SysSeconds(sys_days{2026y / 11 / 1} + 7h + 30min)}) {
    Use("*/15 * * * *", "America/Los_Angeles", CatchUp::kNone, start);
    std::vector<SysSeconds> fired;
    for (SysSeconds now = start; now < start + 4h; now += 20s) {
      Tick(now);
      fired.insert(fired.end(), last_plan_.due.begin(), last_plan_.due.end());
    }
    const std::vector<SysSeconds> expected = NextRuns(expr_, *zone_, start, 100);
    std::vector<SysSeconds> expected_in_range;
    for (SysSeconds t : expected) {
      if (t < start + 4h) expected_in_range.push_back(t);
    }
    EXPECT_EQ(fired, expected_in_range);
  }
}

TEST_F(ScheduleSlotsTest, DailyOverTheBerlinChanges) {
  // 02:30 daily: on 2026-03-29 it does not exist (fires at 03:00 CEST = 01:00 UTC); on
  // 2026-10-25 it exists twice (fires at the first, 00:30 UTC).
  Use("30 2 * * *", "Europe/Berlin", CatchUp::kLatest, sys_days{2026y / 3 / 28} + 12h);
  EXPECT_EQ(Tick(sys_days{2026y / 3 / 29} + 1h), Slots{"2026-03-29T01:00:00Z"});
  EXPECT_EQ(Next(), "2026-03-30T00:30:00Z");
  Use("30 2 * * *", "Europe/Berlin", CatchUp::kLatest, sys_days{2026y / 10 / 24} + 12h);
  EXPECT_EQ(Tick(sys_days{2026y / 10 / 25} + 30min), Slots{"2026-10-25T00:30:00Z"});
  EXPECT_EQ(Tick(sys_days{2026y / 10 / 25} + 1h + 30min), Slots{});  // 02:30 CET: not again
  EXPECT_EQ(Next(), "2026-10-26T01:30:00Z");
}

TEST(WindowEndForSlotTest, StartOfTheSlotsLocalDayOrHour) {
  auto la = DateTimeZoneDb().Find("America/Los_Angeles");
  ASSERT_TRUE(la.ok());
  // The 03:00 PDT slot of 2026-03-08 (the skipped 02:30): its day began at 08:00 UTC.
  const SysSeconds slot = sys_days{2026y / 3 / 8} + 10h;
  EXPECT_EQ(WindowEndForSlot(WindowPeriod::kDaily, **la, slot), sys_days{2026y / 3 / 8} + 8h);
  EXPECT_EQ(WindowEndForSlot(WindowPeriod::kHourly, **la, slot), slot);
  EXPECT_EQ(WindowEndForSlot(WindowPeriod::kHourly, **la, slot + 30min), slot);
  // The second 01:30 of 2026-11-01 (PST): its hour is the second pass, from 09:00 UTC.
  EXPECT_EQ(WindowEndForSlot(WindowPeriod::kHourly, **la, sys_days{2026y / 11 / 1} + 9h + 30min),
            sys_days{2026y / 11 / 1} + 9h);
}

}  // namespace
}  // namespace exportd
