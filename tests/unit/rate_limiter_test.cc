#include "api/rate_limiter.h"

#include <gtest/gtest.h>

namespace exportd::api {
namespace {

using std::chrono::milliseconds;

class RateLimiterTest : public ::testing::Test {
 protected:
  std::chrono::steady_clock::time_point now_{};
  RateLimiter::SteadyNow clock_ = [this] { return now_; };
};

TEST_F(RateLimiterTest, BurstThenRefusesWithTheWaitUntilTheNextToken) {
  RateLimiter limiter(/*per_second=*/2, /*burst=*/3, clock_);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Take("alice"), std::nullopt) << i;
  std::optional<milliseconds> wait = limiter.Take("alice");
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, milliseconds(500));  // one token per 500 ms
  now_ += milliseconds(499);
  EXPECT_TRUE(limiter.Take("alice").has_value());
  now_ += milliseconds(2);
  EXPECT_EQ(limiter.Take("alice"), std::nullopt);
}

TEST_F(RateLimiterTest, PrincipalsHaveSeparateBuckets) {
  RateLimiter limiter(1, 1, clock_);
  EXPECT_EQ(limiter.Take("alice"), std::nullopt);
  EXPECT_TRUE(limiter.Take("alice").has_value());
  EXPECT_EQ(limiter.Take("bob"), std::nullopt) << "alice's requests must not use up bob's";
}

TEST_F(RateLimiterTest, RefillStopsAtTheBurst) {
  RateLimiter limiter(10, 2, clock_);
  EXPECT_EQ(limiter.Take("a"), std::nullopt);
  now_ += std::chrono::hours(1);  // and a sweep of the full bucket
  EXPECT_EQ(limiter.Take("a"), std::nullopt);
  EXPECT_EQ(limiter.Take("a"), std::nullopt);
  EXPECT_TRUE(limiter.Take("a").has_value()) << "more than `burst` after a long pause";
}

TEST_F(RateLimiterTest, ZeroRateDisablesIt) {
  RateLimiter limiter(0, 1, clock_);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(limiter.Take("a"), std::nullopt);
}

}  // namespace
}  // namespace exportd::api
