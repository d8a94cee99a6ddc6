#include "storage/sqlite/sqlite_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>

#include "storage/sqlite/commit_counter.h"
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

// SQLite's legacy fallback would read a double-quoted name that is no column as a string literal
// (issue 16, item 3); every connection Database::Open makes refuses it.
TEST(SqliteDbTest, ADoubleQuotedNameThatIsNoColumnIsAnErrorNotAString) {
  TempDir dir;
  Result<Database> db =
      Database::Open(dir.File("q.db"), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a')").ok());
  Result<Statement> select = db->Prepare("SELECT \"value\" FROM t");
  ASSERT_FALSE(select.ok()) << "the name was read as a string literal";
  EXPECT_NE(select.status().message().find("no such column"), std::string::npos)
      << select.status().ToString();
  // DDL too: an index on a column that does not exist is refused rather than indexing a constant.
  EXPECT_FALSE(db->Exec("CREATE INDEX t_nope ON t (\"nope\")").ok());
  Result<Statement> ok = db->Prepare("SELECT \"v\" FROM t");
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

// Every way a commit happens on a watched connection is counted, and each count is settled
// (ended == started) by the time the call returns; reads and rollbacks count nothing.
TEST(SqliteDbTest, EveryCommitIsCountedAndSettledBeforeTheCallReturns) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  Result<Database> db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE(db->Exec("PRAGMA journal_mode=WAL").ok());
  Result<std::shared_ptr<CommitCounter>> counter = CommitCounter::Open(path);
  ASSERT_TRUE(counter.ok()) << counter.status().ToString();
  db->CountCommits(*counter);
  EXPECT_EQ(db->commit_counter(), *counter);
  auto counted = [&](uint64_t commits, const char* what) {
    EXPECT_EQ((*counter)->started(), commits) << what;
    EXPECT_EQ((*counter)->ended(), commits) << what << ": not settled";
  };

  ASSERT_TRUE(db->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").ok());
  counted(1, "DDL through Exec");
  Result<Statement> insert = db->Prepare("INSERT INTO t (v) VALUES (?1)");
  ASSERT_TRUE(insert.ok());
  ASSERT_TRUE(insert->Bind(1, "a").Run().ok());
  counted(2, "an autocommit insert");
  Result<Statement> select = db->Prepare("SELECT v FROM t");
  ASSERT_TRUE(select.ok());
  while (true) {
    Result<bool> row = select->Step();
    ASSERT_TRUE(row.ok());
    if (!*row) break;
  }
  select->Reset();
  counted(2, "a read");
  {
    Transaction tx(*db);
    ASSERT_TRUE(tx.status().ok());
    ASSERT_TRUE(insert->Bind(1, "b").Run().ok());
    counted(2, "a write inside a transaction");
    ASSERT_TRUE(tx.Commit().ok());
  }
  counted(3, "a transaction");
  {
    Transaction tx(*db);
    ASSERT_TRUE(insert->Bind(1, "c").Run().ok());
  }
  counted(3, "a rolled back transaction");
  ASSERT_TRUE(db->Exec("SAVEPOINT s; INSERT INTO t (v) VALUES ('d'); RELEASE s").ok());
  counted(4, "a released savepoint");
  // With RETURNING, SQLite makes every change at the first step and commits when the statement
  // ends: here, at a Reset before the last row.
  Result<Statement> returning = db->Prepare("UPDATE t SET v = v || '!' RETURNING id");
  ASSERT_TRUE(returning.ok());
  Result<bool> first = returning->Step();
  ASSERT_TRUE(first.ok() && *first);
  EXPECT_EQ((*counter)->started(), (*counter)->ended()) << "unsettled after a step";
  returning->Reset();
  counted(5, "RETURNING ended early");
  Result<Statement> duplicate = db->Prepare("INSERT INTO t (id, v) VALUES (1, 'dup')");
  ASSERT_TRUE(duplicate.ok());
  EXPECT_FALSE(duplicate->Run().ok());
  counted(5, "a refused insert");
  {
    Result<Statement> last = db->Prepare("DELETE FROM t WHERE id = 1 RETURNING id");
    ASSERT_TRUE(last.ok());
    Result<bool> row = last->Step();
    ASSERT_TRUE(row.ok() && *row);
  }  // finalized with the statement unfinished: SQLite commits then
  counted(6, "a statement finalized before its end");

  // Another connection, with its own mapping of the counter file: the same counters.
  Result<Database> other = Database::Open(path, SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(other.ok());
  Result<std::shared_ptr<CommitCounter>> other_counter = CommitCounter::Open(path);
  ASSERT_TRUE(other_counter.ok());
  other->CountCommits(*other_counter);
  ASSERT_TRUE(other->Exec("INSERT INTO t (v) VALUES ('e')").ok());
  counted(7, "a commit by another connection");
}

// A connection that was never given a counter counts nothing (dataset sources).
TEST(SqliteDbTest, AConnectionWithoutACounterCountsNothing) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  Result<std::shared_ptr<CommitCounter>> counter = CommitCounter::Open(path);
  ASSERT_TRUE(counter.ok());
  Result<Database> db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db->commit_counter(), nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('x')").ok());
  EXPECT_EQ((*counter)->started(), 0u);
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
