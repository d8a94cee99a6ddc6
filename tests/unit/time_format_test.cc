#include "core/time_format.h"

#include <gtest/gtest.h>

namespace exportd {
namespace {

TEST(TimeFormatTest, FormatsUtcWithMillis) {
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(1'700'000'000'123)), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatRfc3339Seconds(FromUnixMillis(1'700'000'000'999)), "2023-11-14T22:13:20Z");
}

TEST(TimeFormatTest, ParsesOffsetsAndFractions) {
  auto t = ParseRfc3339("2023-11-14T22:13:20.123Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(ToUnixMillis(*t), 1'700'000'000'123);
  auto plus = ParseRfc3339("2023-11-15T00:13:20+02:00");
  ASSERT_TRUE(plus.has_value());
  EXPECT_EQ(ToUnixMillis(*plus), 1'700'000'000'000);
  auto minus = ParseRfc3339("2023-11-14T21:13:20-01:00");
  ASSERT_TRUE(minus.has_value());
  EXPECT_EQ(ToUnixMillis(*minus), 1'700'000'000'000);
}

TEST(TimeFormatTest, RejectsInvalid) {
  for (const char* bad :
       {"", "2023-11-14", "2023-11-14T22:13:20", "2023-13-01T00:00:00Z", "2023-02-30T00:00:00Z",
        "2023-11-14T24:00:00Z", "2023-11-14T22:13:20ZZ", "2023-11-14T22:13:20.Z",
        "x023-11-14T22:13:20Z", "2023-11-14T22:13:20+2:00"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

// Seen under UBSan while writing tests/fuzz (seed far_times.json): the nanosecond conversion
// overflowed and wrapped, so "until": "9999-12-31T23:59:59Z" meant 1816-03-30 and an export
// silently matched nothing.
TEST(TimeFormatTest, RejectsInstantsATimePointCannotHold) {
  for (const char* far :
       {"2262-04-11T23:47:16.855Z", "2300-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-23:59", "1677-09-21T00:12:43.999Z", "1600-01-01T00:00:00Z",
        "0000-01-01T00:00:00+23:59"}) {
    EXPECT_FALSE(ParseRfc3339(far).has_value()) << far;
  }
  for (const char* edge : {"2262-04-11T23:47:16.854Z", "1677-09-21T00:12:44.000Z"}) {
    auto t = ParseRfc3339(edge);
    ASSERT_TRUE(t.has_value()) << edge;
    EXPECT_EQ(FormatRfc3339(*t), edge);
  }
}

TEST(TimeFormatTest, RoundTrips) {
  for (int64_t ms : {0LL, 951'782'400'000LL, 4'102'444'799'999LL}) {
    auto parsed = ParseRfc3339(FormatRfc3339(FromUnixMillis(ms)));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(ToUnixMillis(*parsed), ms);
  }
}

}  // namespace
}  // namespace exportd
