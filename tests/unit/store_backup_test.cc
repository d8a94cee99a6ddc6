// BackupStoreDatabase (issue 16, item 9): a copy of a store in use opens as a store and holds
// the same tasks; it refuses to overwrite a file and leaves none behind when it fails.
#include "storage/sqlite/store_backup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/time_format.h"
#include "storage/sqlite/sqlite_task_store.h"
#include "tests/fakes/temp_dir.h"

namespace exportd {
namespace {

Task NewTask(const std::string& id) {
  Task t;
  t.id = id;
  t.principal = "alice";
  t.request.dataset = "samples";
  t.query_hash = "h";
  t.created_at = t.updated_at = FromUnixMillis(1'700'000'000'000);
  return t;
}

TEST(StoreBackupTest, ACopyOfAStoreInUseHoldsTheSameTasks) {
  testing_support::TempDir dir;
  const std::string path = dir.File("exportd.db");
  Result<std::unique_ptr<SqliteTaskStore>> store = SqliteTaskStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (const char* id : {"01A", "01B", "01C"}) ASSERT_TRUE((*store)->Create(NewTask(id), {}).ok());
  TransitionArgs cancel;
  cancel.trigger = Trigger::kCancel;
  cancel.now = FromUnixMillis(1'700'000'001'000);
  ASSERT_TRUE((*store)->Transition("01B", cancel).ok());

  // The store stays open (its last commits may be in the WAL only).
  const std::string copy = dir.File("backup.db");
  Result<BackupInfo> info = BackupStoreDatabase(path, copy);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->tasks, 3);
  EXPECT_GT(info->bytes, 0);
  EXPECT_FALSE(std::filesystem::exists(copy + "-wal"));

  Result<std::unique_ptr<SqliteTaskStore>> restored = SqliteTaskStore::Open(copy);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE((*restored)->QuickCheck().ok());
  for (const char* id : {"01A", "01B", "01C"}) {
    Result<Task> original = (*store)->Get(id);
    Result<Task> copied = (*restored)->Get(id);
    ASSERT_TRUE(original.ok() && copied.ok()) << id;
    copied->revision = original->revision;  // not part of the record
    EXPECT_EQ(*copied, *original) << id;
  }
  Result<std::vector<TaskEvent>> events = (*restored)->Events("01B");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 2u);  // created, cancel

  // Never over an existing file; a missing store is named.
  Result<BackupInfo> again = BackupStoreDatabase(path, copy);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  Result<BackupInfo> missing = BackupStoreDatabase(dir.File("none.db"), dir.File("x.db"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir.File("x.db")));
}

}  // namespace
}  // namespace exportd
