#include "core/duration.h"

#include <gtest/gtest.h>

namespace exportd {
namespace {

using std::chrono::seconds;

TEST(DurationTest, ParsesEachUnitAndBareSeconds) {
  EXPECT_EQ(*ParseDuration("3600"), seconds(3600));
  EXPECT_EQ(*ParseDuration("3600s"), seconds(3600));
  EXPECT_EQ(*ParseDuration("90m"), seconds(5400));
  EXPECT_EQ(*ParseDuration("36h"), seconds(129600));
  EXPECT_EQ(*ParseDuration("7d"), seconds(604800));
  EXPECT_EQ(*ParseDuration("0"), seconds(0));
  EXPECT_EQ(*ParseDuration("007d"), seconds(604800));
}

TEST(DurationTest, RejectsWhatIsNotOneNumberWithOneUnit) {
  for (const char* text :
       {"", "d", "s", "-5", "+5", "5 d", " 5", "5D", "1h30m", "1.5h", "5w", "0x10", "5dd", "abc"}) {
    Result<seconds> d = ParseDuration(text, "/retention");
    ASSERT_FALSE(d.ok()) << "'" << text << "'";
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(d.status().pointer(), "/retention") << text;
  }
}

TEST(DurationTest, RejectsMoreThanTheMaximum) {
  EXPECT_TRUE(ParseDuration("36500d").ok());
  EXPECT_FALSE(ParseDuration("36501d").ok());
  EXPECT_FALSE(ParseDuration("99999999999999999999999").ok());  // beyond uint64
  EXPECT_FALSE(ParseDuration("9999999999999999d").ok());        // overflows when multiplied
  EXPECT_EQ(*ParseDuration(std::to_string(kMaxDuration.count())), kMaxDuration);
}

TEST(DurationTest, FromSecondsChecksTheRange) {
  EXPECT_EQ(*DurationFromSeconds(5), seconds(5));
  EXPECT_EQ(DurationFromSeconds(-1, "/x").status().pointer(), "/x");
  EXPECT_FALSE(DurationFromSeconds(kMaxDuration.count() + 1).ok());
}

TEST(DurationTest, FormatsInTheLargestExactUnit) {
  EXPECT_EQ(FormatDuration(seconds(604800)), "7d");
  EXPECT_EQ(FormatDuration(seconds(129600)), "36h");
  EXPECT_EQ(FormatDuration(seconds(5400)), "90m");
  EXPECT_EQ(FormatDuration(seconds(61)), "61s");
  EXPECT_EQ(FormatDuration(seconds(0)), "0s");
  for (int64_t s : {1, 59, 60, 3599, 3600, 86399, 86400, 2592000}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(seconds(s))), seconds(s));
  }
}

}  // namespace
}  // namespace exportd
