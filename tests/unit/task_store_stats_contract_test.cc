// The TaskStore contract's cases of StoreStats (core/store_stats.h), run by each store's test
// binary with the rest of the contract (tests/unit/task_store_contract.h).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/store_stats.h"
#include "core/watermark_store.h"
#include "tests/unit/task_store_contract.h"

namespace exportd {
namespace {

using std::chrono::seconds;

TEST_P(TaskStoreContractTest, SummarizePendingCountsReadyTasksAndFindsTheOldest) {
  auto* stats = dynamic_cast<StoreStats*>(store_.get());
  ASSERT_NE(stats, nullptr) << "every task store answers /metrics";
  Result<PendingSummary> empty = stats->SummarizePending(kT0);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->ready, 0);
  EXPECT_EQ(empty->oldest_created_at, std::nullopt);

  for (int i = 0; i < 3; ++i) {
    Task t = NewTask(std::string(1, static_cast<char>('a' + i)));
    t.created_at = t.updated_at = kT0 + seconds(10 * i);
    ASSERT_TRUE(store_->Create(t, {}).ok());
  }
  // a runs and fails: back to Pending, but not before kT0 + 100 s.
  ASSERT_EQ(Claim(kT0 + seconds(30)), "a");
  TransitionArgs retry = Args(Trigger::kRetry, kT0 + seconds(31));
  retry.error = TaskError{"unavailable", "source busy", true};
  retry.not_before = kT0 + seconds(100);
  ASSERT_TRUE(store_->Transition("a", retry).ok());

  Result<PendingSummary> waiting = stats->SummarizePending(kT0 + seconds(50));
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(waiting->ready, 2) << "b and c; a waits for its retry";
  EXPECT_EQ(waiting->oldest_created_at, std::optional<TimePoint>(kT0)) << "a is still Pending";
  Result<PendingSummary> due = stats->SummarizePending(kT0 + seconds(100));
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(due->ready, 3) << "not_before has come";

  // b and c taken; a alone remains.
  ASSERT_EQ(Claim(kT0 + seconds(60)), "b");
  ASSERT_EQ(Claim(kT0 + seconds(60)), "c");
  Result<PendingSummary> one = stats->SummarizePending(kT0 + seconds(60));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->ready, 0);
  EXPECT_EQ(one->oldest_created_at, std::optional<TimePoint>(kT0));
  ASSERT_EQ(Claim(kT0 + seconds(100)), "a");
  Result<PendingSummary> none = stats->SummarizePending(kT0 + seconds(100));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->oldest_created_at, std::nullopt) << "nothing Pending";
}

TEST_P(TaskStoreContractTest, OldestWatermarksIsTheLeastAdvancedPartitionOfEachDataset) {
  auto* stats = dynamic_cast<StoreStats*>(store_.get());
  auto* marks = dynamic_cast<WatermarkStore*>(store_.get());
  ASSERT_NE(stats, nullptr);
  ASSERT_NE(marks, nullptr);
  Result<std::map<std::string, TimePoint>> none = stats->OldestWatermarks();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(marks->PutWatermark("samples", "p1", kT0 + seconds(100), kT0, {"admin", ""}).ok());
  ASSERT_TRUE(marks->PutWatermark("samples", "p2", kT0 + seconds(50), kT0, {"admin", ""}).ok());
  ASSERT_TRUE(marks->PutWatermark("other", "", kT0 + seconds(7), kT0, {"admin", ""}).ok());
  Result<std::map<std::string, TimePoint>> oldest = stats->OldestWatermarks();
  ASSERT_TRUE(oldest.ok());
  EXPECT_EQ(*oldest, (std::map<std::string, TimePoint>{{"other", kT0 + seconds(7)},
                                                       {"samples", kT0 + seconds(50)}}));
  // The least advanced partition moves on: the dataset's figure follows.
  ASSERT_TRUE(marks->PutWatermark("samples", "p2", kT0 + seconds(300), kT0, {"admin", ""}).ok());
  ASSERT_TRUE(marks->DeleteWatermark("other", "", kT0, {"admin", ""}).ok());
  oldest = stats->OldestWatermarks();
  ASSERT_TRUE(oldest.ok());
  EXPECT_EQ(*oldest, (std::map<std::string, TimePoint>{{"samples", kT0 + seconds(100)}}));
}

}  // namespace
}  // namespace exportd
