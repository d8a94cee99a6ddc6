#include "core/cron.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/time_format.h"
#include "storage/tz/date_time_zone_db.h"

namespace exportd {
namespace {

using namespace std::chrono_literals;
using std::chrono::local_days;
using std::chrono::sys_days;

CronExpr Parse(std::string_view text) {
  auto expr = ParseCron(text);
  EXPECT_TRUE(expr.ok()) << text << ": " << expr.status().ToString();
  return expr.ok() ? *expr : CronExpr{};
}

std::shared_ptr<const TimeZone> Zone(std::string_view name) {
  auto zone = DateTimeZoneDb().Find(name);
  EXPECT_TRUE(zone.ok()) << zone.status().ToString();
  return *zone;
}

// RFC 3339 UTC strings, so that a failure shows readable instants.
std::vector<std::string> Format(const std::vector<SysSeconds>& runs) {
  std::vector<std::string> out;
  for (SysSeconds t : runs) out.push_back(FormatRfc3339Seconds(t));
  return out;
}

std::vector<std::string> Runs(std::string_view cron, std::string_view zone, SysSeconds from,
                              int count) {
  return Format(NextRuns(Parse(cron), *Zone(zone), from, count));
}

std::vector<int> Bits(const auto& bits) {
  std::vector<int> out;
  for (size_t i = 0; i < bits.size(); ++i) {
    if (bits[i]) out.push_back(static_cast<int>(i));
  }
  return out;
}

// --- parsing ---

TEST(CronParseTest, StarSelectsTheWholeRange) {
  const CronExpr e = Parse("* * * * *");
  EXPECT_EQ(e.minutes.count(), 60u);
  EXPECT_EQ(e.hours.count(), 24u);
  EXPECT_EQ(Bits(e.days_of_month).front(), 1);
  EXPECT_EQ(e.days_of_month.count(), 31u);
  EXPECT_EQ(Bits(e.months), (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_EQ(e.days_of_week.count(), 7u);
  EXPECT_TRUE(e.day_of_month_star);
  EXPECT_TRUE(e.day_of_week_star);
}

TEST(CronParseTest, ValuesListsRangesAndSteps) {
  const CronExpr e = Parse("0,15,30-32 */6 1-10/3 */5 1-5");
  EXPECT_EQ(Bits(e.minutes), (std::vector<int>{0, 15, 30, 31, 32}));
  EXPECT_EQ(Bits(e.hours), (std::vector<int>{0, 6, 12, 18}));
  EXPECT_EQ(Bits(e.days_of_month), (std::vector<int>{1, 4, 7, 10}));
  EXPECT_EQ(Bits(e.months), (std::vector<int>{1, 6, 11}));
  EXPECT_EQ(Bits(e.days_of_week), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_FALSE(e.day_of_month_star);
  EXPECT_FALSE(e.day_of_week_star);
  EXPECT_EQ(Bits(Parse("5 * * * *").minutes), (std::vector<int>{5}));
  EXPECT_EQ(Bits(Parse("*/59 * * * *").minutes), (std::vector<int>{0, 59}));
  EXPECT_EQ(Bits(Parse("10-20/50 * * * *").minutes), (std::vector<int>{10}));
}

TEST(CronParseTest, NamesAreCaseInsensitiveAndMayEndRanges) {
  const CronExpr e = Parse("0 0 * jan,Mar-MAY,dec mon-fri");
  EXPECT_EQ(Bits(e.months), (std::vector<int>{1, 3, 4, 5, 12}));
  EXPECT_EQ(Bits(e.days_of_week), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(Bits(Parse("0 0 * * SUN,sat").days_of_week), (std::vector<int>{0, 6}));
  EXPECT_EQ(Bits(Parse("0 0 * FEB-APR/2 *").months), (std::vector<int>{2, 4}));
}

TEST(CronParseTest, DayOfWeekSevenIsSunday) {
  EXPECT_EQ(Bits(Parse("0 0 * * 7").days_of_week), (std::vector<int>{0}));
  EXPECT_EQ(Bits(Parse("0 0 * * 0").days_of_week), (std::vector<int>{0}));
  EXPECT_EQ(Bits(Parse("0 0 * * 5-7").days_of_week), (std::vector<int>{0, 5, 6}));
  EXPECT_EQ(Bits(Parse("0 0 * * */7").days_of_week), (std::vector<int>{0}));
}

TEST(CronParseTest, SpacesAndTabsSeparateFields) {
  EXPECT_EQ(Bits(Parse("  5\t4  *   * *  ").hours), (std::vector<int>{4}));
}

TEST(CronParseTest, StarFlagsFollowTheFieldsFirstCharacter) {
  const CronExpr e = Parse("0 0 */2 * 1");
  EXPECT_TRUE(e.day_of_month_star);
  EXPECT_FALSE(e.day_of_week_star);
  EXPECT_FALSE(Parse("0 0 1-31 * *").day_of_month_star);
}

struct BadCron {
  const char* text;
  const char* message;  // a part of the message
};

TEST(CronParseTest, ErrorsNameTheFieldAndTheReason) {
  const BadCron cases[] = {
      {"", "needs 5 fields (minute hour day-of-month month day-of-week), got 0"},
      {"* * * *", "got 4"},
      {"0 0 * * * 2026", "got 6"},
      {"60 * * * *", "cron minute field: 60 is out of range 0-59"},
      {"* 24 * * *", "cron hour field: 24 is out of range 0-23"},
      {"* * 0 * *", "cron day-of-month field: 0 is out of range 1-31"},
      {"* * 32 * *", "cron day-of-month field: 32 is out of range 1-31"},
      {"* * * 13 *", "cron month field: 13 is out of range 1-12"},
      {"* * * 0 *", "cron month field: 0 is out of range 1-12"},
      {"* * * * 8", "cron day-of-week field: 8 is out of range 0-7"},
      {"x * * * *", "cron minute field: 'x' is not a number"},
      {"* * * foo *", "cron month field: 'foo' is not a number or a name"},
      {"* * * * monday", "cron day-of-week field: 'monday' is not a number or a name"},
      {"* * * MON *", "cron month field: 'MON' is not a number or a name"},
      {"* * * * JAN", "cron day-of-week field: 'JAN' is not a number or a name"},
      {"* JAN * * *", "cron hour field: 'JAN' is not a number"},
      {"1,,2 * * * *", "cron minute field: empty list item"},
      {"1, * * * *", "cron minute field: empty list item"},
      {"5-1 * * * *", "cron minute field: range '5-1' starts after it ends"},
      {"* * * * FRI-MON", "cron day-of-week field: range 'FRI-MON' starts after it ends"},
      {"-5 * * * *", "cron minute field: a value is missing"},
      {"5- * * * *", "cron minute field: a value is missing"},
      {"*/0 * * * *", "cron minute field: step 0 must be between 1 and 59"},
      {"* */24 * * *", "cron hour field: step 24 must be between 1 and 23"},
      {"*/ * * * *", "cron minute field: step '' is not a number"},
      {"*/x * * * *", "cron minute field: step 'x' is not a number"},
      {"*/1/2 * * * *", "cron minute field: step '1/2' is not a number"},
      {"5/15 * * * *", "cron minute field: a step needs '*' or a range before it: '5/15'"},
      {"0000 * * * *", "cron minute field: '0000' is not a number"},
      {"+5 * * * *", "cron minute field: '+5' is not a number"},
      {"1.5 * * * *", "cron minute field: '1.5' is not a number"},
      {"? * * * *", "cron minute field: '?' is not a number"},
      {"*-5 * * * *", "cron minute field: '*' is not a number"},
      {"0 0 30 2 *", "cron day-of-month field: '30' never occurs in the months '2'"},
      {"0 0 31 4,6,9,11 *", "cron day-of-month field: '31' never occurs in the months '4,6,9,11'"},
      {"0 0 30-31 FEB */2", "never occurs"},
  };
  for (const BadCron& c : cases) {
    auto expr = ParseCron(c.text);
    ASSERT_FALSE(expr.ok()) << c.text;
    EXPECT_EQ(expr.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(expr.status().pointer(), "/cron") << c.text;
    EXPECT_NE(expr.status().message().find(c.message), std::string::npos)
        << c.text << " -> " << expr.status().message();
  }
}

TEST(CronParseTest, RareButPossibleDaysAreAccepted) {
  EXPECT_TRUE(ParseCron("0 0 29 2 *").ok());    // leap days
  EXPECT_TRUE(ParseCron("0 0 31 2,3 *").ok());  // March has a 31st
  EXPECT_TRUE(ParseCron("0 0 30 2 MON").ok());  // Vixie OR: every Monday of February
  EXPECT_TRUE(ParseCron("0 0 */30 2 *").ok());  // '*': 1 and 31; the 1st exists
}

// --- matching ---

TEST(CronMatchTest, DayFieldsAreAndedWhenEitherIsStar) {
  const CronExpr e = Parse("0 0 13 * *");
  EXPECT_TRUE(MatchesDay(e, 2026y / 2 / 13));
  EXPECT_FALSE(MatchesDay(e, 2026y / 2 / 14));
  const CronExpr fridays = Parse("0 0 * * FRI");
  EXPECT_TRUE(MatchesDay(fridays, 2026y / 2 / 13));  // a Friday
  EXPECT_FALSE(MatchesDay(fridays, 2026y / 2 / 12));
  // '*/2' counts as a star, so both fields must match: odd days that are Fridays.
  const CronExpr odd_days_on_fridays = Parse("0 0 */2 * 5");
  EXPECT_TRUE(MatchesDay(odd_days_on_fridays, 2026y / 2 / 13));   // odd day, Friday
  EXPECT_FALSE(MatchesDay(odd_days_on_fridays, 2026y / 2 / 20));  // even day, Friday
  EXPECT_FALSE(MatchesDay(odd_days_on_fridays, 2026y / 2 / 15));  // odd day, Sunday
}

TEST(CronMatchTest, VixieOrWhenBothDayFieldsAreRestricted) {
  const CronExpr e = Parse("0 0 13 * FRI");     // every 13th and every Friday
  EXPECT_TRUE(MatchesDay(e, 2026y / 2 / 13));   // both
  EXPECT_TRUE(MatchesDay(e, 2026y / 1 / 13));   // a Tuesday the 13th
  EXPECT_TRUE(MatchesDay(e, 2026y / 1 / 16));   // a Friday
  EXPECT_FALSE(MatchesDay(e, 2026y / 1 / 15));  // neither
  const CronExpr in_march = Parse("0 0 1 MAR MON");
  EXPECT_TRUE(MatchesDay(in_march, 2026y / 3 / 2));   // a Monday in March
  EXPECT_FALSE(MatchesDay(in_march, 2026y / 4 / 1));  // month still applies
  EXPECT_FALSE(MatchesDay(in_march, 2026y / 4 / 6));
}

TEST(CronMatchTest, MatchesTheMinuteOfAReading) {
  const CronExpr e = Parse("30 2 * * *");
  EXPECT_TRUE(Matches(e, local_days{2026y / 3 / 8} + 2h + 30min + 59s));
  EXPECT_FALSE(Matches(e, local_days{2026y / 3 / 8} + 2h + 31min));
  EXPECT_FALSE(Matches(e, local_days{2026y / 3 / 8} + 3h + 30min));
}

// --- NextRuns ---

TEST(CronNextRunsTest, StrictlyAfterFromInUtc) {
  const SysSeconds from = sys_days{2026y / 1 / 1} + 10h;
  EXPECT_EQ(Runs("0 10 * * *", "UTC", from, 2),
            (std::vector<std::string>{"2026-01-02T10:00:00Z", "2026-01-03T10:00:00Z"}));
  EXPECT_EQ(Runs("0 10 * * *", "UTC", from - 1s, 1),
            (std::vector<std::string>{"2026-01-01T10:00:00Z"}));
  EXPECT_EQ(Runs("*/20 * * * *", "UTC", from + 5s, 3),
            (std::vector<std::string>{"2026-01-01T10:20:00Z", "2026-01-01T10:40:00Z",
                                      "2026-01-01T11:00:00Z"}));
  EXPECT_TRUE(NextRuns(Parse("* * * * *"), *Zone("UTC"), from, 0).empty());
  EXPECT_TRUE(NextRuns(Parse("* * * * *"), *Zone("UTC"), from, -1).empty());
}

TEST(CronNextRunsTest, MonthEndsAndYearWrap) {
  EXPECT_EQ(Runs("0 0 31 * *", "UTC", sys_days{2026y / 1 / 31}, 3),
            (std::vector<std::string>{"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z",
                                      "2026-07-31T00:00:00Z"}));
  EXPECT_EQ(Runs("59 23 31 12 *", "UTC", sys_days{2026y / 6 / 1}, 2),
            (std::vector<std::string>{"2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"}));
}

TEST(CronNextRunsTest, LeapDays) {
  EXPECT_EQ(Runs("0 0 29 2 *", "UTC", sys_days{2026y / 1 / 1}, 3),
            (std::vector<std::string>{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z",
                                      "2036-02-29T00:00:00Z"}));
  // 2100 is not a leap year.
  EXPECT_EQ(Runs("0 0 29 2 *", "UTC", sys_days{2096y / 3 / 1}, 1),
            (std::vector<std::string>{"2104-02-29T00:00:00Z"}));
  // "28,29" fires on both days in leap years, on the 28th in the others.
  EXPECT_EQ(Runs("0 0 28,29 2 *", "UTC", sys_days{2027y / 12 / 1}, 3),
            (std::vector<std::string>{"2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z",
                                      "2029-02-28T00:00:00Z"}));
  // A 29th of February that is a Sunday ('*/7' keeps the AND rule): 2032, then 2060.
  EXPECT_EQ(Runs("0 0 29 2 */7", "UTC", sys_days{2026y / 1 / 1}, 2),
            (std::vector<std::string>{"2032-02-29T00:00:00Z", "2060-02-29T00:00:00Z"}));
}

TEST(CronNextRunsTest, VixieOrRule) {
  // The 1st and 15th, and every Monday, of March 2026 (Mondays: 2, 9, 16, 23, 30).
  EXPECT_EQ(Runs("0 12 1,15 3 MON", "UTC", sys_days{2026y / 2 / 28}, 7),
            (std::vector<std::string>{"2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z",
                                      "2026-03-09T12:00:00Z", "2026-03-15T12:00:00Z",
                                      "2026-03-16T12:00:00Z", "2026-03-23T12:00:00Z",
                                      "2026-03-30T12:00:00Z"}));
}

TEST(CronNextRunsTest, NeverFiringExpressionReturnsFewer) {
  // ParseCron rejects a day the months never have; one built by hand still ends the search.
  CronExpr e = Parse("0 0 31 * *");
  e.months.reset();
  e.months.set(2);
  EXPECT_TRUE(NextRuns(e, *Zone("UTC"), sys_days{2026y / 1 / 1}, 5).empty());
  EXPECT_FALSE(LastRunAtOrBefore(e, *Zone("UTC"), sys_days{2026y / 1 / 1}).has_value());
}

TEST(CronNextRunsTest, DailyInTheLosAngelesSpringGapFiresOnceAtTheGapEnd) {
  // 2026-03-08: 02:00 PST -> 03:00 PDT (10:00 UTC); 02:30 does not exist that day.
  EXPECT_EQ(Runs("30 2 * * *", "America/Los_Angeles", sys_days{2026y / 3 / 7}, 3),
            (std::vector<std::string>{"2026-03-07T10:30:00Z",     // 02:30 PST
                                      "2026-03-08T10:00:00Z",     // 03:00 PDT, once
                                      "2026-03-09T09:30:00Z"}));  // 02:30 PDT
  // 03:00 and the skipped 02:00 fall on the same instant, which fires once.
  EXPECT_EQ(Runs("0 2,3 * * *", "America/Los_Angeles", sys_days{2026y / 3 / 8}, 3),
            (std::vector<std::string>{"2026-03-08T10:00:00Z", "2026-03-09T09:00:00Z",
                                      "2026-03-09T10:00:00Z"}));
  // From inside the day, after the gap: the next is the next day's.
  EXPECT_EQ(Runs("30 2 * * *", "America/Los_Angeles", sys_days{2026y / 3 / 8} + 10h, 1),
            (std::vector<std::string>{"2026-03-09T09:30:00Z"}));
  EXPECT_EQ(Runs("30 2 * * *", "America/Los_Angeles", sys_days{2026y / 3 / 8} + 10h - 1s, 1),
            (std::vector<std::string>{"2026-03-08T10:00:00Z"}));
}

TEST(CronNextRunsTest, DailyInTheLosAngelesFallFoldFiresOnceAtTheFirstOccurrence) {
  // 2026-11-01: 02:00 PDT -> 01:00 PST (09:00 UTC); 01:30 happens at 08:30 and 09:30 UTC.
  EXPECT_EQ(Runs("30 1 * * *", "America/Los_Angeles", sys_days{2026y / 10 / 31}, 3),
            (std::vector<std::string>{"2026-10-31T08:30:00Z",     // 01:30 PDT
                                      "2026-11-01T08:30:00Z",     // 01:30 PDT, the first
                                      "2026-11-02T09:30:00Z"}));  // 01:30 PST
  // From between the two occurrences: the second one does not fire.
  EXPECT_EQ(Runs("30 1 * * *", "America/Los_Angeles", sys_days{2026y / 11 / 1} + 9h, 1),
            (std::vector<std::string>{"2026-11-02T09:30:00Z"}));
}

TEST(CronNextRunsTest, HourlyOverLosAngelesChanges) {
  EXPECT_EQ(Runs("0 * * * *", "America/Los_Angeles", sys_days{2026y / 3 / 8} + 8h, 4),
            (std::vector<std::string>{"2026-03-08T09:00:00Z",  // 01:00 PST
                                      "2026-03-08T10:00:00Z",  // 02:00 skipped -> 03:00 PDT
                                      "2026-03-08T11:00:00Z",  // 04:00 PDT
                                      "2026-03-08T12:00:00Z"}));
  EXPECT_EQ(Runs("0 * * * *", "America/Los_Angeles", sys_days{2026y / 11 / 1} + 6h, 4),
            (std::vector<std::string>{"2026-11-01T07:00:00Z",  // 00:00 PDT
                                      "2026-11-01T08:00:00Z",  // 01:00 PDT
                                      "2026-11-01T10:00:00Z",  // 02:00 PST (01:00 PST skipped)
                                      "2026-11-01T11:00:00Z"}));
}

TEST(CronNextRunsTest, EveryFifteenMinutesOverLosAngelesChanges) {
  EXPECT_EQ(Runs("*/15 * * * *", "America/Los_Angeles", sys_days{2026y / 3 / 8} + 9h + 30min, 4),
            (std::vector<std::string>{"2026-03-08T09:45:00Z",  // 01:45 PST
                                      "2026-03-08T10:00:00Z",  // 02:00-02:45 and 03:00: once
                                      "2026-03-08T10:15:00Z",  // 03:15 PDT
                                      "2026-03-08T10:30:00Z"}));
  EXPECT_EQ(Runs("*/15 * * * *", "America/Los_Angeles", sys_days{2026y / 11 / 1} + 8h + 30min, 4),
            (std::vector<std::string>{"2026-11-01T08:45:00Z",  // 01:45 PDT
                                      "2026-11-01T10:00:00Z",  // 02:00 PST; no second 01:xx
                                      "2026-11-01T10:15:00Z", "2026-11-01T10:30:00Z"}));
  // Started inside the second 01:xx hour: nothing fires until 02:00 PST.
  EXPECT_EQ(Runs("*/15 * * * *", "America/Los_Angeles", sys_days{2026y / 11 / 1} + 9h + 10min, 1),
            (std::vector<std::string>{"2026-11-01T10:00:00Z"}));
}

TEST(CronNextRunsTest, BerlinSpringAndAutumn) {
  // 2026-03-29: 02:00 CET -> 03:00 CEST (01:00 UTC).
  EXPECT_EQ(Runs("30 2 * * *", "Europe/Berlin", sys_days{2026y / 3 / 28}, 3),
            (std::vector<std::string>{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z",
                                      "2026-03-30T00:30:00Z"}));
  EXPECT_EQ(Runs("0 * * * *", "Europe/Berlin", sys_days{2026y / 3 / 28} + 23h + 30min, 4),
            (std::vector<std::string>{"2026-03-29T00:00:00Z",  // 01:00 CET
                                      "2026-03-29T01:00:00Z",  // 02:00 skipped -> 03:00 CEST
                                      "2026-03-29T02:00:00Z",  // 04:00 CEST
                                      "2026-03-29T03:00:00Z"}));
  EXPECT_EQ(Runs("*/15 * * * *", "Europe/Berlin", sys_days{2026y / 3 / 29} + 45min, 3),
            (std::vector<std::string>{"2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z",
                                      "2026-03-29T01:30:00Z"}));
  // 2026-10-25: 03:00 CEST -> 02:00 CET (01:00 UTC); 02:xx happens twice.
  EXPECT_EQ(Runs("30 2 * * *", "Europe/Berlin", sys_days{2026y / 10 / 24}, 3),
            (std::vector<std::string>{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z",
                                      "2026-10-26T01:30:00Z"}));
  EXPECT_EQ(Runs("0 * * * *", "Europe/Berlin", sys_days{2026y / 10 / 24} + 23h + 30min, 3),
            (std::vector<std::string>{"2026-10-25T00:00:00Z",  // 02:00 CEST
                                      "2026-10-25T02:00:00Z",  // 03:00 CET (02:00 CET skipped)
                                      "2026-10-25T03:00:00Z"}));
  EXPECT_EQ(Runs("*/15 * * * *", "Europe/Berlin", sys_days{2026y / 10 / 25} + 30min, 3),
            (std::vector<std::string>{"2026-10-25T00:45:00Z", "2026-10-25T02:00:00Z",
                                      "2026-10-25T02:15:00Z"}));
}

TEST(CronNextRunsTest, EveryMinuteAcrossTheSpringGapNeverRepeatsAnInstant) {
  const std::vector<SysSeconds> runs = NextRuns(Parse("* * * * *"), *Zone("America/Los_Angeles"),
                                                sys_days{2026y / 3 / 8} + 9h + 58min, 4);
  EXPECT_EQ(Format(runs),
            (std::vector<std::string>{"2026-03-08T09:59:00Z", "2026-03-08T10:00:00Z",
                                      "2026-03-08T10:01:00Z", "2026-03-08T10:02:00Z"}));
}

TEST(CronNextRunsTest, YearlyExpressionsAreFast) {
  // The search skips months and days, not minutes; it ends 50 years after `from`, after the
  // 12 leap days 2028..2072.
  const auto start = std::chrono::steady_clock::now();
  const std::vector<SysSeconds> runs =
      NextRuns(Parse("0 0 29 2 *"), *Zone("Europe/Berlin"), sys_days{2026y / 1 / 1}, 20);
  ASSERT_EQ(runs.size(), 12u);
  EXPECT_EQ(FormatRfc3339Seconds(runs.back()), "2072-02-28T23:00:00Z");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

// The firing rule restated minute by minute in UTC, as a reference: instant s fires when its
// reading matches and s is the reading's first occurrence, or when the clock jumped forward at
// s over a matching reading.
std::vector<SysSeconds> ReferenceRuns(const CronExpr& e, const TimeZone& zone, SysSeconds from,
                                      SysSeconds until) {
  std::vector<SysSeconds> runs;
  for (SysSeconds s = from + 1min; s < until; s += 1min) {
    const LocalSeconds reading = zone.ToLocal(s);
    bool fires = Matches(e, reading) && zone.FromLocal(reading).first == s;
    for (LocalSeconds skipped = zone.ToLocal(s - 1min) + 1min; skipped < reading && !fires;
         skipped += 1min) {
      fires = Matches(e, skipped);
    }
    if (fires) runs.push_back(s);
  }
  return runs;
}

TEST(CronNextRunsTest, AgreesWithAMinuteByMinuteReferenceOverChanges) {
  const struct {
    const char* zone;
    SysSeconds from;
  } windows[] = {
      {"America/Los_Angeles", sys_days{2026y / 3 / 7} + 12h},
      {"America/Los_Angeles", sys_days{2026y / 10 / 31} + 12h},
      {"Europe/Berlin", sys_days{2026y / 3 / 28} + 12h},
      {"Europe/Berlin", sys_days{2026y / 10 / 24} + 12h},
      {"Australia/Lord_Howe", sys_days{2026y / 10 / 3}},
      {"Australia/Lord_Howe", sys_days{2026y / 4 / 4}},
  };
  for (const auto& w : windows) {
    const auto zone = Zone(w.zone);
    for (const char* cron :
         {"* * * * *", "*/15 * * * *", "0 * * * *", "30 * * * *", "30 2 * * *", "30 1 * * *",
          "0 0,1,2,3 * * *", "45 1-3 * * SUN", "10,40 2 8,29 * *"}) {
      const CronExpr e = Parse(cron);
      const SysSeconds until = w.from + 48h;
      std::vector<SysSeconds> runs = NextRuns(e, *zone, w.from, 5000);
      std::erase_if(runs, [&](SysSeconds t) { return t >= until; });
      EXPECT_EQ(Format(runs), Format(ReferenceRuns(e, *zone, w.from, until)))
          << w.zone << " " << cron;
    }
  }
}

// --- LastRunAtOrBefore ---

TEST(CronLastRunTest, IsTheLastFiringAtOrBefore) {
  const auto zone = Zone("America/Los_Angeles");
  const TimeZone& la = *zone;
  const CronExpr daily = Parse("30 2 * * *");
  EXPECT_EQ(LastRunAtOrBefore(daily, la, sys_days{2026y / 3 / 8} + 10h),
            sys_days{2026y / 3 / 8} + 10h);  // the gap end itself
  EXPECT_EQ(LastRunAtOrBefore(daily, la, sys_days{2026y / 3 / 8} + 10h - 1s),
            sys_days{2026y / 3 / 7} + 10h + 30min);
  const CronExpr fold = Parse("30 1 * * *");
  // Inside the second 01:xx hour, after the second 01:30: still the first occurrence.
  EXPECT_EQ(LastRunAtOrBefore(fold, la, sys_days{2026y / 11 / 1} + 9h + 45min),
            sys_days{2026y / 11 / 1} + 8h + 30min);
  EXPECT_EQ(LastRunAtOrBefore(Parse("0 0 29 2 *"), *Zone("UTC"), sys_days{2027y / 1 / 1}),
            sys_days{2024y / 2 / 29});
}

TEST(CronLastRunTest, AgreesWithNextRunsOverChanges) {
  for (const char* zone_name : {"America/Los_Angeles", "Europe/Berlin"}) {
    const auto zone_ptr = Zone(zone_name);
    const TimeZone& zone = *zone_ptr;
    for (const char* cron :
         {"*/15 * * * *", "0 * * * *", "30 2 * * *", "30 1 * * *", "7 2 * * *"}) {
      const CronExpr e = Parse(cron);
      for (SysSeconds from :
           {SysSeconds(sys_days{2026y / 3 / 7}), SysSeconds(sys_days{2026y / 3 / 28}),
            SysSeconds(sys_days{2026y / 10 / 24}), SysSeconds(sys_days{2026y / 10 / 31})}) {
        const std::vector<SysSeconds> runs = NextRuns(e, zone, from, 200);
        for (size_t i = 1; i < runs.size(); ++i) {
          ASSERT_LT(runs[i - 1], runs[i]);
          EXPECT_EQ(LastRunAtOrBefore(e, zone, runs[i]), runs[i]) << zone_name << " " << cron;
          EXPECT_EQ(LastRunAtOrBefore(e, zone, runs[i] - 1s), runs[i - 1])
              << zone_name << " " << cron;
        }
      }
    }
  }
}

}  // namespace
}  // namespace exportd
