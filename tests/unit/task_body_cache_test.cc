#include "api/task_body_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace exportd::api {
namespace {

using std::chrono::milliseconds;

const TimePoint kT0 = TimePoint{} + milliseconds(1'700'000'000'000);

std::string BodyOf(const TaskBodyCache::Body& body) { return body ? *body : "<none>"; }
std::string BodyOf(const TaskBodyCache::Lookup& found) { return BodyOf(found.body); }

TEST(TaskBodyCacheTest, ServesABodyOnlyForItsRevisionAndBeforeItsValidUntil) {
  TaskBodyCache cache(1 << 20);
  EXPECT_EQ(BodyOf(cache.Find("t1", 1, kT0)), "<none>");
  cache.Put("t1", 1, kT0, kT0 + milliseconds(1000), "body one");
  EXPECT_EQ(BodyOf(cache.Find("t1", 1, kT0)), "body one");
  EXPECT_EQ(BodyOf(cache.Find("t1", 1, kT0 + milliseconds(999))), "body one");
  EXPECT_EQ(BodyOf(cache.Find("t1", 1, kT0 + milliseconds(1000))), "<none>")
      << "valid_until is exclusive";
  EXPECT_EQ(BodyOf(cache.Find("t1", 2, kT0)), "<none>") << "another revision of the task";
  EXPECT_EQ(BodyOf(cache.Find("t2", 1, kT0)), "<none>") << "another task";
  EXPECT_TRUE(cache.Holds("t1", kT0 + milliseconds(999))) << "whatever the revision";
  EXPECT_FALSE(cache.Holds("t1", kT0 + milliseconds(1000)));
  EXPECT_FALSE(cache.Holds("t2", kT0));

  // A later rendering replaces the earlier one.
  cache.Put("t1", 2, kT0, kT0 + milliseconds(2000), "body two");
  EXPECT_EQ(BodyOf(cache.Find("t1", 1, kT0)), "<none>");
  EXPECT_EQ(BodyOf(cache.Find("t1", 2, kT0 + milliseconds(1500))), "body two");
  EXPECT_EQ(cache.bytes(), std::string("body two").size());
}

TEST(TaskBodyCacheTest, HoldsAtMostMaxBytesDroppingTheOldestFirst) {
  TaskBodyCache cache(30);
  const TimePoint until = kT0 + milliseconds(1000);
  cache.Put("a", 1, kT0, until, std::string(10, 'a'));
  cache.Put("b", 1, kT0, until, std::string(10, 'b'));
  cache.Put("c", 1, kT0, until, std::string(10, 'c'));
  EXPECT_EQ(cache.bytes(), 30u);
  cache.Put("a", 2, kT0, until, std::string(10, 'A'));  // re-put: "a" becomes the newest
  cache.Put("d", 1, kT0, until, std::string(15, 'd'));  // needs 15: "b" and then "c" go
  EXPECT_EQ(BodyOf(cache.Find("b", 1, kT0)), "<none>");
  EXPECT_EQ(BodyOf(cache.Find("c", 1, kT0)), "<none>");
  EXPECT_EQ(BodyOf(cache.Find("a", 2, kT0)), std::string(10, 'A'));
  EXPECT_EQ(BodyOf(cache.Find("d", 1, kT0)), std::string(15, 'd'));
  EXPECT_EQ(cache.bytes(), 25u);

  cache.Put("huge", 1, kT0, until, std::string(31, 'h'));
  EXPECT_EQ(BodyOf(cache.Find("huge", 1, kT0)), "<none>")
      << "larger than the whole cache: not kept";
  EXPECT_EQ(cache.bytes(), 25u) << "and nothing was dropped for it";
}

TEST(TaskBodyCacheTest, ABodyHandedOutOutlivesItsEviction) {
  TaskBodyCache cache(10);
  cache.Put("a", 1, kT0, kT0 + milliseconds(1000), std::string(10, 'a'));
  TaskBodyCache::Body held = cache.Find("a", 1, kT0).body;
  cache.Put("b", 1, kT0, kT0 + milliseconds(1000), std::string(10, 'b'));
  EXPECT_EQ(BodyOf(cache.Find("a", 1, kT0)), "<none>");
  EXPECT_EQ(BodyOf(held), std::string(10, 'a'));
}

// At the turn of the second every poller would find the body out of date at once: one caller is
// asked to render the next second's body ahead, and it is served from the start of that second.
TEST(TaskBodyCacheTest, OneCallerRendersTheNextPeriodAheadAndItIsServedFromItsStart) {
  TaskBodyCache cache(1 << 20);
  const TimePoint second = kT0 + milliseconds(1000);
  cache.Put("t1", 1, kT0, second, "this second");
  TaskBodyCache::Lookup early =
      cache.Find("t1", 1, second - TaskBodyCache::kRenderAhead - milliseconds(1));
  EXPECT_EQ(BodyOf(early), "this second");
  EXPECT_FALSE(early.render_from.has_value()) << "too early to render ahead";

  TaskBodyCache::Lookup asked = cache.Find("t1", 1, second - TaskBodyCache::kRenderAhead);
  EXPECT_EQ(BodyOf(asked), "this second");
  ASSERT_TRUE(asked.render_from.has_value());
  EXPECT_EQ(*asked.render_from, second);
  TaskBodyCache::Lookup other = cache.Find("t1", 1, second - milliseconds(100));
  EXPECT_EQ(BodyOf(other), "this second");
  EXPECT_FALSE(other.render_from.has_value()) << "one caller renders ahead, not every one";
  EXPECT_EQ(BodyOf(cache.Find("t1", 2, second - milliseconds(100))), "<none>")
      << "another revision";

  cache.Put("t1", 1, second, second + milliseconds(1000), "next second");
  EXPECT_EQ(BodyOf(cache.Find("t1", 1, second - milliseconds(1))), "this second")
      << "the rendering ahead is not served before its time";
  EXPECT_EQ(cache.bytes(), std::string("this second").size() + std::string("next second").size());
  EXPECT_TRUE(cache.Holds("t1", second + milliseconds(999)));
  EXPECT_EQ(BodyOf(cache.Find("t1", 1, second)), "next second");
  EXPECT_EQ(cache.bytes(), std::string("next second").size()) << "the past one is dropped";
  TaskBodyCache::Lookup again =
      cache.Find("t1", 1, second + milliseconds(1000) - TaskBodyCache::kRenderAhead);
  ASSERT_TRUE(again.render_from.has_value()) << "and the next period is rendered ahead too";
  EXPECT_EQ(*again.render_from, second + milliseconds(1000));
}

// A rendering ahead that found the task changed, or that does not follow the kept body, replaces
// it like any other.
TEST(TaskBodyCacheTest, ARenderingOfAnotherRevisionOrPeriodReplacesTheKeptOne) {
  TaskBodyCache cache(1 << 20);
  const TimePoint second = kT0 + milliseconds(1000);
  cache.Put("t1", 1, kT0, second, "revision 1");
  cache.Put("t1", 2, second, second + milliseconds(1000), "revision 2");
  EXPECT_EQ(BodyOf(cache.Find("t1", 1, kT0 + milliseconds(900))), "<none>");
  EXPECT_EQ(BodyOf(cache.Find("t1", 2, kT0 + milliseconds(900))), "<none>") << "not yet valid";
  EXPECT_EQ(BodyOf(cache.Find("t1", 2, second)), "revision 2");

  cache.Put("t1", 2, second + milliseconds(5000), second + milliseconds(6000), "later");
  EXPECT_EQ(BodyOf(cache.Find("t1", 2, second)), "<none>") << "a gap: replaced, not kept beside";
  EXPECT_EQ(cache.bytes(), std::string("later").size());
}

TEST(TaskBodyCacheTest, ARenderingAheadThatDoesNotFitBesideTheCurrentOneIsDropped) {
  TaskBodyCache cache(15);
  const TimePoint second = kT0 + milliseconds(1000);
  cache.Put("a", 1, kT0, second, std::string(10, 'a'));
  cache.Put("a", 1, second, second + milliseconds(1000), std::string(10, 'A'));
  EXPECT_EQ(BodyOf(cache.Find("a", 1, second - milliseconds(1))), std::string(10, 'a'));
  EXPECT_EQ(cache.bytes(), 10u);
  EXPECT_EQ(BodyOf(cache.Find("a", 1, second)), "<none>");
}

// Finds take the lock shared, so many callers are in Find at once in the last kRenderAhead of a
// period: still exactly one of them is asked to render ahead, and every one gets the body.
TEST(TaskBodyCacheTest, ConcurrentFindsAskExactlyOneCallerToRenderAhead) {
  TaskBodyCache cache(1 << 20);
  constexpr int kThreads = 8;
  constexpr int kEach = 2000;
  for (int period = 0; period < 20; ++period) {
    const TimePoint from = kT0 + milliseconds(1000) * period;
    const TimePoint until = from + milliseconds(1000);
    cache.Put("t1", 1, from, until, "body " + std::to_string(period));
    std::atomic<int> asked{0}, served{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          const TimePoint now = until - TaskBodyCache::kRenderAhead + milliseconds((i + t) % 250);
          TaskBodyCache::Lookup found = cache.Find("t1", 1, now);
          if (found.body) served.fetch_add(1);
          if (found.render_from) {
            asked.fetch_add(1);
            EXPECT_EQ(*found.render_from, until);
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(asked.load(), 1) << "period " << period;
    EXPECT_EQ(served.load(), kThreads * kEach) << "period " << period;
  }
}

// Callers on both sides of the turn of the second, at once: each gets the body of its own second,
// and the one rendered ahead is promoted exactly once.
TEST(TaskBodyCacheTest, ConcurrentFindsAcrossTheTurnOfTheSecondEachGetTheirSecondsBody) {
  TaskBodyCache cache(1 << 20);
  const TimePoint second = kT0 + milliseconds(1000);
  cache.Put("t1", 1, kT0, second, "this second");
  cache.Put("t1", 1, second, second + milliseconds(1000), "next second");
  constexpr int kThreads = 8;
  constexpr int kEach = 2000;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const TimePoint now = second - milliseconds(100) + milliseconds((i * 7 + t) % 200);
        const std::string want = now < second ? "this second" : "next second";
        const std::string got = BodyOf(cache.Find("t1", 1, now));
        // Once promoted, the past second's body is gone: "<none>" is right for it too.
        if (got != want && !(now < second && got == "<none>")) wrong.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(BodyOf(cache.Find("t1", 1, second)), "next second");
  EXPECT_EQ(cache.bytes(), std::string("next second").size()) << "promoted once, the past dropped";
}

}  // namespace
}  // namespace exportd::api
