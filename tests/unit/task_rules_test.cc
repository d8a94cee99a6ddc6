#include "core/task_rules.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "core/time_format.h"

namespace exportd {
namespace {

TimePoint At(int seconds) { return TimePoint{} + std::chrono::seconds(1'700'000'000 + seconds); }

// The value of a Result the test expects to be OK (a default one, after a failure, if not).
template <typename T>
T Ok(Result<T> result) {
  if (!result.ok()) {
    ADD_FAILURE() << result.status().message();
    return T{};
  }
  return *std::move(result);
}

const EventOrigin kAlice{"alice", "10.0.0.1"};

Task TaskIn(TaskState state) {
  Task t;
  t.id = "01RULES";
  t.principal = "alice";
  t.state = state;
  t.created_at = t.updated_at = At(0);
  if (state == TaskState::kProcessing) {
    t.attempts = 1;
    t.lease = Lease{"inst-a", At(30)};
  }
  if (IsTerminal(state)) t.finished_at = At(10);
  return t;
}

FileInfo File(const std::string& name) { return FileInfo{.name = name, .rows = 2, .bytes = 10}; }

TEST(ApplyCreateTest, RecordsCreatedEventFromOrigin) {
  Task task = TaskIn(TaskState::kPending);
  Transitioned created = Ok(ApplyCreate(task, kAlice));
  EXPECT_EQ(created.task, task);
  EXPECT_EQ(created.event.task_id, task.id);
  EXPECT_EQ(created.event.type, "created");
  EXPECT_EQ(created.event.at, task.created_at);
  EXPECT_FALSE(created.event.from.has_value());
  EXPECT_EQ(created.event.to, TaskState::kPending);
  EXPECT_EQ(created.event.actor, "alice");
  EXPECT_EQ(created.event.remote, "10.0.0.1");
}

TEST(ApplyCreateTest, RefusesATaskThatIsNotPending) {
  EXPECT_EQ(ApplyCreate(TaskIn(TaskState::kProcessing), kAlice).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ApplyCancelRequestTest, MarksAProcessingTaskOnce) {
  std::optional<Transitioned> marked =
      Ok(ApplyCancelRequest(TaskIn(TaskState::kProcessing), At(5), kAlice));
  ASSERT_TRUE(marked.has_value());
  EXPECT_TRUE(marked->task.cancel_requested);
  EXPECT_EQ(marked->task.updated_at, At(5));
  EXPECT_EQ(marked->task.state, TaskState::kProcessing);
  EXPECT_EQ(marked->event.type, "cancel_requested");
  EXPECT_EQ(marked->event.at, At(5));
  EXPECT_EQ(marked->event.actor, "alice");
  EXPECT_FALSE(marked->event.from.has_value());
  // Already marked: nothing to save, no second event.
  std::optional<Transitioned> again = Ok(ApplyCancelRequest(marked->task, At(6), kAlice));
  EXPECT_FALSE(again.has_value());
}

TEST(ApplyCancelRequestTest, OnlyAProcessingTaskTakesOne) {
  for (TaskState s :
       {TaskState::kPending, TaskState::kSucceeded, TaskState::kFailed, TaskState::kCancelled}) {
    EXPECT_EQ(ApplyCancelRequest(TaskIn(s), At(5), kAlice).status().code(),
              StatusCode::kFailedPrecondition)
        << TaskStateName(s);
  }
}

TEST(ApplyFileReplacementTest, NoFilesLeftDropsTheManifest) {
  Task task = TaskIn(TaskState::kSucceeded);
  task.files = {File("part-00001.csv")};
  task.manifest = File("manifest.json");
  std::optional<Transitioned> out =
      Ok(ApplyFileReplacement(task, {}, "files_deleted", At(20), kAlice));
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->task.files.empty());
  EXPECT_FALSE(out->task.manifest.has_value());
  EXPECT_EQ(out->task.updated_at, At(20));
  EXPECT_EQ(out->event.type, "files_deleted");
  EXPECT_EQ(out->event.actor, "alice");
  EXPECT_EQ(out->event.remote, "10.0.0.1");
}

TEST(ApplyFileReplacementTest, SomeFilesLeftKeepTheManifest) {
  Task task = TaskIn(TaskState::kSucceeded);
  task.files = {File("part-00001.csv"), File("part-00002.csv")};
  task.manifest = File("manifest.json");
  std::optional<Transitioned> out =
      Ok(ApplyFileReplacement(task, {File("part-00002.csv")}, "x", At(20), kAlice));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->task.files, std::vector<FileInfo>{File("part-00002.csv")});
  EXPECT_EQ(out->task.manifest, task.manifest);
}

TEST(ApplyFileReplacementTest, NothingToRemoveIsNoChange) {
  std::optional<Transitioned> out =
      Ok(ApplyFileReplacement(TaskIn(TaskState::kFailed), {}, "files_deleted", At(20), kAlice));
  EXPECT_FALSE(out.has_value());
}

TEST(ApplyFileReplacementTest, OnlyATerminalTaskChangesFiles) {
  for (TaskState s : {TaskState::kPending, TaskState::kProcessing}) {
    EXPECT_EQ(ApplyFileReplacement(TaskIn(s), {}, "files_deleted", At(20), kAlice).status().code(),
              StatusCode::kFailedPrecondition);
  }
}

TEST(ApplyHeartbeatTest, RenewsTheLeaseAndSetsProgress) {
  Task task = TaskIn(TaskState::kProcessing);
  const LeaseKey key{"inst-a", 1, 0};
  Progress progress{.rows = 7, .rows_total = 9, .bytes = 70};
  Task renewed = Ok(ApplyHeartbeat(task, key, progress, At(40), std::chrono::seconds(30)));
  EXPECT_EQ(renewed.lease->expires_at, At(70));  // even though it had expired at 30
  EXPECT_EQ(renewed.progress, progress);
  EXPECT_EQ(renewed.updated_at, At(40));
  Task kept = Ok(ApplyHeartbeat(renewed, key, std::nullopt, At(50), std::chrono::seconds(30)));
  EXPECT_EQ(kept.progress, progress);
}

TEST(ApplyHeartbeatTest, AbortsForALostLease) {
  Task task = TaskIn(TaskState::kProcessing);
  EXPECT_EQ(
      ApplyHeartbeat(task, LeaseKey{"inst-b", 1, 0}, std::nullopt, At(5), std::chrono::seconds(30))
          .status()
          .code(),
      StatusCode::kAborted);
  EXPECT_EQ(
      ApplyHeartbeat(task, LeaseKey{"inst-a", 1, 1}, std::nullopt, At(5), std::chrono::seconds(30))
          .status()
          .code(),
      StatusCode::kAborted);
}

TEST(ApplyProgressTest, OnlyAProcessingTaskTakesProgress) {
  Progress progress{.rows = 3};
  std::optional<Task> next = ApplyProgress(TaskIn(TaskState::kProcessing), progress, At(5));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->progress, progress);
  EXPECT_EQ(next->updated_at, At(5));
  EXPECT_FALSE(ApplyProgress(TaskIn(TaskState::kCancelled), progress, At(5)).has_value());
  EXPECT_FALSE(ApplyProgress(TaskIn(TaskState::kPending), progress, At(5)).has_value());
}

TEST(ApplyKeyReleaseTest, MovesOnlyTheKey) {
  Task previous = TaskIn(TaskState::kSucceeded);
  previous.idempotency_key = "k";
  Task next = TaskIn(TaskState::kPending);
  next.id = "01NEXT";
  next.idempotency_key = "k";
  next.created_at = At(99);
  Transitioned released = Ok(ApplyKeyRelease(previous, next, kAlice));
  Task expected = previous;
  expected.idempotency_key.reset();
  EXPECT_EQ(released.task, expected);  // updated_at included: only the key moves
  EXPECT_EQ(released.event.task_id, previous.id);
  EXPECT_EQ(released.event.type, "idempotency_key_released");
  EXPECT_EQ(released.event.at, At(99));
  EXPECT_EQ(released.event.detail, "key expired; now held by task 01NEXT");
  EXPECT_EQ(released.event.actor, "alice");
}

TEST(ApplyKeyReleaseTest, RefusesAKeyNotHeldAndATaskWithoutKey) {
  Task previous = TaskIn(TaskState::kSucceeded);
  previous.idempotency_key = "k";
  Task next = TaskIn(TaskState::kPending);
  next.idempotency_key = "other";
  EXPECT_EQ(ApplyKeyRelease(previous, next, kAlice).status().code(), StatusCode::kAlreadyExists);
  next.idempotency_key = "k";
  next.principal = "bob";
  EXPECT_EQ(ApplyKeyRelease(previous, next, kAlice).status().code(), StatusCode::kAlreadyExists);
  next.idempotency_key.reset();
  EXPECT_EQ(ApplyKeyRelease(previous, next, kAlice).status().code(), StatusCode::kInvalidArgument);
}

TEST(ApplyFilesRemovedTest, ClearsTheFlagOnce) {
  Task task = TaskIn(TaskState::kFailed);
  task.files_to_remove = true;
  std::optional<Task> next = ApplyFilesRemoved(task);
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE(next->files_to_remove);
  EXPECT_FALSE(ApplyFilesRemoved(*next).has_value());
}

TEST(StoreTransitionArgsTest, ClaimRecoverAndExpiry) {
  TransitionArgs claim = ClaimArgs(At(1), "inst-a", std::chrono::seconds(30));
  EXPECT_EQ(claim.trigger, Trigger::kStart);
  EXPECT_EQ(claim.lease, (Lease{"inst-a", At(31)}));
  EXPECT_EQ(claim.origin.actor, "inst-a");

  TransitionArgs recover = RecoverArgs(At(2), "inst-a");
  EXPECT_EQ(recover.trigger, Trigger::kRecover);
  EXPECT_EQ(recover.detail, "recovered after restart");
  EXPECT_EQ(recover.origin.actor, "inst-a");

  Task task = TaskIn(TaskState::kProcessing);
  TransitionArgs expiry = LeaseExpiryArgs(task, At(40));
  EXPECT_EQ(expiry.trigger, Trigger::kLeaseExpired);
  EXPECT_EQ(expiry.origin.actor, kHousekeepingActor);
  EXPECT_EQ(expiry.detail, "lease of inst-a expired at " + FormatRfc3339(At(30)));
  task.lease.reset();
  EXPECT_EQ(LeaseExpiredDetail(task), "lease of ? expired at ?");
}

TEST(DeliveriesOwedTest, HooksBecomeOwedOnEnteringATerminalState) {
  Task before = TaskIn(TaskState::kProcessing);
  before.notify.webhook = "https://example.com/hook";
  before.notify.email = {"a@example.com"};
  Task after = before;
  after.state = TaskState::kSucceeded;
  EXPECT_EQ(DeliveriesOwed(before, after), HooksOf(before.notify));
  EXPECT_EQ(DeliveriesOwed(before, after).size(), 2u);
  Task pending = before;
  pending.state = TaskState::kPending;
  EXPECT_TRUE(DeliveriesOwed(before, pending).empty());
  EXPECT_TRUE(DeliveriesOwed(after, after).empty());
}

TEST(FilesDueAtTest, WhenTheJanitorHasObjectsToDelete) {
  Task task = TaskIn(TaskState::kSucceeded);
  task.files_expire_at = At(100);
  EXPECT_FALSE(FilesDueAt(task).has_value());  // nothing listed
  task.files = {File("part-00001.csv")};
  EXPECT_EQ(FilesDueAt(task), At(100));
  task.files.clear();
  task.manifest = File("manifest.json");
  EXPECT_EQ(FilesDueAt(task), At(100));

  Task failed = TaskIn(TaskState::kFailed);
  failed.files_to_remove = true;
  failed.files_expire_at = At(100);
  EXPECT_EQ(FilesDueAt(failed), At(10));  // at once: its finished_at

  Task running = TaskIn(TaskState::kProcessing);
  running.files = {File("part-00001.csv")};
  running.files_expire_at = At(100);
  running.files_to_remove = true;
  EXPECT_FALSE(FilesDueAt(running).has_value());
}

}  // namespace
}  // namespace exportd
