// The rules of pause and resume (core/task.h, core/task_rules.h).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "core/task.h"
#include "core/task_rules.h"

namespace exportd {
namespace {

TimePoint At(int seconds) { return TimePoint{} + std::chrono::seconds(1'700'000'000 + seconds); }

// A task running its first attempt under inst-a, with one committed file.
Task RunningWithOneFile() {
  Task t;
  t.id = "01PAUSE";
  t.principal = "alice";
  t.state = TaskState::kProcessing;
  t.created_at = t.updated_at = At(0);
  t.started_at = At(1);
  t.attempts = 1;
  t.lease = Lease{"inst-a", At(30)};
  t.files = {FileInfo{"part-00001.csv", 10, 100, std::string(64, 'a'), "text/csv"}};
  Checkpoint cp;
  cp.after_key = FilterValue(int64_t{10});
  cp.next_file = 2;
  cp.rows = 10;
  cp.bytes = 100;
  t.checkpoint = cp;
  return t;
}

const LeaseKey kKey{"inst-a", 1, 0};

Task Applied(const Task& task, TransitionArgs args) {
  Result<Transitioned> out = ApplyTransition(task, args);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? out->task : Task{};
}

TEST(PauseRulesTest, APauseRequestMarksOnlyAProcessingTaskOnce) {
  Task running = RunningWithOneFile();
  Result<std::optional<Transitioned>> marked =
      ApplyPauseRequest(running, At(5), EventOrigin{"alice", "10.0.0.1"});
  ASSERT_TRUE(marked.ok() && marked->has_value());
  EXPECT_TRUE((*marked)->task.pause_requested);
  EXPECT_EQ((*marked)->task.state, TaskState::kProcessing);
  EXPECT_EQ((*marked)->event.type, "pause_requested");
  EXPECT_EQ((*marked)->event.actor, "alice");
  EXPECT_EQ((*marked)->event.from, std::nullopt);
  // Marked already: nothing to save, no second event.
  Result<std::optional<Transitioned>> again = ApplyPauseRequest((*marked)->task, At(6), {});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  for (TaskState state : {TaskState::kPending, TaskState::kPaused, TaskState::kSucceeded,
                          TaskState::kFailed, TaskState::kCancelled}) {
    Task other = running;
    other.state = state;
    EXPECT_EQ(ApplyPauseRequest(other, At(5), {}).status().code(), StatusCode::kFailedPrecondition)
        << TaskStateName(state);
  }
}

TEST(PauseRulesTest, TheWorkersPauseKeepsFilesAndCheckpointAndGivesTheAttemptBack) {
  Task running = RunningWithOneFile();
  running.pause_requested = true;
  Task paused = Applied(running, {.trigger = Trigger::kPause, .now = At(7), .expect_lease = kKey});
  EXPECT_EQ(paused.state, TaskState::kPaused);
  EXPECT_EQ(paused.attempts, 0);
  EXPECT_EQ(paused.recoveries, 0);  // a pause is no recovery
  EXPECT_FALSE(paused.pause_requested);
  EXPECT_EQ(paused.lease, std::nullopt);
  EXPECT_EQ(paused.files, running.files);
  EXPECT_EQ(paused.checkpoint, running.checkpoint);
  EXPECT_EQ(paused.finished_at, std::nullopt);
  EXPECT_FALSE(paused.files_to_remove);

  Task resumed = Applied(paused, {.trigger = Trigger::kResume, .now = At(8)});
  EXPECT_EQ(resumed.state, TaskState::kPending);
  EXPECT_EQ(resumed.checkpoint, running.checkpoint);
  Result<Transitioned> started =
      ApplyTransition(resumed, {.trigger = Trigger::kStart, .now = At(9)});
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(started->task.attempts, 1);
  EXPECT_EQ(started->task.progress.rows, 10);  // from the checkpoint
  EXPECT_NE(started->event.detail.find("resume at file 2"), std::string::npos);
}

TEST(PauseRulesTest, OnlyTheLeaseHolderPausesAProcessingTask) {
  Task running = RunningWithOneFile();
  EXPECT_EQ(ApplyTransition(running, {.trigger = Trigger::kPause,
                                      .now = At(7),
                                      .expect_lease = LeaseKey{"inst-b", 1, 0}})
                .status()
                .code(),
            StatusCode::kAborted);
}

TEST(PauseRulesTest, ARunEndingWithoutOutcomeWhileAPauseIsRequestedLandsInPaused) {
  Task running = RunningWithOneFile();
  running.pause_requested = true;
  for (Trigger trigger : {Trigger::kRetry, Trigger::kRecover, Trigger::kLeaseExpired}) {
    Result<Transitioned> out =
        ApplyTransition(running, {.trigger = trigger, .now = At(7), .not_before = At(60)});
    ASSERT_TRUE(out.ok()) << TriggerName(trigger);
    EXPECT_EQ(out->task.state, TaskState::kPaused) << TriggerName(trigger);
    EXPECT_EQ(out->event.to, TaskState::kPaused);
    EXPECT_EQ(out->event.type, TriggerName(trigger));
    EXPECT_FALSE(out->task.pause_requested);
    EXPECT_EQ(out->task.not_before, std::nullopt);
    EXPECT_EQ(out->task.files, running.files);
  }
  // A retry spends its attempt (the attempt failed); recover and expiry give it back.
  EXPECT_EQ(Applied(running, {.trigger = Trigger::kRetry, .now = At(7)}).attempts, 1);
  EXPECT_EQ(Applied(running, {.trigger = Trigger::kRecover, .now = At(7)}).attempts, 0);
  // Outcomes of their own are kept: the pause request is then simply dropped.
  EXPECT_EQ(Applied(running, {.trigger = Trigger::kCancel, .now = At(7)}).state,
            TaskState::kCancelled);
  Task failed = Applied(running, {.trigger = Trigger::kFail, .now = At(7)});
  EXPECT_EQ(failed.state, TaskState::kFailed);
  EXPECT_FALSE(failed.pause_requested);
}

TEST(PauseRulesTest, APendingTaskPausesAtOnceAndACancelledPausedOneThatRanLosesItsFiles) {
  Task pending = RunningWithOneFile();
  pending.state = TaskState::kPending;
  pending.lease.reset();
  pending.attempts = 1;
  pending.not_before = At(60);  // a retry waiting
  Task paused = Applied(pending, {.trigger = Trigger::kPause, .now = At(7)});
  EXPECT_EQ(paused.state, TaskState::kPaused);
  EXPECT_EQ(paused.attempts, 1);  // nothing ran: nothing to give back
  EXPECT_EQ(paused.not_before, std::nullopt);
  Task cancelled = Applied(paused, {.trigger = Trigger::kCancel, .now = At(8)});
  EXPECT_EQ(cancelled.state, TaskState::kCancelled);
  EXPECT_TRUE(cancelled.files.empty());
  EXPECT_TRUE(cancelled.files_to_remove);
  EXPECT_EQ(FilesDueAt(cancelled), std::optional<TimePoint>(At(8)));
  // A Paused task is not terminal and has no files due.
  EXPECT_FALSE(IsTerminal(TaskState::kPaused));
  EXPECT_EQ(FilesDueAt(paused), std::nullopt);
  EXPECT_EQ(ParseTaskState("Paused"), TaskState::kPaused);
  EXPECT_EQ(TaskStateName(TaskState::kPaused), "Paused");
}

}  // namespace
}  // namespace exportd
