#include "core/task.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>

namespace exportd {
namespace {

constexpr TaskState kAllStates[] = {TaskState::kPending, TaskState::kProcessing,
                                    TaskState::kPaused,  TaskState::kSucceeded,
                                    TaskState::kFailed,  TaskState::kCancelled};
constexpr Trigger kAllTriggers[] = {Trigger::kStart,        Trigger::kSucceed, Trigger::kFail,
                                    Trigger::kRetry,        Trigger::kRecover, Trigger::kCancel,
                                    Trigger::kLeaseExpired, Trigger::kPause,   Trigger::kResume};

TimePoint At(int seconds) { return TimePoint{} + std::chrono::seconds(1'700'000'000 + seconds); }

Task PendingTask() {
  Task t;
  t.id = "01TEST";
  t.created_at = t.updated_at = At(0);
  return t;
}

// The whole table of ../shared/API.md: anything not listed here must be refused.
TEST(StateMachineTest, EveryLegalAndIllegalTransition) {
  const std::map<std::pair<TaskState, Trigger>, TaskState> legal = {
      {{TaskState::kPending, Trigger::kStart}, TaskState::kProcessing},
      {{TaskState::kPending, Trigger::kCancel}, TaskState::kCancelled},
      {{TaskState::kProcessing, Trigger::kSucceed}, TaskState::kSucceeded},
      {{TaskState::kProcessing, Trigger::kFail}, TaskState::kFailed},
      {{TaskState::kProcessing, Trigger::kRetry}, TaskState::kPending},
      {{TaskState::kProcessing, Trigger::kRecover}, TaskState::kPending},
      {{TaskState::kProcessing, Trigger::kLeaseExpired}, TaskState::kPending},
      {{TaskState::kProcessing, Trigger::kCancel}, TaskState::kCancelled},
      {{TaskState::kPending, Trigger::kPause}, TaskState::kPaused},
      {{TaskState::kProcessing, Trigger::kPause}, TaskState::kPaused},
      {{TaskState::kPaused, Trigger::kResume}, TaskState::kPending},
      {{TaskState::kPaused, Trigger::kCancel}, TaskState::kCancelled},
  };
  int checked = 0;
  for (TaskState from : kAllStates) {
    for (Trigger trigger : kAllTriggers) {
      auto it = legal.find({from, trigger});
      std::optional<TaskState> next = NextState(from, trigger);
      Task task = PendingTask();
      task.state = from;
      auto applied = ApplyTransition(task, {.trigger = trigger, .now = At(5)});
      if (it == legal.end()) {
        EXPECT_FALSE(next.has_value()) << TaskStateName(from) << " + " << TriggerName(trigger);
        ASSERT_FALSE(applied.ok());
        EXPECT_EQ(applied.status().code(), StatusCode::kFailedPrecondition);
      } else {
        ASSERT_TRUE(next.has_value()) << TaskStateName(from) << " + " << TriggerName(trigger);
        EXPECT_EQ(*next, it->second);
        ASSERT_TRUE(applied.ok());
        EXPECT_EQ(applied->task.state, it->second);
        EXPECT_EQ(applied->event.from, from);
        EXPECT_EQ(applied->event.to, it->second);
        EXPECT_EQ(applied->event.type, TriggerName(trigger));
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 54);
}

TEST(StateMachineTest, TerminalStatesNeverChange) {
  for (TaskState s : {TaskState::kSucceeded, TaskState::kFailed, TaskState::kCancelled}) {
    EXPECT_TRUE(IsTerminal(s));
    for (Trigger trigger : kAllTriggers) EXPECT_FALSE(NextState(s, trigger).has_value());
  }
  EXPECT_FALSE(IsTerminal(TaskState::kPending));
  EXPECT_FALSE(IsTerminal(TaskState::kProcessing));
}

TEST(StateMachineTest, StartCountsAttemptsAndResetsProgress) {
  Task t = PendingTask();
  t.progress.rows = 99;
  auto started = ApplyTransition(t, {.trigger = Trigger::kStart, .now = At(1)});
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(started->task.attempts, 1);
  EXPECT_EQ(started->task.started_at, At(1));
  EXPECT_EQ(started->task.progress.rows, 0);
  EXPECT_FALSE(started->task.finished_at.has_value());

  TaskError err{"source_unavailable", "database is locked", true};
  auto retried = ApplyTransition(
      started->task, {.trigger = Trigger::kRetry, .now = At(2), .error = err, .not_before = At(4)});
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->task.state, TaskState::kPending);
  EXPECT_EQ(retried->task.not_before, At(4));
  EXPECT_EQ(retried->task.error, err);
  EXPECT_EQ(retried->event.detail, "database is locked");

  auto again = ApplyTransition(retried->task, {.trigger = Trigger::kStart, .now = At(4)});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->task.attempts, 2);
  EXPECT_FALSE(again->task.not_before.has_value());
}

TEST(StateMachineTest, SucceedStoresFilesAndFinishTime) {
  Task t = PendingTask();
  t.state = TaskState::kProcessing;
  FileInfo f{"part-00001.csv", 10, 100, "ab", "text/csv"};
  auto done = ApplyTransition(t, {.trigger = Trigger::kSucceed, .now = At(9), .files = {f}});
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->task.files.size(), 1u);
  EXPECT_EQ(done->task.finished_at, At(9));
}

FileInfo PartWithFormulas(int n, std::optional<bool> formulas) {
  FileInfo f{"part-0000" + std::to_string(n) + ".csv", 10, 100, "ab", "text/csv"};
  f.contains_formulas = formulas;
  return f;
}

TEST(FormulaFlagTest, AnyPartWithAFormulaMakesTheExportTrue) {
  EXPECT_EQ(AnyContainsFormulas({}), std::nullopt);
  EXPECT_EQ(AnyContainsFormulas({PartWithFormulas(1, false), PartWithFormulas(2, false)}), false);
  EXPECT_EQ(AnyContainsFormulas({PartWithFormulas(1, true), PartWithFormulas(2, false)}), true);
  EXPECT_EQ(AnyContainsFormulas({PartWithFormulas(1, false), PartWithFormulas(2, true)}), true);
  // Parts recorded before the check existed (or of JSON formats): unknown unless one says true.
  EXPECT_EQ(AnyContainsFormulas({PartWithFormulas(1, std::nullopt), PartWithFormulas(2, false)}),
            std::nullopt);
  EXPECT_EQ(AnyContainsFormulas({PartWithFormulas(1, std::nullopt), PartWithFormulas(2, true)}),
            true);
}

TEST(FormulaFlagTest, SetOnSuccessOnly) {
  Task t = PendingTask();
  t.state = TaskState::kProcessing;
  EXPECT_EQ(t.csv_contains_formulas, std::nullopt);
  auto done =
      ApplyTransition(t, {.trigger = Trigger::kSucceed,
                          .now = At(9),
                          .files = {PartWithFormulas(1, true), PartWithFormulas(2, false)}});
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->task.csv_contains_formulas, true);
  auto clean = ApplyTransition(
      t, {.trigger = Trigger::kSucceed, .now = At(9), .files = {PartWithFormulas(1, false)}});
  ASSERT_TRUE(clean.ok());
  EXPECT_EQ(clean->task.csv_contains_formulas, false);
  auto failed = ApplyTransition(t, {.trigger = Trigger::kFail, .now = At(9)});
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->task.csv_contains_formulas, std::nullopt);
}

// A claimed task with one committed file and its checkpoint.
Task ProcessingWithCheckpoint() {
  Task t = PendingTask();
  auto started = ApplyTransition(
      t, {.trigger = Trigger::kStart, .now = At(1), .lease = Lease{"inst_a", At(31)}});
  EXPECT_TRUE(started.ok());
  FileInfo f{"part-00001.csv", 10, 100, "ab", "text/csv"};
  Checkpoint next{.after_key = int64_t{10},
                  .next_file = 2,
                  .rows = 10,
                  .bytes = 100,
                  .rows_total = 25,
                  .transaction_time = At(1)};
  auto committed = ApplyCheckpoint(started->task, {"inst_a", 1}, f, next, At(2));
  EXPECT_TRUE(committed.ok()) << committed.status().ToString();
  return committed->task;
}

TEST(CheckpointTest, CommitAppendsTheFileAndRecordsWhereTheNextStarts) {
  Task t = ProcessingWithCheckpoint();
  ASSERT_EQ(t.files.size(), 1u);
  ASSERT_TRUE(t.checkpoint.has_value());
  EXPECT_EQ(t.checkpoint->after_key, FilterValue{int64_t{10}});
  EXPECT_EQ(t.checkpoint->next_file, 2);
  EXPECT_EQ(t.progress.rows, 10);
  EXPECT_EQ(t.progress.rows_total, 25);
  EXPECT_EQ(t.updated_at, At(2));

  // A checkpoint that does not follow from the files is refused.
  FileInfo f2{"part-00002.csv", 10, 90, "cd", "text/csv"};
  Checkpoint wrong{.after_key = int64_t{20}, .next_file = 3, .rows = 21, .bytes = 190};
  EXPECT_EQ(ApplyCheckpoint(t, {"inst_a", 1}, f2, wrong, At(3)).status().code(),
            StatusCode::kFailedPrecondition);
  Checkpoint right{.after_key = int64_t{20}, .next_file = 3, .rows = 20, .bytes = 190};
  auto second = ApplyCheckpoint(t, {"inst_a", 1}, f2, right, At(3));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->event.type, "checkpoint");
  EXPECT_FALSE(second->event.from.has_value());
  EXPECT_NE(second->event.detail.find("part-00002.csv"), std::string::npos);
}

TEST(CheckpointTest, OnlyTheLeaseHolderCommitsOrTransitions) {
  Task t = ProcessingWithCheckpoint();
  FileInfo f2{"part-00002.csv", 10, 90, "cd", "text/csv"};
  Checkpoint next{.after_key = int64_t{20}, .next_file = 3, .rows = 20, .bytes = 190};
  // Another owner, or the same owner's earlier attempt: both have lost the lease.
  for (const LeaseKey& stale : {LeaseKey{"inst_b", 1}, LeaseKey{"inst_a", 0}}) {
    EXPECT_EQ(ApplyCheckpoint(t, stale, f2, next, At(3)).status().code(), StatusCode::kAborted);
    EXPECT_EQ(
        ApplyTransition(t, {.trigger = Trigger::kSucceed, .now = At(3), .expect_lease = stale})
            .status()
            .code(),
        StatusCode::kAborted);
    EXPECT_EQ(CheckLease(t, stale).code(), StatusCode::kAborted);
  }
  EXPECT_TRUE(CheckLease(t, {"inst_a", 1}).ok());
  // Once the task has left Processing, nobody holds it.
  auto expired = ApplyTransition(t, {.trigger = Trigger::kLeaseExpired, .now = At(40)});
  ASSERT_TRUE(expired.ok());
  EXPECT_FALSE(expired->task.lease.has_value());
  EXPECT_EQ(CheckLease(expired->task, {"inst_a", 1}).code(), StatusCode::kAborted);
}

TEST(CheckpointTest, RetryRecoverAndExpiryKeepTheCheckpointAndTheNextStartResumes) {
  for (Trigger back : {Trigger::kRetry, Trigger::kRecover, Trigger::kLeaseExpired}) {
    Task t = ProcessingWithCheckpoint();
    auto pending = ApplyTransition(t, {.trigger = back, .now = At(5)});
    ASSERT_TRUE(pending.ok());
    EXPECT_EQ(pending->task.state, TaskState::kPending);
    EXPECT_EQ(pending->task.files, t.files);
    EXPECT_EQ(pending->task.checkpoint, t.checkpoint);
    EXPECT_FALSE(pending->task.lease.has_value());

    auto resumed = ApplyTransition(
        pending->task,
        {.trigger = Trigger::kStart, .now = At(6), .lease = Lease{"inst_b", At(36)}});
    ASSERT_TRUE(resumed.ok());
    // A retry follows an attempt that ended; recover and expiry follow a run that was cut short,
    // which is a recovery rather than an attempt.
    const bool interrupted = back != Trigger::kRetry;
    EXPECT_EQ(resumed->task.attempts, interrupted ? 1 : 2);
    EXPECT_EQ(resumed->task.recoveries, interrupted ? 1 : 0);
    EXPECT_EQ(resumed->task.lease, (Lease{"inst_b", At(36)}));
    // Progress continues from the checkpoint instead of starting at zero.
    EXPECT_EQ(resumed->task.progress.rows, 10);
    EXPECT_EQ(resumed->task.progress.bytes, 100);
    EXPECT_EQ(resumed->task.progress.rows_total, 25);
    EXPECT_NE(resumed->event.detail.find("resume at file 2 after 10 rows"), std::string::npos)
        << resumed->event.detail;
  }
}

// Issue 16, item 13: crash recoveries used to count as attempts, so attempts grew past
// max_attempts. Now the interrupted run gives its attempt back and counts as a recovery.
TEST(StateMachineTest, InterruptedRunsAreRecoveriesNotAttempts) {
  Task t = PendingTask();
  t.max_attempts = 1;
  for (int i = 1; i <= 3; ++i) {
    auto started = ApplyTransition(
        t,
        {.trigger = Trigger::kStart, .now = At(i * 10), .lease = Lease{"inst_a", At(i * 10 + 30)}});
    ASSERT_TRUE(started.ok());
    EXPECT_EQ(started->task.attempts, 1);
    // The claim before this one had the same attempt number, but not the same recoveries: it
    // does not hold this claim's lease.
    if (i > 1) {
      EXPECT_EQ(CheckLease(started->task, {"inst_a", 1, i - 2}).code(), StatusCode::kAborted);
    }
    EXPECT_TRUE(CheckLease(started->task, {"inst_a", 1, i - 1}).ok());
    const Trigger back = i % 2 == 1 ? Trigger::kRecover : Trigger::kLeaseExpired;
    auto interrupted = ApplyTransition(started->task, {.trigger = back, .now = At(i * 10 + 5)});
    ASSERT_TRUE(interrupted.ok());
    t = interrupted->task;
    EXPECT_EQ(t.attempts, 0);
    EXPECT_EQ(t.recoveries, i);
  }
  auto last = ApplyTransition(t, {.trigger = Trigger::kStart, .now = At(50)});
  ASSERT_TRUE(last.ok());
  auto done = ApplyTransition(last->task, {.trigger = Trigger::kSucceed, .now = At(60)});
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->task.attempts, 1);
  EXPECT_LE(done->task.attempts, done->task.max_attempts);
  EXPECT_EQ(done->task.recoveries, 3);
}

TEST(CheckpointTest, FailCancelAndSuccessClearTheCheckpoint) {
  for (Trigger end : {Trigger::kFail, Trigger::kCancel}) {
    auto ended = ApplyTransition(ProcessingWithCheckpoint(), {.trigger = end, .now = At(5)});
    ASSERT_TRUE(ended.ok());
    EXPECT_TRUE(ended->task.files.empty());
    EXPECT_FALSE(ended->task.checkpoint.has_value());
    EXPECT_FALSE(ended->task.lease.has_value());
  }
  Task t = ProcessingWithCheckpoint();
  auto done = ApplyTransition(t, {.trigger = Trigger::kSucceed, .now = At(5), .files = t.files});
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->task.files, t.files);
  EXPECT_FALSE(done->task.checkpoint.has_value());
  EXPECT_FALSE(done->task.lease.has_value());
}

TEST(StateMachineTest, StateNamesRoundTrip) {
  for (TaskState s : kAllStates) EXPECT_EQ(ParseTaskState(TaskStateName(s)), s);
  EXPECT_FALSE(ParseTaskState("pending").has_value());
  EXPECT_FALSE(ParseTaskState("").has_value());
}

TEST(ProgressViewTest, PercentAndEta) {
  Task t = PendingTask();
  t.state = TaskState::kProcessing;
  t.started_at = At(0);
  EXPECT_FALSE(ViewProgress(t, At(1)).percent.has_value());
  t.progress.rows_total = 1000;
  t.progress.rows = 250;
  ProgressView v = ViewProgress(t, At(10));
  ASSERT_TRUE(v.percent.has_value());
  EXPECT_DOUBLE_EQ(*v.percent, 25.0);
  ASSERT_TRUE(v.eta_seconds.has_value());
  EXPECT_EQ(*v.eta_seconds, 30);  // 10 s for 250 rows, 750 to go
  t.state = TaskState::kSucceeded;
  EXPECT_DOUBLE_EQ(*ViewProgress(t, At(10)).percent, 100.0);
}

}  // namespace
}  // namespace exportd
