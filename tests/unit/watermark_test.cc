#include "core/watermark.h"

#include <gtest/gtest.h>

#include "core/time_format.h"

namespace exportd {
namespace {

TimePoint At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

Task Incremental(TaskState state) {
  Task t;
  t.id = "t1";
  t.state = state;
  t.request.dataset = "d";
  t.request.incremental = true;
  const TimePoint until = At("2026-01-10T00:00:00Z");
  t.window = TaskWindow{until,
                        {PartitionWindow{"new", std::nullopt, until},
                         PartitionWindow{"behind", At("2026-01-09T00:00:00Z"), until},
                         PartitionWindow{"ahead", At("2026-01-11T00:00:00Z"), until}}};
  return t;
}

TEST(WatermarkTest, SucceededMovesEachPartitionForwardOnlyWithAnEventEach) {
  const Task before = Incremental(TaskState::kProcessing);
  const Task after = Incremental(TaskState::kSucceeded);
  const WatermarkMap current = {{"behind", At("2026-01-09T00:00:00Z")},
                                {"ahead", At("2026-01-11T00:00:00Z")}};
  const TimePoint now = At("2026-01-10T00:05:00Z");
  ASSERT_EQ(WatermarksMovedBy(before, after), std::optional<std::string>("d"));
  std::vector<WatermarkChange> changes =
      AdvanceWatermarks(before, after, current, now, EventOrigin{"inst", ""});
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].watermark.partition, "new");
  EXPECT_EQ(changes[0].previous, std::nullopt);
  EXPECT_EQ(changes[1].watermark.partition, "behind");
  EXPECT_EQ(changes[1].previous, std::optional<TimePoint>(At("2026-01-09T00:00:00Z")));
  for (const WatermarkChange& c : changes) {
    EXPECT_EQ(c.watermark.watermark, At("2026-01-10T00:00:00Z"));
    EXPECT_EQ(c.watermark.task_id, std::optional<std::string>("t1"));
    EXPECT_EQ(c.event.type, "watermark");
    EXPECT_EQ(c.event.task_id, "t1");
    EXPECT_EQ(c.event.actor, "inst");
    EXPECT_NE(c.event.detail.find(c.watermark.partition), std::string::npos);
  }
}

TEST(WatermarkTest, NothingElseMovesWatermarks) {
  const Task processing = Incremental(TaskState::kProcessing);
  for (TaskState end : {TaskState::kFailed, TaskState::kCancelled, TaskState::kPending}) {
    EXPECT_EQ(WatermarksMovedBy(processing, Incremental(end)), std::nullopt);
  }
  Task plain = Incremental(TaskState::kSucceeded);
  plain.request.incremental = false;
  EXPECT_EQ(WatermarksMovedBy(processing, plain), std::nullopt);
  Task no_window = Incremental(TaskState::kSucceeded);
  no_window.window.reset();
  EXPECT_EQ(WatermarksMovedBy(processing, no_window), std::nullopt);
  // A terminal task never moves them again.
  EXPECT_EQ(
      WatermarksMovedBy(Incremental(TaskState::kSucceeded), Incremental(TaskState::kSucceeded)),
      std::nullopt);
  EXPECT_TRUE(
      AdvanceWatermarks(processing, Incremental(TaskState::kFailed), {}, TimePoint{}, {}).empty());
}

TEST(WatermarkTest, ManualChangesAreEventsOfNoTask) {
  TaskEvent set = ManualWatermarkEvent("d", "p", std::nullopt, At("2026-01-01T00:00:00Z"),
                                       At("2026-01-02T00:00:00Z"), {"key:admin", "10.0.0.1"});
  EXPECT_EQ(set.task_id, "");
  EXPECT_EQ(set.type, "watermark");
  EXPECT_EQ(set.actor, "key:admin");
  EXPECT_EQ(set.remote, "10.0.0.1");
  EXPECT_NE(set.detail.find("none -> 2026-01-01"), std::string::npos) << set.detail;
  TaskEvent removed = ManualWatermarkEvent("d", "p", At("2026-01-01T00:00:00Z"), std::nullopt,
                                           At("2026-01-02T00:00:00Z"), {"key:admin", ""});
  EXPECT_NE(removed.detail.find("-> none"), std::string::npos) << removed.detail;
}

}  // namespace
}  // namespace exportd
