// SqliteTaskStore's notification deliveries (migration 004) on a real SQLite file.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <span>

#include "storage/sqlite/migrations.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_task_store.h"
#include "storage/sqlite/task_codec.h"
#include "tests/fakes/temp_dir.h"

namespace exportd {
namespace {

using std::chrono::milliseconds;

const TimePoint kT0 = TimePoint{} + milliseconds(1'700'000'000'000);

Task NewTask(const std::string& id, Notify notify) {
  Task t;
  t.id = id;
  t.principal = "alice";
  t.request.dataset = "samples";
  t.query_hash = "h";
  t.notify = std::move(notify);
  t.created_at = t.updated_at = kT0;
  return t;
}

Notify WebhookAndTwoEmails() {
  Notify n;
  n.webhook = "http://127.0.0.1:9/hook";
  n.email = {"a@example.org", "b@example.org"};
  return n;
}

TransitionArgs Args(Trigger trigger, TimePoint now) {
  TransitionArgs args;
  args.trigger = trigger;
  args.now = now;
  return args;
}

class SqliteNotificationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<SqliteTaskStore>> store = SqliteTaskStore::Open(dir_.File("x.db"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  testing_support::TempDir dir_;
  std::unique_ptr<SqliteTaskStore> store_;
};

TEST_F(SqliteNotificationsTest, TerminalTransitionRecordsPendingHooksAtomically) {
  ASSERT_TRUE(store_->Create(NewTask("t1", WebhookAndTwoEmails()), {}).ok());
  Result<Task> pending = store_->Get("t1");
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->notifications.empty());  // nothing owed before the task finishes

  Result<Task> cancelled = store_->Transition("t1", Args(Trigger::kCancel, kT0));
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  ASSERT_EQ(cancelled->notifications.size(), 3u);
  EXPECT_EQ(cancelled->notifications[0].channel, "webhook");
  EXPECT_EQ(cancelled->notifications[0].target, "http://127.0.0.1:9/hook");
  EXPECT_EQ(cancelled->notifications[1].channel, "email");
  EXPECT_EQ(cancelled->notifications[2].target, "b@example.org");
  EXPECT_EQ(cancelled->notifications[2].hook, 2);
  for (const HookDelivery& d : cancelled->notifications) {
    EXPECT_EQ(d.status, DeliveryStatus::kPending);
    EXPECT_EQ(d.attempts, 0);
  }
  Result<Task> read = store_->Get("t1");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->notifications, cancelled->notifications);

  // The list and the pending scan see the same rows.
  Result<TaskPage> page = store_->List(TaskListQuery{});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].notifications.size(), 3u);
  Result<std::vector<Task>> owed = store_->PendingNotifications(10, "");
  ASSERT_TRUE(owed.ok());
  ASSERT_EQ(owed->size(), 1u);
  EXPECT_EQ((*owed)[0].id, "t1");
}

TEST_F(SqliteNotificationsTest, TaskWithoutHooksOwesNothing) {
  ASSERT_TRUE(store_->Create(NewTask("t1", Notify{}), {}).ok());
  ASSERT_TRUE(store_->Transition("t1", Args(Trigger::kCancel, kT0)).ok());
  Result<Task> read = store_->Get("t1");
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->notifications.empty());
  Result<std::vector<Task>> owed = store_->PendingNotifications(10, "");
  ASSERT_TRUE(owed.ok());
  EXPECT_TRUE(owed->empty());
}

TEST_F(SqliteNotificationsTest, RecordAttemptSavesStateAndEventTogether) {
  ASSERT_TRUE(store_->Create(NewTask("t1", WebhookAndTwoEmails()), {}).ok());
  Result<Task> done = store_->Transition("t1", Args(Trigger::kCancel, kT0));
  ASSERT_TRUE(done.ok());

  HookDelivery failed =
      ApplyAttempt(done->notifications[0], kT0 + milliseconds(5), Unavailable("HTTP 500"), 5);
  TaskEvent event;
  event.at = kT0 + milliseconds(5);
  event.type = "notification";
  event.detail = AttemptEventDetail(failed, 5);
  ASSERT_TRUE(store_->RecordNotificationAttempt("t1", failed, event).ok());
  for (int hook = 1; hook <= 2; ++hook) {
    HookDelivery ok =
        ApplyAttempt(done->notifications[hook], kT0 + milliseconds(9), Status::Ok(), 5);
    event.detail = AttemptEventDetail(ok, 5);
    ASSERT_TRUE(store_->RecordNotificationAttempt("t1", ok, event).ok());
  }

  Result<Task> read = store_->Get("t1");
  ASSERT_TRUE(read.ok());
  const HookDelivery& w = read->notifications[0];
  EXPECT_EQ(w.status, DeliveryStatus::kPending);
  EXPECT_EQ(w.attempts, 1);
  EXPECT_EQ(w.last_attempt_at, kT0 + milliseconds(5));
  EXPECT_EQ(w.last_error, "unavailable: HTTP 500");
  EXPECT_FALSE(w.delivered_at);
  EXPECT_EQ(read->notifications[1].status, DeliveryStatus::kDelivered);
  EXPECT_EQ(read->notifications[1].delivered_at, kT0 + milliseconds(9));

  Result<std::vector<TaskEvent>> events = store_->Events("t1");
  ASSERT_TRUE(events.ok());
  int notifications = 0;
  for (const TaskEvent& e : *events) {
    if (e.type != "notification") continue;
    ++notifications;
    EXPECT_EQ(e.task_id, "t1");
  }
  EXPECT_EQ(notifications, 3);
  EXPECT_NE(events->at(2).detail.find("outcome=retry"), std::string::npos) << events->at(2).detail;

  // Still owed: the webhook. An unknown hook is kNotFound and records no event.
  Result<std::vector<Task>> owed = store_->PendingNotifications(10, "");
  ASSERT_TRUE(owed.ok());
  EXPECT_EQ(owed->size(), 1u);
  HookDelivery ghost = failed;
  ghost.hook = 7;
  EXPECT_EQ(store_->RecordNotificationAttempt("t1", ghost, event).code(), StatusCode::kNotFound);
  Result<std::vector<TaskEvent>> after = store_->Events("t1");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), events->size());
}

TEST_F(SqliteNotificationsTest, PendingScanPagesById) {
  for (const char* id : {"t1", "t2", "t3"}) {
    ASSERT_TRUE(store_->Create(NewTask(id, WebhookAndTwoEmails()), {}).ok());
    ASSERT_TRUE(store_->Transition(id, Args(Trigger::kCancel, kT0)).ok());
  }
  Result<std::vector<Task>> first = store_->PendingNotifications(2, "");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[1].id, "t2");
  Result<std::vector<Task>> rest = store_->PendingNotifications(2, "t2");
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].id, "t3");
}

// A file at the schema before 004 (with a finished task) migrates: the table appears and the
// old task owes nothing; tasks finishing afterwards get their rows.
TEST_F(SqliteNotificationsTest, MigratesAFileFromThePreviousSchema) {
  const std::string path = dir_.File("old.db");
  std::span<const Migration> all = EmbeddedMigrations();
  size_t ours = 0;  // the index of 004_notifications
  while (ours < all.size() && all[ours].name != "notifications") ++ours;
  ASSERT_LT(ours, all.size());
  {
    Result<Database> db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(ApplyMigrations(*db, all.first(ours)).ok());
    Result<int> version = SchemaVersion(*db);
    ASSERT_TRUE(version.ok());
    EXPECT_EQ(*version, static_cast<int>(ours));
  }
  {
    // A task that finished (with hooks) before 004 existed, as that version stored it.
    Task old = NewTask("old", WebhookAndTwoEmails());
    old.state = TaskState::kCancelled;
    old.finished_at = kT0;
    Result<Database> db = Database::Open(path, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db.ok());
    sqlite3_stmt* raw = nullptr;
    ASSERT_EQ(
        sqlite3_prepare_v2(db->get(),
                           "INSERT INTO tasks (id, seq, principal, state, dataset, query_hash,"
                           " created_at, updated_at, body) VALUES ('old', 1, 'alice',"
                           " 'Cancelled', 'samples', 'h', 0, 0, ?1)",
                           -1, &raw, nullptr),
        SQLITE_OK);
    const std::string body = EncodeTask(old);
    sqlite3_bind_text(raw, 1, body.c_str(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(raw), SQLITE_DONE);
    sqlite3_finalize(raw);
  }
  Result<std::unique_ptr<SqliteTaskStore>> store = SqliteTaskStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  {
    Result<Database> db = Database::Open(path, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db.ok());
    Result<int> version = SchemaVersion(*db);
    ASSERT_TRUE(version.ok());
    EXPECT_EQ(*version, static_cast<int>(all.size()));
  }
  Result<Task> old = (*store)->Get("old");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->state, TaskState::kCancelled);
  EXPECT_TRUE(old->notifications.empty());  // not fired late
  Result<std::vector<Task>> owed = (*store)->PendingNotifications(10, "");
  ASSERT_TRUE(owed.ok());
  EXPECT_TRUE(owed->empty());

  ASSERT_TRUE((*store)->Create(NewTask("t1", WebhookAndTwoEmails()), {}).ok());
  Result<Task> done = (*store)->Transition("t1", Args(Trigger::kCancel, kT0));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->notifications.size(), 3u);
}

}  // namespace
}  // namespace exportd
