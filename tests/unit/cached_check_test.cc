#include "core/cached_check.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "tests/fakes/fake_clock.h"

namespace exportd {
namespace {

using fakes::FakeClock;
using std::chrono::seconds;

TEST(CachedCheckTest, RunsAtMostOncePerTtlAndSeesChangesAfterIt) {
  FakeClock clock(TimePoint(seconds(1'700'000'000)));
  int calls = 0;
  Status next = Status::Ok();
  CachedCheck check(
      [&] {
        ++calls;
        return next;
      },
      seconds(5), clock);

  EXPECT_TRUE(check.Get().ok());
  EXPECT_EQ(calls, 1);
  next = Unavailable("bucket gone");
  clock.Advance(seconds(4));
  EXPECT_TRUE(check.Get().ok()) << "within the ttl the cached result answers";
  EXPECT_EQ(calls, 1);
  clock.Advance(seconds(1));
  Status failed = check.Get();
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_EQ(failed.message(), "bucket gone");
  EXPECT_EQ(calls, 2);
  // A failure is cached too (a probe storm must not hammer a sick dependency)...
  next = Status::Ok();
  EXPECT_FALSE(check.Get().ok());
  EXPECT_EQ(calls, 2);
  // ...and recovery is seen once the ttl has passed.
  clock.Advance(seconds(5));
  EXPECT_TRUE(check.Get().ok());
  EXPECT_EQ(calls, 3);
}

TEST(CachedCheckTest, ConcurrentCallersGetThePreviousResultWhileOneRefreshes) {
  FakeClock clock(TimePoint(seconds(1'700'000'000)));
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  CachedCheck check(
      [&] {
        if (++calls == 2) {
          entered.set_value();
          released.wait();
          return Unavailable("slow and failing");
        }
        return Status::Ok();
      },
      seconds(5), clock);
  ASSERT_TRUE(check.Get().ok());
  clock.Advance(seconds(6));
  std::future<Status> slow = std::async(std::launch::async, [&] { return check.Get(); });
  entered.get_future().wait();
  // The refresh is under way: others neither wait nor start a second check.
  EXPECT_TRUE(check.Get().ok());
  EXPECT_TRUE(check.Get().ok());
  EXPECT_EQ(calls.load(), 2);
  release.set_value();
  EXPECT_EQ(slow.get().code(), StatusCode::kUnavailable);
  EXPECT_EQ(check.Get().code(), StatusCode::kUnavailable);
  EXPECT_EQ(calls.load(), 2);
}

}  // namespace
}  // namespace exportd
