// SqliteTaskStore's notification deliveries (migration 004) on a real SQLite file.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <span>

#include "storage/sqlite/migrations.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_task_store.h"
#include "storage/sqlite/task_codec.h"
#include "tests/fakes/temp_dir.h"
#include "tests/unit/task_store_contract.h"

namespace exportd {
namespace {

using std::chrono::milliseconds;

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
    Task old = NotifyingTask("old", WebhookAndTwoEmails());
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

  ASSERT_TRUE((*store)->Create(NotifyingTask("t1", WebhookAndTwoEmails()), {}).ok());
  Result<Task> done = (*store)->Transition("t1", Args(Trigger::kCancel, kT0));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->notifications.size(), 3u);
}

}  // namespace
}  // namespace exportd
