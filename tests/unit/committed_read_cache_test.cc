#include "storage/sqlite/committed_read_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/temp_dir.h"

namespace exportd {
namespace {

using testing_support::TempDir;

// A clock the test moves by hand.
struct TestClock {
  using duration = std::chrono::steady_clock::duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<TestClock>;
  static constexpr bool is_steady = true;
  static time_point now() { return current; }
  static inline time_point current{};
};

using Cache = CommittedReadCache<std::string, TestClock>;

class CommittedReadCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestClock::current = TestClock::time_point{} + std::chrono::hours(1);
    Result<std::shared_ptr<CommitCounter>> counter = CommitCounter::Open(dir_.File("x.db"));
    ASSERT_TRUE(counter.ok()) << counter.status().ToString();
    counter_ = *counter;
  }

  // A read as a store does it: stamp, read (here: `value`), keep.
  static void ReadAndKeep(Cache& cache, const std::string& key, const std::string& value) {
    std::optional<Cache::ReadStamp> stamp = cache.StampBeforeRead();
    ASSERT_TRUE(stamp.has_value());
    cache.Put(*stamp, key, value);
  }

  void Commit() {
    counter_->Starting();
    counter_->Ended();
  }

  TempDir dir_;
  std::shared_ptr<CommitCounter> counter_;
};

TEST_F(CommittedReadCacheTest, AValueIsReusedUntilTheNextCommit) {
  Cache cache(counter_, 16);
  EXPECT_FALSE(cache.Find("k").has_value());
  ReadAndKeep(cache, "k", "v1");
  EXPECT_EQ(cache.Find("k"), "v1");
  EXPECT_EQ(cache.Find("k"), "v1");
  EXPECT_FALSE(cache.Find("other").has_value());

  Commit();
  EXPECT_FALSE(cache.Find("k").has_value()) << "a value outlived a commit";
  ReadAndKeep(cache, "k", "v2");
  EXPECT_EQ(cache.Find("k"), "v2");
}

TEST_F(CommittedReadCacheTest, ACommitUnderWayHidesValuesAndStampsNoRead) {
  Cache cache(counter_, 16);
  ReadAndKeep(cache, "k", "v1");
  counter_->Starting();
  EXPECT_FALSE(cache.Find("k").has_value());
  EXPECT_FALSE(cache.StampBeforeRead().has_value());
  counter_->Ended();
}

// The read may have seen the database before or after the commit: it is not kept.
TEST_F(CommittedReadCacheTest, AReadOverlappingACommitIsNotKept) {
  Cache cache(counter_, 16);
  std::optional<Cache::ReadStamp> stamp = cache.StampBeforeRead();
  ASSERT_TRUE(stamp.has_value());
  Commit();
  cache.Put(*stamp, "k", "maybe stale");
  EXPECT_FALSE(cache.Find("k").has_value());
}

// For changes the counter cannot see (another tool writing the file): a second at most.
TEST_F(CommittedReadCacheTest, AValueIsKeptForLessThanMaxAgeFromItsRead) {
  Cache cache(counter_, 16);
  std::optional<Cache::ReadStamp> stamp = cache.StampBeforeRead();
  ASSERT_TRUE(stamp.has_value());
  TestClock::current += std::chrono::milliseconds(300);  // the read itself took a while
  cache.Put(*stamp, "k", "v");
  TestClock::current += Cache::kMaxAge - std::chrono::milliseconds(301);
  EXPECT_FALSE(cache.Find("k").has_value()) << "the one Find that reads it again";
  EXPECT_EQ(cache.Find("k"), "v");
  TestClock::current += std::chrono::milliseconds(1);
  EXPECT_FALSE(cache.Find("k").has_value()) << "kept for kMaxAge after the put, not the read";
}

// When a value ages, one caller reads it again while the others still get it: all of them
// missing at once would all read the database at once.
TEST_F(CommittedReadCacheTest, OneFindAfterRefreshAfterMissesAndTheOthersHitUntilMaxAge) {
  Cache cache(counter_, 16);
  ReadAndKeep(cache, "k", "v1");
  ReadAndKeep(cache, "other", "o1");
  TestClock::current += Cache::kRefreshAfter - std::chrono::milliseconds(1);
  EXPECT_EQ(cache.Find("k"), "v1");
  EXPECT_EQ(cache.Find("k"), "v1") << "a young value is never handed out for a refresh";

  TestClock::current += std::chrono::milliseconds(1);
  EXPECT_FALSE(cache.Find("k").has_value()) << "the first Find after kRefreshAfter";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(cache.Find("k"), "v1") << "only one caller refreshes";
  EXPECT_FALSE(cache.Find("other").has_value()) << "each value has its own refresh";
  EXPECT_EQ(cache.Find("other"), "o1");

  // The refresher's read replaces the value; it ages from its own read.
  ReadAndKeep(cache, "k", "v2");
  TestClock::current += Cache::kRefreshAfter - std::chrono::milliseconds(1);
  EXPECT_EQ(cache.Find("k"), "v2");
  TestClock::current += std::chrono::milliseconds(1);
  EXPECT_FALSE(cache.Find("k").has_value());

  // A refresher that never puts: the others hit until kMaxAge, then every Find misses.
  TestClock::current += Cache::kMaxAge - Cache::kRefreshAfter - std::chrono::milliseconds(1);
  EXPECT_EQ(cache.Find("k"), "v2");
  TestClock::current += std::chrono::milliseconds(1);
  EXPECT_FALSE(cache.Find("k").has_value());
  EXPECT_FALSE(cache.Find("k").has_value());
}

TEST_F(CommittedReadCacheTest, AFullCacheStartsAfresh) {
  Cache cache(counter_, 2);
  ReadAndKeep(cache, "a", "1");
  ReadAndKeep(cache, "b", "2");
  ReadAndKeep(cache, "b", "2'");  // a replacement does not count
  EXPECT_EQ(cache.Find("a"), "1");
  EXPECT_EQ(cache.Find("b"), "2'");
  ReadAndKeep(cache, "c", "3");
  EXPECT_FALSE(cache.Find("a").has_value());
  EXPECT_FALSE(cache.Find("b").has_value());
  EXPECT_EQ(cache.Find("c"), "3");
}

// Readers and a committer at once, the "database" being one number: a Find that begins after a
// commit has returned never gives a value from before that commit.
TEST_F(CommittedReadCacheTest, NoFindAfterACommitReturnsAnOlderValue) {
  CommittedReadCache<int64_t> cache(counter_, 16);
  std::atomic<int64_t> database{0};  // what a read sees
  std::atomic<int64_t> returned{0};  // the last commit whose call has returned
  std::atomic<bool> done{false};
  std::atomic<int64_t> hits{0};
  std::atomic<int64_t> stale{0};

  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        const int64_t committed = returned.load();
        if (std::optional<int64_t> hit = cache.Find("k")) {
          hits.fetch_add(1);
          if (*hit < committed) stale.fetch_add(1);
          continue;
        }
        auto stamp = cache.StampBeforeRead();
        const int64_t value = database.load();
        if (stamp) cache.Put(*stamp, "k", value);
      }
    });
  }
  for (int i = 1; i <= 2000; ++i) {
    // A commit takes time on both sides of the moment it becomes visible.
    counter_->Starting();
    std::this_thread::sleep_for(std::chrono::microseconds(20));
    database.store(i);
    std::this_thread::sleep_for(std::chrono::microseconds(20));
    counter_->Ended();
    returned.store(i);
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  done.store(true);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(stale.load(), 0);
  EXPECT_GT(hits.load(), 0) << "nothing was ever reused: the test proves nothing";
}

TEST_F(CommittedReadCacheTest, WithoutACounterNothingIsKept) {
  Cache cache(nullptr, 16);
  EXPECT_FALSE(cache.StampBeforeRead().has_value());
  cache.Put(Cache::ReadStamp{0, TestClock::now()}, "k", "v");
  EXPECT_FALSE(cache.Find("k").has_value());
}

}  // namespace
}  // namespace exportd
