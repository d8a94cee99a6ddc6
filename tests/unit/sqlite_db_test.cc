#include "storage/sqlite_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "tests/fakes/temp_dir.h"

namespace exportd {
namespace {

using testing_support::TempDir;

// SQLite's allocation statistics take one process-wide mutex per allocation; the first
// Database::Open turns them off, so the counters never move however much SQLite allocates.
// (Nothing in this test binary touches SQLite before the first Open.)
TEST(SqliteDbTest, AllocationStatisticsAreOffOnceADatabaseIsOpen) {
  TempDir dir;
  Result<Database> db =
      Database::Open(dir.File("t.sqlite"), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (v TEXT)").ok());
  ASSERT_TRUE(
      db->Exec("INSERT INTO t SELECT printf('%.*c', 100000, 'x') FROM "
               "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)"
               " SELECT i FROM n)")
          .ok());
  EXPECT_EQ(sqlite3_memory_used(), 0);
  EXPECT_EQ(sqlite3_memory_highwater(0), 0);
}

TEST(SqliteDbTest, StatusesFollowTheCallersNextMove) {
  EXPECT_EQ(SqliteStatus(SQLITE_OK, nullptr, "x").code(), StatusCode::kOk);
  EXPECT_EQ(SqliteStatus(SQLITE_BUSY, nullptr, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(SqliteStatus(SQLITE_IOERR_WRITE, nullptr, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(SqliteStatus(SQLITE_CORRUPT, nullptr, "x").code(), StatusCode::kDataLoss);
  EXPECT_EQ(SqliteStatus(SQLITE_CONSTRAINT_UNIQUE, nullptr, "x").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(SqliteStatus(SQLITE_READONLY, nullptr, "open x").message(),
            "open x: attempt to write a readonly database");
}

}  // namespace
}  // namespace exportd
