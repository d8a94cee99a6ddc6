#include "api/task_body_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace exportd::api {
namespace {

using std::chrono::milliseconds;

const TimePoint kT0 = TimePoint{} + milliseconds(1'700'000'000'000);

std::string BodyOf(const TaskBodyCache::Body& body) { return body ? *body : "<none>"; }

TEST(TaskBodyCacheTest, ServesABodyOnlyForItsRevisionAndBeforeItsValidUntil) {
  TaskBodyCache cache(1 << 20);
  EXPECT_EQ(cache.Find("t1", 1, kT0), nullptr);
  cache.Put("t1", 1, kT0 + milliseconds(1000), "body one");
  EXPECT_EQ(BodyOf(cache.Find("t1", 1, kT0)), "body one");
  EXPECT_EQ(BodyOf(cache.Find("t1", 1, kT0 + milliseconds(999))), "body one");
  EXPECT_EQ(cache.Find("t1", 1, kT0 + milliseconds(1000)), nullptr) << "valid_until is exclusive";
  EXPECT_EQ(cache.Find("t1", 2, kT0), nullptr) << "another revision of the task";
  EXPECT_EQ(cache.Find("t2", 1, kT0), nullptr) << "another task";
  EXPECT_TRUE(cache.Holds("t1", kT0 + milliseconds(999))) << "whatever the revision";
  EXPECT_FALSE(cache.Holds("t1", kT0 + milliseconds(1000)));
  EXPECT_FALSE(cache.Holds("t2", kT0));

  // A later rendering replaces the earlier one.
  cache.Put("t1", 2, kT0 + milliseconds(2000), "body two");
  EXPECT_EQ(cache.Find("t1", 1, kT0), nullptr);
  EXPECT_EQ(BodyOf(cache.Find("t1", 2, kT0 + milliseconds(1500))), "body two");
  EXPECT_EQ(cache.bytes(), std::string("body two").size());
}

TEST(TaskBodyCacheTest, HoldsAtMostMaxBytesDroppingTheOldestFirst) {
  TaskBodyCache cache(30);
  const TimePoint until = kT0 + milliseconds(1000);
  cache.Put("a", 1, until, std::string(10, 'a'));
  cache.Put("b", 1, until, std::string(10, 'b'));
  cache.Put("c", 1, until, std::string(10, 'c'));
  EXPECT_EQ(cache.bytes(), 30u);
  cache.Put("a", 2, until, std::string(10, 'A'));  // re-put: "a" becomes the newest
  cache.Put("d", 1, until, std::string(15, 'd'));  // needs 15: "b" and then "c" go
  EXPECT_EQ(cache.Find("b", 1, kT0), nullptr);
  EXPECT_EQ(cache.Find("c", 1, kT0), nullptr);
  EXPECT_EQ(BodyOf(cache.Find("a", 2, kT0)), std::string(10, 'A'));
  EXPECT_EQ(BodyOf(cache.Find("d", 1, kT0)), std::string(15, 'd'));
  EXPECT_EQ(cache.bytes(), 25u);

  cache.Put("huge", 1, until, std::string(31, 'h'));
  EXPECT_EQ(cache.Find("huge", 1, kT0), nullptr) << "larger than the whole cache: not kept";
  EXPECT_EQ(cache.bytes(), 25u) << "and nothing was dropped for it";
}

TEST(TaskBodyCacheTest, ABodyHandedOutOutlivesItsEviction) {
  TaskBodyCache cache(10);
  cache.Put("a", 1, kT0 + milliseconds(1000), std::string(10, 'a'));
  TaskBodyCache::Body held = cache.Find("a", 1, kT0);
  cache.Put("b", 1, kT0 + milliseconds(1000), std::string(10, 'b'));
  EXPECT_EQ(cache.Find("a", 1, kT0), nullptr);
  EXPECT_EQ(BodyOf(held), std::string(10, 'a'));
}

}  // namespace
}  // namespace exportd::api
