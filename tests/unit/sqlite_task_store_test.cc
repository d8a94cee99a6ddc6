#include "storage/sqlite/sqlite_task_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/notification.h"
#include "core/time_format.h"
#include "core/ulid.h"
#include "storage/sqlite/migrations.h"
#include "storage/sqlite/task_codec.h"
#include "tests/fakes/temp_dir.h"
#include "tests/unit/open_sqlite_task_store.h"
#include "tests/unit/task_store_contract.h"

namespace exportd {

EXPORTD_INSTANTIATE_TASK_STORE_CONTRACT(
    Sqlite, (TaskStoreFactory{"Sqlite", [](const std::filesystem::path& dir) {
                                return std::unique_ptr<TaskStore>(
                                    OpenSqliteTaskStore((dir / "exportd.db").string()));
                              }}));

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A plain connection of its own to inspect or tamper with the file behind the store's back.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    Result<Database> db = Database::Open(path, SQLITE_OPEN_READWRITE);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (db.ok()) db_ = std::move(db).value();
  }
  int64_t Int(const std::string& sql) {
    Result<Statement> stmt = db_.Prepare(sql);
    EXPECT_TRUE(stmt.ok()) << sql << ": " << stmt.status().ToString();
    if (!stmt.ok()) return -1;
    Result<bool> row = stmt->Step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    return stmt->ColumnInt(0);
  }
  std::string Text(const std::string& sql) {
    Result<Statement> stmt = db_.Prepare(sql);
    EXPECT_TRUE(stmt.ok()) << sql << ": " << stmt.status().ToString();
    if (!stmt.ok()) return "";
    Result<bool> row = stmt->Step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    return stmt->ColumnText(0);
  }
  // The query plan's detail lines joined by '\n'.
  std::string Plan(const std::string& sql) {
    Result<Statement> stmt = db_.Prepare("EXPLAIN QUERY PLAN " + sql);
    EXPECT_TRUE(stmt.ok()) << sql << ": " << stmt.status().ToString();
    std::string plan;
    while (stmt.ok()) {
      Result<bool> row = stmt->Step();
      if (!row.ok() || !*row) break;
      plan += stmt->ColumnText(3) + "\n";
    }
    return plan;
  }
  void Exec(const std::string& sql) { ASSERT_TRUE(db_.Exec(sql).ok()) << sql; }
  Status TryExec(const std::string& sql) { return db_.Exec(sql); }

 private:
  Database db_;
};

class SqliteTaskStoreTest : public ::testing::Test, public TaskStoreTestHelpers {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "exportd-tasks-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "exportd.db").string();
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<SqliteTaskStore> OpenStore() { return OpenSqliteTaskStore(path_); }

  TaskStore& store() override { return *store_; }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<SqliteTaskStore> store_;
};

TEST_F(SqliteTaskStoreTest, SubMillisecondTimesAreTruncated) {
  Task task = NewTask("01A");
  task.created_at = kT0 + std::chrono::microseconds(1999);
  ASSERT_TRUE(store_->Create(task, {}).ok());
  EXPECT_EQ(MustGet("01A").created_at, kT0 + milliseconds(1));
  Result<Task> started =
      store_->Transition("01A", Args(Trigger::kStart, kT0 + std::chrono::nanoseconds(5'000'001)));
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(started->started_at, kT0 + milliseconds(5));
  EXPECT_EQ(*started, MustGet("01A"));
}

TEST_F(SqliteTaskStoreTest, DataSurvivesReopen) {
  Task task = NewTask("01A");
  ASSERT_TRUE(store_->Create(task, {}).ok());
  ASSERT_TRUE(store_->Transition("01A", Args(Trigger::kStart, kT0 + seconds(1))).ok());
  const Task before = MustGet("01A");
  store_.reset();

  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(MustGet("01A"), before);
  EXPECT_EQ(EventTypes("01A"), (std::vector<std::string>{"created", "start"}));
}

TEST_F(SqliteTaskStoreTest, OpenSetsWalAndMigratesOnce) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  store_.reset();
  store_ = OpenStore();  // second open: nothing to migrate, nothing lost
  ASSERT_NE(store_, nullptr);
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);

  RawDb raw(path_);
  const int64_t migrations = static_cast<int64_t>(EmbeddedMigrations().size());
  ASSERT_GE(migrations, 1);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM schema_migrations"), migrations);
  EXPECT_EQ(raw.Int("SELECT MAX(version) FROM schema_migrations"), migrations);
  EXPECT_EQ(raw.Text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM tasks"), 1);
  Result<Database> db = Database::Open(path_, SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(db.ok());
  Result<int> version = SchemaVersion(*db);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, migrations);
}

TEST_F(SqliteTaskStoreTest, NewerSchemaIsAClearError) {
  store_.reset();
  {
    RawDb raw(path_);
    raw.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)");
  }
  Result<std::unique_ptr<SqliteTaskStore>> store = SqliteTaskStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("newer"), std::string::npos) << store.status().ToString();
}

TEST(MigrationsTest, EachMigrationIsItsOwnTransaction) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "exportd-mig-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const std::filesystem::path dir = tmpl;
  {
    Result<Database> db =
        Database::Open((dir / "m.db").string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok());
    const Migration good[] = {{1, "a", "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"},
                              {2, "b", "CREATE TABLE b (x INTEGER);"}};
    ASSERT_TRUE(ApplyMigrations(*db, good).ok());
    ASSERT_TRUE(ApplyMigrations(*db, good).ok());  // a re-run changes nothing
    const Migration broken[] = {
        good[0], good[1], {3, "c", "CREATE TABLE c (x INTEGER); INSERT INTO nowhere VALUES (1);"}};
    Status s = ApplyMigrations(*db, broken);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("3_c"), std::string::npos) << s.ToString();

    Result<int> version = SchemaVersion(*db);
    ASSERT_TRUE(version.ok());
    EXPECT_EQ(*version, 2);
    Result<Statement> a = db->Prepare("SELECT COUNT(*) FROM a");
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(a->Step().ok());
    EXPECT_EQ(a->ColumnInt(0), 1);  // migration 1's insert ran exactly once
    // The failed migration left nothing behind.
    EXPECT_FALSE(db->Prepare("SELECT * FROM c").ok());

    const Migration gap[] = {good[0], {3, "c", "SELECT 1;"}};
    EXPECT_EQ(ApplyMigrations(*db, gap).code(), StatusCode::kFailedPrecondition);
    // An older binary on this file: knows only migration 1.
    const Migration older[] = {good[0]};
    EXPECT_EQ(ApplyMigrations(*db, older).code(), StatusCode::kFailedPrecondition);
  }
  std::filesystem::remove_all(dir);
}

TEST_F(SqliteTaskStoreTest, TaskAndEventCommitTogether) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  // Make every event insert fail from outside: the task update must roll back with it.
  RawDb raw(path_);
  raw.Exec(
      "CREATE TRIGGER fail_events BEFORE INSERT ON task_events "
      "BEGIN SELECT RAISE(ABORT, 'injected'); END");
  Result<Task> started = store_->Transition("01A", Args(Trigger::kStart, kT0 + seconds(1)));
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(MustGet("01A").state, TaskState::kPending);
  Result<std::optional<Task>> claimed = store_->ClaimNext(kT0 + seconds(1), kOwner, kLease);
  EXPECT_FALSE(claimed.ok());
  EXPECT_EQ(MustGet("01A").state, TaskState::kPending);
  EXPECT_FALSE(store_->Create(NewTask("01B"), {}).ok());
  EXPECT_EQ(store_->Get("01B").status().code(), StatusCode::kNotFound);

  raw.Exec("DROP TRIGGER fail_events");
  EXPECT_EQ(Claim(kT0 + seconds(2)), "01A");
  EXPECT_EQ(EventTypes("01A"), (std::vector<std::string>{"created", "start"}));
}

TEST_F(SqliteTaskStoreTest, RecoverProcessingRequeuesRunningTasks) {
  for (const char* id : {"01A", "01B", "01C"}) ASSERT_TRUE(store_->Create(NewTask(id), {}).ok());
  ASSERT_EQ(Claim(kT0), "01A");
  ASSERT_EQ(Claim(kT0), "01B");

  store_.reset();  // a "restart"
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  Result<std::vector<std::string>> recovered = store_->RecoverProcessing(kT0 + seconds(5), kOwner);
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(*recovered, (std::vector<std::string>{"01A", "01B"}));
  for (const char* id : {"01A", "01B"}) {
    Task task = MustGet(id);
    EXPECT_EQ(task.state, TaskState::kPending);
    std::vector<TaskEvent> events = MustEvents(id);
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[2].type, "recover");
    EXPECT_EQ(events[2].from, TaskState::kProcessing);
    EXPECT_EQ(events[2].to, TaskState::kPending);
    EXPECT_EQ(events[2].detail, "recovered after restart");
  }
  EXPECT_EQ(EventTypes("01C"), (std::vector<std::string>{"created"}));

  recovered = store_->RecoverProcessing(kT0 + seconds(6), kOwner);
  ASSERT_TRUE(recovered.ok());
  EXPECT_TRUE(recovered->empty());
  EXPECT_EQ(Claim(kT0 + seconds(6)), "01A");  // keeps its place in line
}

// Creates from many threads are committed in groups (one transaction per group); each task
// must still succeed or fail on its own, durably, with its own "created" event.
TEST_F(SqliteTaskStoreTest, ConcurrentCreatesSucceedOrFailEachOnTheirOwn) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::vector<Status>> results(kThreads, std::vector<Status>(kPerThread));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Task task = NewTask("T" + std::to_string(t) + "-" + std::to_string(i));
        // Every 10th task of every thread competes for one key with the other threads.
        if (i % 10 == 0) task.idempotency_key = "shared-" + std::to_string(i);
        if (t == 3 && i == 5) task.state = TaskState::kSucceeded;  // refused, alone
        results[t][i] = store_->Create(task, {});
      }
    });
  }
  for (std::thread& th : threads) th.join();

  std::map<std::string, int> key_winners;
  int created = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const std::string id = "T" + std::to_string(t) + "-" + std::to_string(i);
      const Status& result = results[t][i];
      if (t == 3 && i == 5) {
        EXPECT_EQ(result.code(), StatusCode::kInvalidArgument) << result.ToString();
      } else if (i % 10 == 0) {
        EXPECT_TRUE(result.ok() || result.code() == StatusCode::kAlreadyExists)
            << id << ": " << result.ToString();
        if (result.ok()) ++key_winners["shared-" + std::to_string(i)];
      } else {
        EXPECT_TRUE(result.ok()) << id << ": " << result.ToString();
      }
      if (result.ok()) {
        ++created;
        EXPECT_EQ(EventTypes(id), std::vector<std::string>{"created"}) << id;
      } else {
        EXPECT_EQ(store_->Get(id).status().code(), StatusCode::kNotFound) << id;
        EXPECT_EQ(store_->Events(id).status().code(), StatusCode::kNotFound) << id;
      }
    }
  }
  EXPECT_EQ(key_winners.size(), static_cast<size_t>(kPerThread / 10));
  for (const auto& [key, winners] : key_winners) EXPECT_EQ(winners, 1) << key;
  // Every task without a key but the refused one, plus one per key.
  EXPECT_EQ(created, kThreads * (kPerThread - kPerThread / 10) - 1 + kPerThread / 10);

  store_ = OpenStore();  // what was acknowledged is on disk
  ASSERT_NE(store_, nullptr);
  Result<std::map<TaskState, int64_t>> counts = store_->CountByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[TaskState::kPending], created);
}

TEST_F(SqliteTaskStoreTest, AppendEventAndCheckWritable) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  TaskEvent download;
  download.seq = 12345;  // ignored
  download.task_id = "01A";
  download.at = kT0 + seconds(9);
  download.type = "download";
  download.detail = "part-00001.csv";
  ASSERT_TRUE(store_->AppendEvent(download).ok());
  std::vector<TaskEvent> events = MustEvents("01A");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, "download");
  EXPECT_EQ(events[1].detail, "part-00001.csv");
  EXPECT_EQ(events[1].at, kT0 + seconds(9));
  EXPECT_NE(events[1].seq, 12345);

  download.task_id = "nope";
  EXPECT_EQ(store_->AppendEvent(download).code(), StatusCode::kNotFound);

  ASSERT_TRUE(store_->CheckWritable().ok());
  ASSERT_TRUE(store_->CheckWritable().ok());
  RawDb raw(path_);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM store_heartbeat"), 1);
}

// Audit trail: who and from where is stored with every kind of event, not only downloads.
TEST_F(SqliteTaskStoreTest, EveryEventRecordsItsActorAndRemote) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), EventOrigin{"alice", "192.0.2.1"}).ok());
  ASSERT_EQ(Claim(kT0 + seconds(1)), "01A");
  const Checkpoint next{.after_key = std::string("k1"),
                        .next_file = 2,
                        .rows = 10,
                        .bytes = 100,
                        .rows_total = 20,
                        .transaction_time = kT0};
  ASSERT_TRUE(
      store_
          ->CommitFile("01A", LeaseKey{kOwner, 1},
                       FileInfo{"part-00001.csv", 10, 100, std::string(64, 'b'), "text/csv"}, next,
                       kT0 + seconds(2))
          .ok());
  ASSERT_TRUE(
      store_->RequestCancel("01A", kT0 + seconds(3), EventOrigin{"root", "198.51.100.9"}).ok());
  TransitionArgs cancel = Args(Trigger::kCancel, kT0 + seconds(4));
  cancel.origin.actor = kOwner;
  ASSERT_TRUE(store_->Transition("01A", cancel).ok());
  // A cancelled task lists no files: a replacement that changes something records an event.
  ASSERT_TRUE(store_
                  ->ReplaceFiles("01A", {FileInfo{"part-00001.csv", 10, 100, "x", "text/csv"}},
                                 "files_replaced", kT0 + seconds(5),
                                 EventOrigin{"alice", "192.0.2.1"})
                  .ok());
  TaskEvent download;
  download.task_id = "01A";
  download.at = kT0 + seconds(6);
  download.type = "download";
  download.actor = "link";
  download.remote = "203.0.113.5";
  download.file = "part-00001.csv";
  download.bytes = 0;  // zero bytes is a value, not "none"
  download.outcome = "gone";
  ASSERT_TRUE(store_->AppendEvent(download).ok());

  std::vector<TaskEvent> events = MustEvents("01A");
  ASSERT_EQ(events.size(), 7u);
  struct Want {
    std::string type, actor, remote;
  };
  const std::vector<Want> want = {{"created", "alice", "192.0.2.1"},
                                  {"start", kOwner, ""},
                                  {"checkpoint", kOwner, ""},
                                  {"cancel_requested", "root", "198.51.100.9"},
                                  {"cancel", kOwner, ""},
                                  {"files_replaced", "alice", "192.0.2.1"},
                                  {"download", "link", "203.0.113.5"}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(events[i].type, want[i].type) << i;
    EXPECT_EQ(events[i].actor, want[i].actor) << events[i].type;
    EXPECT_EQ(events[i].remote, want[i].remote) << events[i].type;
    EXPECT_EQ(events[i].task_id, "01A");
  }
  EXPECT_EQ(events[6].file, "part-00001.csv");
  EXPECT_EQ(events[6].bytes, std::optional<int64_t>(0));
  EXPECT_EQ(events[6].outcome, "gone");
  EXPECT_EQ(events[0].bytes, std::nullopt);
  EXPECT_EQ(events[0].file, "");
  // "No value" is NULL in the table, as it is for rows from before the audit columns.
  RawDb raw(path_);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM task_events WHERE remote IS NULL"), 3);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM task_events WHERE file IS NULL AND bytes IS NULL"
                    " AND outcome IS NULL"),
            6);
}

// Audit rows are append-only below the API too: the table refuses updates and deletes.
TEST_F(SqliteTaskStoreTest, EventsCannotBeChangedOrDeleted) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), EventOrigin{"alice", "192.0.2.1"}).ok());
  RawDb raw(path_);
  Status update = raw.TryExec("UPDATE task_events SET actor = 'mallory'");
  EXPECT_FALSE(update.ok());
  EXPECT_NE(update.message().find("append-only"), std::string::npos) << update.ToString();
  EXPECT_FALSE(raw.TryExec("DELETE FROM task_events").ok());
  EXPECT_EQ(raw.Text("SELECT actor FROM task_events"), "alice");
  // Inserting stays possible (that is what the store does).
  EXPECT_TRUE(
      raw.TryExec("INSERT INTO task_events (task_id, at, type) VALUES ('01A', 1, 'x')").ok());
}

// The store's hot queries, as written in sqlite_task_store.cc, must be answered from an index.
TEST_F(SqliteTaskStoreTest, QueriesUseIndexes) {
  RawDb raw(path_);
  const std::map<std::string, std::string> plans = {
      {"SELECT id FROM tasks WHERE state = ?1 AND (not_before IS NULL OR not_before <= ?2)"
       " ORDER BY seq LIMIT 1",
       "tasks_state_seq"},
      {"SELECT MIN(not_before) FROM tasks WHERE state = ?1 AND not_before > ?2",
       "tasks_state_not_before"},
      {"SELECT id FROM tasks WHERE state = ?1 ORDER BY seq", "tasks_state_seq"},
      {"SELECT id FROM tasks WHERE state = ?1 AND lease_expires_at <= ?2"
       " ORDER BY lease_expires_at",
       "tasks_state_lease"},
      {"SELECT MIN(lease_expires_at) FROM tasks WHERE state = ?1 AND lease_expires_at > ?2",
       "tasks_state_lease"},
      {"SELECT body FROM tasks WHERE state = 'Failed' AND id < 'x' ORDER BY id DESC LIMIT 5",
       "tasks_state_id"},
      {"SELECT body FROM tasks WHERE principal = 'a' AND idempotency_key = 'k'",
       "tasks_idempotency"},
      {"SELECT body FROM tasks WHERE principal = 'a' AND id < 'x' ORDER BY id DESC LIMIT 5",
       "tasks_principal_id"},
      {"SELECT body FROM tasks WHERE query_hash = 'h' ORDER BY id DESC LIMIT 5",
       "tasks_query_hash_id"},
      {"SELECT body FROM tasks WHERE dataset = 'd' ORDER BY id DESC LIMIT 5", "tasks_dataset_id"},
      {"SELECT body FROM tasks WHERE id < 'x' ORDER BY id DESC LIMIT 5",
       "sqlite_autoindex_tasks_1"},
      {"SELECT seq, task_id, at, type, from_state, to_state, detail FROM task_events"
       " WHERE task_id = 'x' ORDER BY seq",
       "task_events_task"},
      {"SELECT id FROM tasks WHERE purge_at IS NOT NULL AND purge_at <= ?1"
       " ORDER BY purge_at LIMIT ?2",
       "tasks_purge_at"},
      // GET /v1/audit (ListEvents), newest first within each filter.
      {"SELECT seq, detail FROM task_events WHERE actor = ?1 AND seq < ?2"
       " ORDER BY seq DESC LIMIT ?3",
       "task_events_actor_seq"},
      {"SELECT seq, detail FROM task_events WHERE type IN (?1) ORDER BY seq DESC LIMIT ?2",
       "task_events_type_seq"},
      {"SELECT seq, detail FROM task_events WHERE remote = ?1 ORDER BY seq DESC LIMIT ?2",
       "task_events_remote_seq"},
  };
  for (const auto& [sql, index] : plans) {
    const std::string plan = raw.Plan(sql);
    EXPECT_NE(plan.find(index), std::string::npos) << sql << "\n" << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << sql << "\n" << plan;
  }
}

TEST_F(SqliteTaskStoreTest, CommitFileStoresFileCheckpointAndEventTogether) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  ASSERT_EQ(Claim(kT0), "01A");
  const LeaseKey key{kOwner, 1};
  const Checkpoint first{.after_key = std::string("k100"),
                         .next_file = 2,
                         .rows = 100,
                         .bytes = 1000,
                         .rows_total = 250,
                         .transaction_time = kT0};
  Result<Task> saved = store_->CommitFile("01A", key, Part(1, 100, 1000), first, kT0 + seconds(1));
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  Task task = MustGet("01A");
  EXPECT_EQ(task, *saved);
  EXPECT_EQ(task.files, std::vector<FileInfo>{Part(1, 100, 1000)});
  EXPECT_EQ(task.checkpoint, first);
  EXPECT_EQ(task.progress.rows, 100);
  EXPECT_EQ(EventTypes("01A"), (std::vector<std::string>{"created", "start", "checkpoint"}));

  // The event insert fails: neither the file nor the checkpoint may be recorded.
  const Checkpoint second{.after_key = std::string("k200"),
                          .next_file = 3,
                          .rows = 200,
                          .bytes = 1900,
                          .rows_total = 250,
                          .transaction_time = kT0};
  {
    RawDb raw(path_);
    raw.Exec(
        "CREATE TRIGGER fail_events BEFORE INSERT ON task_events "
        "BEGIN SELECT RAISE(ABORT, 'injected'); END");
    EXPECT_FALSE(store_->CommitFile("01A", key, Part(2, 100, 900), second, kT0 + seconds(2)).ok());
    EXPECT_EQ(MustGet("01A"), task);
    raw.Exec("DROP TRIGGER fail_events");
  }
  // Not following from the files: refused, nothing changes.
  Checkpoint skipping = second;
  skipping.next_file = 4;
  EXPECT_EQ(store_->CommitFile("01A", key, Part(2, 100, 900), skipping, kT0).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(MustGet("01A"), task);
  // Another claim's worker: kAborted.
  EXPECT_EQ(
      store_->CommitFile("01A", {"inst_b", 1}, Part(2, 100, 900), second, kT0).status().code(),
      StatusCode::kAborted);
  ASSERT_TRUE(store_->CommitFile("01A", key, Part(2, 100, 900), second, kT0 + seconds(2)).ok());

  // A retry keeps both files and the checkpoint, and the next start resumes from it.
  TransitionArgs retry = Args(Trigger::kRetry, kT0 + seconds(3));
  retry.error = TaskError{"unavailable", "busy", true};
  retry.expect_lease = key;
  ASSERT_TRUE(store_->Transition("01A", retry).ok());
  store_ = OpenStore();  // and survives a reopen
  Result<std::optional<Task>> again = store_->ClaimNext(kT0 + seconds(4), "inst_b", kLease);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->files.size(), 2u);
  EXPECT_EQ((*again)->checkpoint, second);
  EXPECT_EQ((*again)->progress.rows, 200);
  std::vector<TaskEvent> events = MustEvents("01A");
  EXPECT_EQ(events.back().type, "start");
  EXPECT_NE(events.back().detail.find("resume at file 3 after 200 rows"), std::string::npos)
      << events.back().detail;
}

// Readers compare revisions to know whether a task changed (the API's body cache): every
// committed change must move it, reads and refused writes must not.
TEST_F(SqliteTaskStoreTest, RevisionChangesWithEveryCommittedChangeAndNothingElse) {
  Task created = NewTask("01A");
  created.notify.webhook = "http://127.0.0.1:9/hook";
  created.idempotency_key = "key-1";
  ASSERT_TRUE(store_->Create(created, {}).ok());
  std::set<int64_t> seen;
  int64_t last = 0;
  // The revision as Revision() reads it; checks that Get() agrees and that it is new.
  auto changed = [&](const char* step) {
    Result<TaskRevision> now = store_->Revision("01A");
    EXPECT_TRUE(now.ok()) << step << ": " << now.status().ToString();
    if (!now.ok()) return;
    EXPECT_EQ(now->principal, "alice") << step;
    EXPECT_EQ(MustGet("01A").revision, now->revision) << step;
    EXPECT_TRUE(seen.insert(now->revision).second)
        << step << ": revision " << now->revision << " seen before";
    last = now->revision;
  };
  auto unchanged = [&](const char* step) {
    Result<TaskRevision> now = store_->Revision("01A");
    ASSERT_TRUE(now.ok()) << step;
    EXPECT_EQ(now->revision, last) << step;
  };
  changed("create");
  unchanged("a read");

  ASSERT_EQ(Claim(kT0), "01A");
  changed("claim");
  const LeaseKey key{kOwner, 1};
  Result<Task> beat = store_->Heartbeat("01A", key, Progress{10, 250, 0}, kT0 + seconds(1), kLease);
  ASSERT_TRUE(beat.ok()) << beat.status().ToString();
  EXPECT_EQ(beat->revision, MustGet("01A").revision) << "a write returns the revision it made";
  changed("heartbeat");
  ASSERT_TRUE(store_->UpdateProgress("01A", Progress{20, 250, 0}, kT0 + seconds(2)).ok());
  changed("progress");
  const Checkpoint next{.after_key = std::string("k100"),
                        .next_file = 2,
                        .rows = 100,
                        .bytes = 1000,
                        .rows_total = 250,
                        .transaction_time = kT0};
  ASSERT_TRUE(store_->CommitFile("01A", key, Part(1, 100, 1000), next, kT0 + seconds(3)).ok());
  changed("commit file");
  EXPECT_FALSE(store_->CommitFile("01A", {"inst_b", 1}, Part(2, 100, 900), next, kT0).ok());
  unchanged("a refused commit");
  ASSERT_TRUE(store_->RequestCancel("01A", kT0 + seconds(4), {}).ok());
  changed("cancel requested");
  TransitionArgs succeed = Args(Trigger::kSucceed, kT0 + seconds(5));
  succeed.files = {Part(1, 100, 1000)};
  succeed.expect_lease = key;
  Result<Task> done = store_->Transition("01A", succeed);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ASSERT_EQ(done->notifications.size(), 1u);
  EXPECT_EQ(done->revision, MustGet("01A").revision)
      << "the owed notifications are part of the change that finished the task";
  changed("succeed");

  // Deliveries live in their own table and are still a change to the task.
  HookDelivery delivered = ApplyAttempt(done->notifications[0], kT0 + seconds(6), Status::Ok(), 5);
  TaskEvent attempt;
  attempt.at = kT0 + seconds(6);
  attempt.type = "notification";
  ASSERT_TRUE(store_->RecordNotificationAttempt("01A", delivered, attempt).ok());
  changed("notification delivered");
  TaskEvent download;
  download.task_id = "01A";
  download.at = kT0 + seconds(6);
  download.type = "download";
  ASSERT_TRUE(store_->AppendEvent(download).ok());
  unchanged("an audit event (not part of the task)");
  ASSERT_TRUE(store_->ReplaceFiles("01A", {}, "files_deleted", kT0 + seconds(7), {}).ok());
  changed("files deleted");

  // Another task taking over the idempotency key changes this one (its key goes).
  Task successor = NewTask("01B");
  successor.idempotency_key = "key-1";
  ASSERT_TRUE(store_->CreateTakingKey(successor, "01A", {}).ok());
  changed("key taken over");
  store_ = OpenStore();
  unchanged("a reopen");

  EXPECT_EQ(store_->Revision("nope").status().code(), StatusCode::kNotFound);
}

// Revision keeps what it read until the file changes (CommittedReadCache): a change committed
// through another connection, as another instance's, is seen by the very next call.
TEST_F(SqliteTaskStoreTest, RevisionSeesAChangeByAnotherConnectionAtOnce) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  Result<TaskRevision> before = store_->Revision("01A");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_TRUE(store_->Revision("01A").ok());  // kept now

  std::unique_ptr<SqliteTaskStore> other = OpenStore();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->Transition("01A", Args(Trigger::kCancel, kT0 + seconds(1))).ok());
  Result<TaskRevision> after = store_->Revision("01A");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->revision, MustGet("01A").revision);
  EXPECT_GT(after->revision, before->revision) << "a change by another connection went unseen";
}

// A change that exportd did not make (the sqlite3 shell) is not counted; the store reuses what
// it read for a second at most.
TEST_F(SqliteTaskStoreTest, RevisionSeesAChangeByAnotherToolWithinASecond) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  Result<TaskRevision> before = store_->Revision("01A");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  RawDb(path_).Exec("UPDATE tasks SET revision = revision + 1 WHERE id = '01A'");
  Result<TaskRevision> kept = store_->Revision("01A");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->revision, before->revision) << "the read was not reused";
  const auto deadline = std::chrono::steady_clock::now() + seconds(3);
  int64_t seen = kept->revision;
  while (seen == before->revision && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));
    Result<TaskRevision> now = store_->Revision("01A");
    ASSERT_TRUE(now.ok());
    seen = now->revision;
  }
  EXPECT_EQ(seen, before->revision + 1);
}

// Retention and expiry survive a reopen (they live in the body and the purge_at column).
TEST_F(SqliteTaskStoreTest, RetentionAndExpirySurviveAReopen) {
  Finish(*store_, "01A", seconds(100), TaskState::kSucceeded, kT0);  // due T0+100
  Finish(*store_, "01G", seconds(20), TaskState::kSucceeded, kT0);   // due T0+20
  CreateUnfinished("01F", "01I");
  auto expired = [&](TimePoint now, int limit) { return ExpiredFiles(now, limit); };
  using Ids = std::vector<std::string>;

  store_ = OpenStore();
  Task a = MustGet("01A");
  EXPECT_EQ(a.retention, seconds(100));
  EXPECT_EQ(a.files_expire_at, std::optional<TimePoint>(kT0 + seconds(100)));
  EXPECT_EQ(MustGet("01F").files_expire_at, std::nullopt) << "not finished";
  EXPECT_EQ(MustGet("01I").files_expire_at, std::nullopt) << "not started";
  EXPECT_EQ(expired(kT0 + seconds(100), 10), (Ids{"01G", "01A"}));
}

TEST(MigrationsTest, VersionTwoDatabaseGetsTheDefaultRetention) {
  testing_support::TempDir dir;
  const std::string path = dir.File("exportd.db");
  // A Succeeded task with files, one whose files were deleted, and a Pending one, as a v2
  // binary stored them.
  auto body = [](const std::string& id, const std::string& state, const std::string& finished,
                 const std::string& files) {
    return R"({"v":2,"id":")" + id + R"(","principal":"alice","state":")" + state + R"(",)" +
           R"("request":{"dataset":"samples","format":"csv","fields":[],"filter":[],"since":null,)"
           R"("until":null,"partitions":[],"max_rows_per_file":80000,"compression":"none"},)"
           R"("query_hash":"h","tag":null,"notify":{"webhook":null,"email":[]},)"
           R"("idempotency_key":null,"created_at":1700000000000,"updated_at":1700000000000,)"
           R"("started_at":null,"finished_at":)" +
           finished +
           R"(,"not_before":null,"attempts":1,)"
           R"("max_attempts":3,"progress":{"rows":5,"rows_total":10,"bytes":50},"error":null,)"
           R"("cancel_requested":false,"files":)" +
           files +
           R"(,"manifest":null,)"
           R"("checkpoint":null,"lease":null})";
  };
  const std::string file =
      R"([{"name":"part-00001.csv","rows":5,"bytes":50,"sha256":"ab","content_type":"text/csv"}])";
  {
    Result<Database> db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(ApplyMigrations(*db, EmbeddedMigrations().first(2)).ok());
    int seq = 0;
    for (const auto& [id, state, finished, files] :
         {std::tuple{"01A", "Succeeded", "1700000001000", file},
          std::tuple{"01B", "Succeeded", "1700000001000", std::string("[]")},
          std::tuple{"01C", "Pending", "null", std::string("[]")}}) {
      ASSERT_TRUE(db->Exec("INSERT INTO tasks (id, seq, principal, state, dataset, query_hash,"
                           " created_at, updated_at, body) VALUES ('" +
                           std::string(id) + "', " + std::to_string(++seq) + ", 'alice', '" +
                           state + "', 'samples', 'h', 1700000000000, 1700000000000, '" +
                           body(id, state, finished, files) + "')")
                      .ok());
    }
  }
  Result<std::unique_ptr<SqliteTaskStore>> store = SqliteTaskStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  RawDb raw(path);
  EXPECT_GE(raw.Int("SELECT MAX(version) FROM schema_migrations"), 3);

  const TimePoint finished = FromUnixMillis(1700000001000);
  Result<Task> a = (*store)->Get("01A");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->retention, kDefaultRetention);
  EXPECT_EQ(a->files_expire_at, std::optional<TimePoint>(finished + kDefaultRetention));
  ASSERT_EQ(a->files.size(), 1u);
  Result<Task> c = (*store)->Get("01C");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->retention, kDefaultRetention);
  EXPECT_EQ(c->files_expire_at, std::nullopt);

  // The migration indexed the old task with files, at the same expiry the codec reads.
  using Ids = std::vector<std::string>;
  Result<Ids> before = (*store)->ListExpiredFiles(finished + kDefaultRetention - seconds(1), 10);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, Ids{});
  Result<Ids> due = (*store)->ListExpiredFiles(finished + kDefaultRetention, 10);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, Ids{"01A"});
}

// Issue 16, item 9: a damaged index page went unnoticed at start. QuickCheck finds it, and
// CheckWritable (what /readyz asks) reports it from then on.
TEST_F(SqliteTaskStoreTest, QuickCheckFindsADamagedIndexPageAndCheckWritableReportsIt) {
  for (const char* id : {"01A", "01B", "01C"}) ASSERT_TRUE(store_->Create(NewTask(id), {}).ok());
  EXPECT_TRUE(store_->QuickCheck().ok());
  EXPECT_TRUE(store_->CheckWritable().ok());
  int64_t page = 0;
  int64_t page_size = 0;
  {
    RawDb raw(path_);
    page = raw.Int("SELECT rootpage FROM sqlite_schema WHERE name = 'tasks_query_hash_id'");
    page_size = raw.Int("PRAGMA page_size");
  }
  store_.reset();  // the last connection checkpoints the WAL into the file
  ASSERT_GT(page, 1);
  {
    std::fstream file(path_, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(file.is_open());
    file.seekp((page - 1) * page_size);
    const std::string garbage(static_cast<size_t>(page_size), '\xA5');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    ASSERT_TRUE(file.good());
  }
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  const Status check = store_->QuickCheck();
  EXPECT_EQ(check.code(), StatusCode::kDataLoss) << check.ToString();
  EXPECT_NE(check.message().find("quick_check"), std::string::npos) << check.ToString();
  const Status ready = store_->CheckWritable();
  EXPECT_EQ(ready.code(), StatusCode::kDataLoss) << ready.ToString();
  // Reads that do not touch the damaged index still work.
  EXPECT_EQ(MustGet("01B").id, "01B");
}

// Migration 009 (issue 16, item 13): tasks stored while recoveries counted as attempts get their
// recoveries from their "recover" and "lease_expired" events, and lose as many attempts.
TEST(MigrationsTest, RecoveriesAreCountedApartFromAttemptsInOldTasks) {
  testing_support::TempDir dir;
  const std::string path = dir.File("exportd.db");
  const std::span<const Migration> migrations = EmbeddedMigrations();
  int recoveries_version = 0;
  for (const Migration& m : migrations) {
    if (m.name == "task_recoveries") recoveries_version = m.version;
  }
  ASSERT_GT(recoveries_version, 1);
  Task old_task;
  old_task.id = "01A";
  old_task.principal = "alice";
  old_task.request.dataset = "samples";
  old_task.query_hash = "h";
  old_task.state = TaskState::kPending;
  old_task.attempts = 4;  // 1 attempt that failed, 3 runs cut short
  old_task.max_attempts = 3;
  nlohmann::json body = nlohmann::json::parse(EncodeTask(old_task));
  body.erase("recoveries");
  Task fresh = old_task;
  fresh.id = "01B";
  fresh.attempts = 1;
  nlohmann::json fresh_body = nlohmann::json::parse(EncodeTask(fresh));
  fresh_body.erase("recoveries");
  {
    Result<Database> db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(ApplyMigrations(*db, migrations.first(recoveries_version - 1)).ok());
    int seq = 0;
    for (const auto& [id, text] :
         {std::pair{"01A", body.dump()}, std::pair{"01B", fresh_body.dump()}}) {
      Result<Statement> insert = db->Prepare(
          "INSERT INTO tasks (id, seq, principal, state, dataset, query_hash, created_at,"
          " updated_at, body) VALUES (?1, ?2, 'alice', 'Pending', 'samples', 'h', 0, 0, ?3)");
      ASSERT_TRUE(insert.ok()) << insert.status().ToString();
      insert->Bind(1, id).Bind(2, int64_t{++seq}).Bind(3, std::string_view(text));
      ASSERT_TRUE(insert->Run().ok());
    }
    ASSERT_TRUE(db->Exec("INSERT INTO task_events (task_id, at, type) VALUES"
                         " ('01A', 1, 'created'), ('01A', 2, 'start'), ('01A', 3, 'recover'),"
                         " ('01A', 4, 'start'), ('01A', 5, 'lease_expired'), ('01A', 6, 'start'),"
                         " ('01A', 7, 'recover'), ('01A', 8, 'start'), ('01A', 9, 'retry'),"
                         " ('01B', 1, 'created'), ('01B', 2, 'start'), ('01B', 3, 'retry')")
                    .ok());
  }
  Result<std::unique_ptr<SqliteTaskStore>> store = SqliteTaskStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Result<Task> a = (*store)->Get("01A");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->attempts, 1);
  EXPECT_EQ(a->recoveries, 3);
  Result<Task> b = (*store)->Get("01B");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->attempts, 1);
  EXPECT_EQ(b->recoveries, 0);
  RawDb raw(path);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM tasks WHERE json_type(body, '$.recoveries') IS NULL"), 0);
}

// A database written by version 1 of the schema (before leases) opens, migrates to the
// current version and keeps its tasks, events and keys; a task it left Processing is recovered
// by the first instance that starts.
TEST(MigrationsTest, VersionOneDatabaseMigratesWithItsDataIntact) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "exportd-v1-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const std::filesystem::path dir = tmpl;
  const std::string path = (dir / "exportd.db").string();
  const std::string v1_body =
      R"({"v":1,"id":"01A","principal":"alice","state":"Processing",)"
      R"("request":{"dataset":"samples","format":"csv","fields":[],"filter":[],"since":null,)"
      R"("until":null,"partitions":[],"max_rows_per_file":80000,"compression":"none"},)"
      R"("query_hash":"h","tag":"old","notify":{"webhook":null,"email":[]},)"
      R"("idempotency_key":"k1","created_at":1700000000000,"updated_at":1700000000000,)"
      R"("started_at":1700000000000,"finished_at":null,"not_before":null,"attempts":1,)"
      R"("max_attempts":3,"progress":{"rows":5,"rows_total":10,"bytes":50},"error":null,)"
      R"("cancel_requested":false,"files":[],"manifest":null})";
  {
    Result<Database> db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(ApplyMigrations(*db, EmbeddedMigrations().first(1)).ok());
    Result<int> version = SchemaVersion(*db);
    ASSERT_TRUE(version.ok());
    ASSERT_EQ(*version, 1);
    ASSERT_TRUE(db->Exec("INSERT INTO tasks (id, seq, principal, state, dataset, query_hash,"
                         " idempotency_key, created_at, updated_at, not_before, body) VALUES"
                         " ('01A', 1, 'alice', 'Processing', 'samples', 'h', 'k1',"
                         " 1700000000000, 1700000000000, NULL, '" +
                         v1_body + "')")
                    .ok());
    ASSERT_TRUE(db->Exec("INSERT INTO task_events (task_id, at, type, from_state, to_state)"
                         " VALUES ('01A', 1700000000000, 'created', NULL, 'Pending'),"
                         " ('01A', 1700000000000, 'start', 'Pending', 'Processing')")
                    .ok());
  }
  {
    Result<std::unique_ptr<SqliteTaskStore>> store = SqliteTaskStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    RawDb raw(path);
    EXPECT_EQ(raw.Int("SELECT MAX(version) FROM schema_migrations"),
              static_cast<int64_t>(EmbeddedMigrations().size()));
    EXPECT_GE(EmbeddedMigrations().size(), 2u);
    EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM tasks WHERE lease_owner IS NULL"), 1);

    Result<Task> task = (*store)->Get("01A");
    ASSERT_TRUE(task.ok()) << task.status().ToString();
    EXPECT_EQ(task->state, TaskState::kProcessing);
    EXPECT_EQ(task->tag, std::optional<std::string>("old"));
    EXPECT_EQ(task->progress.rows, 5);
    EXPECT_FALSE(task->lease.has_value());
    // "alice" is no API key of this store: migration 008 takes it for a token's subject.
    EXPECT_EQ(task->principal, "jwt:?#alice");
    Result<std::optional<Task>> by_key = (*store)->FindByIdempotencyKey("jwt:?#alice", "k1");
    ASSERT_TRUE(by_key.ok() && by_key->has_value());
    Result<std::vector<TaskEvent>> events = (*store)->Events("01A");
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(events->size(), 2u);

    // Left Processing by an instance without leases: any instance recovers it at start.
    Result<std::vector<std::string>> recovered =
        (*store)->RecoverProcessing(kT0 + seconds(1), "inst_new");
    ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
    EXPECT_EQ(*recovered, std::vector<std::string>{"01A"});
    Result<std::optional<Task>> claimed = (*store)->ClaimNext(kT0 + seconds(2), "inst_new", kLease);
    ASSERT_TRUE(claimed.ok() && claimed->has_value());
    EXPECT_EQ((*claimed)->attempts, 1);
    EXPECT_EQ((*claimed)->recoveries, 1);
    // Rewritten in the current layout.
    EXPECT_NE(raw.Text("SELECT body FROM tasks WHERE id = '01A'").find("\"lease\":{"),
              std::string::npos);
    EXPECT_EQ(raw.Text("SELECT lease_owner FROM tasks WHERE id = '01A'"), "inst_new");
  }
  std::filesystem::remove_all(dir);
}

// 8 threads on two stores (two connections to one file) create 400 tasks while claiming them:
// every task is claimed exactly once.
TEST_F(SqliteTaskStoreTest, ConcurrentCreateAndClaim) {
  std::unique_ptr<SqliteTaskStore> second = OpenStore();
  ASSERT_NE(second, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  constexpr int kTotal = kThreads * kPerThread;

  std::mutex mu;
  std::vector<std::string> claimed;  // guarded by mu
  std::vector<std::string> errors;   // guarded by mu
  std::atomic<int> created{0};
  std::atomic<int> unavailable{0};
  constexpr int kRetries = 10;
  auto worker = [&](SqliteTaskStore* store) {
    auto fail = [&](const Status& s) {
      std::lock_guard<std::mutex> lock(mu);
      errors.push_back(s.ToString());
    };
    // kUnavailable (the other connection held the write lock past the busy timeout, seen on
    // loaded machines under sanitizers) means "retry the same call"; nothing was written.
    auto claim = [&] {
      Result<std::optional<Task>> task = store->ClaimNext(kT0, kOwner, kLease);
      for (int retry = 0; retry < kRetries && task.status().code() == StatusCode::kUnavailable;
           ++retry) {
        unavailable.fetch_add(1);
        task = store->ClaimNext(kT0, kOwner, kLease);
      }
      if (!task.ok()) {
        fail(task.status());
        return false;
      }
      if (!task->has_value()) return false;
      std::lock_guard<std::mutex> lock(mu);
      claimed.push_back((*task)->id);
      return true;
    };
    for (int i = 0; i < kPerThread; ++i) {
      const Task task = NewTask(NewUlid(kT0));
      Status s = store->Create(task, {});
      for (int retry = 0; retry < kRetries && s.code() == StatusCode::kUnavailable; ++retry) {
        unavailable.fetch_add(1);
        s = store->Create(task, {});
      }
      if (!s.ok()) fail(s);
      created.fetch_add(1);
      claim();
    }
    // Once every Create has returned, an empty claim means no task is left for anyone.
    for (;;) {
      const bool all_created = created.load() == kTotal;
      if (!claim() && all_created) break;
      std::lock_guard<std::mutex> lock(mu);
      if (!errors.empty()) break;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back(worker, t % 2 == 0 ? store_.get() : second.get());
  }
  for (std::thread& t : threads) t.join();

  ASSERT_TRUE(errors.empty()) << errors.front();
  // Contention may cost a retry now and then, never a lost or doubled claim.
  EXPECT_LT(unavailable.load(), kTotal / 10);
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kTotal));
  std::set<std::string> unique(claimed.begin(), claimed.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kTotal));

  TaskListQuery q;
  q.limit = 1000;
  Result<TaskPage> page = store_->List(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), static_cast<size_t>(kTotal));
  for (const Task& task : page->items) {
    EXPECT_EQ(task.state, TaskState::kProcessing) << task.id;
    EXPECT_EQ(task.attempts, 1) << task.id;
    EXPECT_TRUE(unique.count(task.id)) << task.id;
  }
  RawDb raw(path_);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM task_events WHERE type = 'start'"), kTotal);
  EXPECT_EQ(raw.Int("SELECT COUNT(DISTINCT task_id) FROM task_events WHERE type = 'start'"),
            kTotal);
}

// Rows written before migration 006 read back without actor, remote, file, bytes or outcome
// (NULL, shown as null by the API), and the audit listing includes them.
TEST(MigrationsTest, EventsFromBeforeTheAuditColumnsHaveNoActor) {
  testing_support::TempDir dir;
  const std::string path = dir.path() + "/exportd.db";
  {
    Result<Database> db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(ApplyMigrations(*db, EmbeddedMigrations().first(5)).ok());
    const std::string body = EncodeTask(NewTask("01A"));
    ASSERT_TRUE(db->Exec("INSERT INTO tasks (id, seq, principal, state, dataset, query_hash,"
                         " created_at, updated_at, body) VALUES ('01A', 1, 'alice', 'Pending',"
                         " 'samples', 'h1', 1700000000000, 1700000000000, '" +
                         body + "')")
                    .ok());
    ASSERT_TRUE(db->Exec("INSERT INTO task_events (task_id, at, type, to_state, detail) VALUES"
                         " ('01A', 1700000000000, 'created', 'Pending', ''),"
                         " ('01A', 1700000001000, 'download', NULL,"
                         " 'part-00001.csv: 10 bytes to 127.0.0.1')")
                    .ok());
  }
  Result<std::unique_ptr<SqliteTaskStore>> store = SqliteTaskStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Result<std::vector<TaskEvent>> events = (*store)->Events("01A");
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 2u);
  for (const TaskEvent& e : *events) {
    EXPECT_EQ(e.actor, "") << e.type;
    EXPECT_EQ(e.remote, "") << e.type;
    EXPECT_EQ(e.file, "") << e.type;
    EXPECT_EQ(e.bytes, std::nullopt) << e.type;
    EXPECT_EQ(e.outcome, "") << e.type;
  }
  EXPECT_EQ((*events)[1].detail, "part-00001.csv: 10 bytes to 127.0.0.1");  // kept as written
  Result<EventPage> page = (*store)->ListEvents({.types = {"download"}});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].seq, (*events)[1].seq);
  // New rows after the upgrade carry their origin.
  ASSERT_TRUE((*store)->Create(NewTask("01B"), {"alice", "::1"}).ok());
  Result<EventPage> by_actor = (*store)->ListEvents({.actor = "alice"});
  ASSERT_TRUE(by_actor.ok());
  ASSERT_EQ(by_actor->items.size(), 1u);
  EXPECT_EQ(by_actor->items[0].task_id, "01B");
  EXPECT_EQ(by_actor->items[0].remote, "::1");
}

}  // namespace
}  // namespace exportd
