// The TaskStore contract's cases of pause and resume (core/task.h), run by each store's test
// binary with the rest of the contract (tests/unit/task_store_contract.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/task_store_contract.h"

namespace exportd {
namespace {

using std::chrono::seconds;

// The lease key of the claim `task` (as returned by ClaimNext) runs under.
LeaseKey KeyOf(const Task& task) { return LeaseKey{kOwner, task.attempts, task.recoveries}; }

}  // namespace

Task TaskStorePauseTest::Move(const std::string& id, Trigger trigger, TimePoint now) {
  Result<Task> moved = store_->Transition(id, Args(trigger, now));
  EXPECT_TRUE(moved.ok()) << id << ": " << moved.status().ToString();
  return moved.ok() ? *moved : Task{};
}

StatusCode TaskStorePauseTest::Refused(const std::string& id, Trigger trigger) {
  return store_->Transition(id, Args(trigger, kT0 + seconds(50))).status().code();
}

Task TaskStorePauseTest::ClaimWithOneFile(const std::string& id, TimePoint now) {
  EXPECT_EQ(Claim(now), id);
  Task running = MustGet(id);
  Checkpoint next;
  next.after_key = FilterValue(int64_t{10});
  next.next_file = 2;
  next.rows = 10;
  next.bytes = 100;
  Result<Task> saved = store_->CommitFile(id, KeyOf(running), Part(1, 10, 100), next, now);
  EXPECT_TRUE(saved.ok()) << saved.status().ToString();
  return saved.ok() ? *saved : Task{};
}

TEST_P(TaskStorePauseTest, APendingTaskPausesAtOnceAndResumesInItsFifoPlace) {
  for (const char* id : {"01A", "01B", "01C"}) ASSERT_TRUE(store_->Create(NewTask(id), {}).ok());
  Task paused = Move("01A", Trigger::kPause, kT0);
  EXPECT_EQ(paused.state, TaskState::kPaused);
  EXPECT_EQ(paused.attempts, 0);
  EXPECT_EQ(Claim(kT0 + seconds(1)), "01B");  // a Paused task is never claimed
  EXPECT_EQ(Refused("01A", Trigger::kPause), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Refused("01A", Trigger::kStart), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Refused("01C", Trigger::kResume), StatusCode::kFailedPrecondition);

  EXPECT_EQ(Move("01A", Trigger::kResume, kT0 + seconds(2)).state, TaskState::kPending);
  EXPECT_EQ(Claim(kT0 + seconds(3)), "01A");  // before 01C, created after it
  std::vector<TaskEvent> events = MustEvents("01A");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].type, "pause");
  EXPECT_EQ(events[1].from, TaskState::kPending);
  EXPECT_EQ(events[1].to, TaskState::kPaused);
  EXPECT_EQ(events[2].type, "resume");
  EXPECT_EQ(events[2].from, TaskState::kPaused);
  EXPECT_EQ(events[2].to, TaskState::kPending);
  EXPECT_EQ(events[3].type, "start");
}

TEST_P(TaskStorePauseTest, APausedTaskIsCountedListedAndActive) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  ASSERT_TRUE(store_->Create(NewTask("01B"), {}).ok());
  Move("01A", Trigger::kPause, kT0);
  EXPECT_EQ(*store_->CountActive("alice"), 2);  // it holds its place and its quota
  std::map<TaskState, int64_t> counts = *store_->CountByState();
  EXPECT_EQ(counts[TaskState::kPaused], 1);
  EXPECT_EQ(counts[TaskState::kPending], 1);
  TaskListQuery query;
  query.state = TaskState::kPaused;
  Result<TaskPage> page = store_->List(query);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, "01A");
  // Nothing to wake up for, nothing to expire or recover, no files due.
  EXPECT_EQ(*store_->NextWakeup(kT0), std::nullopt);
  EXPECT_TRUE(store_->ExpireLeases(kT0 + seconds(3600))->empty());
  EXPECT_TRUE(store_->RecoverProcessing(kT0, kOwner)->empty());
  EXPECT_TRUE(ExpiredFiles(kT0 + seconds(30 * 24 * 3600), 10).empty());
  EXPECT_EQ(MustGet("01A").state, TaskState::kPaused);
}

TEST_P(TaskStorePauseTest, RequestPauseOnlyWhileProcessingThenTheWorkerPausesKeepingItsFiles) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  EXPECT_EQ(store_->RequestPause("01A", kT0, {}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->RequestPause("nope", kT0, {}).status().code(), StatusCode::kNotFound);
  Task running = ClaimWithOneFile("01A", kT0);

  Result<Task> marked = store_->RequestPause("01A", kT0 + seconds(1), EventOrigin{"alice", ""});
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  EXPECT_TRUE(marked->pause_requested);
  EXPECT_EQ(marked->state, TaskState::kProcessing);
  ASSERT_TRUE(store_->RequestPause("01A", kT0 + seconds(2), {}).ok());  // idempotent
  // The worker learns of it from its heartbeat.
  Result<Task> beat =
      store_->Heartbeat("01A", KeyOf(running), std::nullopt, kT0 + seconds(2), kLease);
  ASSERT_TRUE(beat.ok());
  EXPECT_TRUE(beat->pause_requested);

  TransitionArgs pause = Args(Trigger::kPause, kT0 + seconds(3));
  pause.expect_lease = KeyOf(running);
  Result<Task> paused = store_->Transition("01A", pause);
  ASSERT_TRUE(paused.ok()) << paused.status().ToString();
  EXPECT_EQ(paused->state, TaskState::kPaused);
  EXPECT_EQ(paused->attempts, 0);  // pausing spends no attempt
  EXPECT_EQ(paused->recoveries, 0);
  EXPECT_FALSE(paused->pause_requested);
  EXPECT_EQ(paused->lease, std::nullopt);
  EXPECT_EQ(paused->files, running.files);
  EXPECT_EQ(paused->checkpoint, running.checkpoint);
  EXPECT_EQ(EventTypes("01A"), (std::vector<std::string>{"created", "start", "checkpoint",
                                                         "pause_requested", "pause"}));
  EXPECT_EQ(MustEvents("01A")[3].actor, "alice");

  Move("01A", Trigger::kResume, kT0 + seconds(4));
  Result<std::optional<Task>> again = store_->ClaimNext(kT0 + seconds(5), kOwner, kLease);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->attempts, 1);
  EXPECT_EQ((*again)->checkpoint, running.checkpoint);  // the run resumes after file 1
  EXPECT_EQ((*again)->files, running.files);
}

TEST_P(TaskStorePauseTest, ARunEndingWithoutOutcomeWhilePauseIsRequestedStopsInPaused) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  ASSERT_TRUE(store_->Create(NewTask("01B"), {}).ok());
  ClaimWithOneFile("01A", kT0);
  ASSERT_TRUE(store_->RequestPause("01A", kT0, {}).ok());
  Result<std::vector<std::string>> expired = store_->ExpireLeases(kT0 + kLease);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, std::vector<std::string>{"01A"});
  Task a = MustGet("01A");
  EXPECT_EQ(a.state, TaskState::kPaused);
  EXPECT_EQ(a.recoveries, 1);
  EXPECT_EQ(a.attempts, 0);
  EXPECT_EQ(a.files.size(), 1u);

  ASSERT_EQ(Claim(kT0 + kLease), "01B");
  ASSERT_TRUE(store_->RequestPause("01B", kT0 + kLease, {}).ok());
  EXPECT_EQ(*store_->RecoverProcessing(kT0 + kLease, kOwner), std::vector<std::string>{"01B"});
  EXPECT_EQ(MustGet("01B").state, TaskState::kPaused);
}

TEST_P(TaskStorePauseTest, CancellingAPausedTaskThatRanRemovesItsFiles) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  ASSERT_TRUE(store_->Create(NewTask("01B"), {}).ok());
  Task running = ClaimWithOneFile("01A", kT0);
  TransitionArgs pause = Args(Trigger::kPause, kT0 + seconds(1));
  pause.expect_lease = KeyOf(running);
  ASSERT_TRUE(store_->Transition("01A", pause).ok());
  Move("01B", Trigger::kPause, kT0 + seconds(1));

  Task cancelled = Move("01A", Trigger::kCancel, kT0 + seconds(2));
  EXPECT_EQ(cancelled.state, TaskState::kCancelled);
  EXPECT_TRUE(cancelled.files.empty());
  EXPECT_TRUE(cancelled.files_to_remove);
  EXPECT_EQ(Move("01B", Trigger::kCancel, kT0 + seconds(2)).files_to_remove, false);
  EXPECT_EQ(ExpiredFiles(kT0 + seconds(2), 10), std::vector<std::string>{"01A"});
  EXPECT_EQ(Refused("01A", Trigger::kResume), StatusCode::kFailedPrecondition);
}

TEST_P(TaskStorePauseTest, APausedIncrementalExportKeepsLaterOverlappingOnesWaiting) {
  Task a = NewTask("a");
  a.request.incremental = true;
  Task b = NewTask("b");
  b.request.incremental = true;
  ASSERT_TRUE(store_->Create(a, {}).ok());
  ASSERT_TRUE(store_->Create(b, {}).ok());
  Move("a", Trigger::kPause, kT0);
  EXPECT_EQ(Claim(kT0), "");  // b waits for a, which is unfinished
  Move("a", Trigger::kResume, kT0 + seconds(1));
  EXPECT_EQ(Claim(kT0 + seconds(1)), "a");
}

}  // namespace exportd
