// PgTaskStore against a real PostgreSQL (the ctest fixture "postgres"): the TaskStore contract
// every store keeps, then what only a shared server has: migrations under an advisory lock,
// append-only events enforced by the database, concurrent claimers and several instances, lost
// connections, and the key and schedule stores on the same database.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/base/digest.h"
#include "storage/postgres/pg_key_store.h"
#include "storage/postgres/pg_migrations.h"
#include "storage/postgres/pg_schedule_store.h"
#include "storage/postgres/pg_task_store.h"
#include "storage/postgres/pg_wake_listener.h"
#include "tests/postgres/postgres_test_db.h"
#include "tests/unit/task_store_contract.h"

namespace exportd {

EXPORTD_INSTANTIATE_TASK_STORE_CONTRACT(Postgres,
                                        (TaskStoreFactory{
                                            "Postgres", [](const std::filesystem::path&) {
                                              return std::unique_ptr<TaskStore>(
                                                  OpenPgTaskStore(OpenTestPool(FreshSchemaUrl())));
                                            }}));

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A connection of the test's own to look behind the store's back.
std::unique_ptr<PgConnection> Raw(const std::string& url) {
  Result<std::unique_ptr<PgConnection>> conn = PgConnection::Open(url);
  EXPECT_TRUE(conn.ok()) << conn.status().ToString();
  return conn.ok() ? std::move(conn).value() : nullptr;
}

int64_t Int(PgConnection& conn, const std::string& sql) {
  Result<PgResult> r = conn.Exec(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  return r.ok() && r->rows() > 0 ? r->Int(0, 0) : -1;
}

TEST(PostgresMigrationsTest, RunOnceWhenSeveralInstancesStartTogether) {
  const std::string url = FreshSchemaUrl();
  ASSERT_FALSE(url.empty());
  constexpr int kInstances = 6;
  std::vector<Status> opened(kInstances);
  std::vector<std::thread> threads;
  for (int i = 0; i < kInstances; ++i) {
    threads.emplace_back([&, i] {
      Result<std::unique_ptr<PgPool>> pool = PgPool::Open(url, 1);
      if (!pool.ok()) {
        opened[i] = pool.status();
        return;
      }
      opened[i] = PgTaskStore::Open(std::shared_ptr<PgPool>(std::move(pool).value())).status();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Status& s : opened) EXPECT_TRUE(s.ok()) << s.ToString();
  std::unique_ptr<PgConnection> raw = Raw(url);
  ASSERT_NE(raw, nullptr);
  const int64_t embedded = static_cast<int64_t>(PgEmbeddedMigrations().size());
  EXPECT_EQ(Int(*raw, "SELECT COUNT(*) FROM exportd_schema_migrations"), embedded);
  Result<int> version = PgSchemaVersion(*raw);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, embedded);
}

TEST(PostgresMigrationsTest, ANewerSchemaIsRefused) {
  const std::string url = FreshSchemaUrl();
  ASSERT_NE(OpenPgTaskStore(OpenTestPool(url)), nullptr);
  std::unique_ptr<PgConnection> raw = Raw(url);
  ASSERT_NE(raw, nullptr);
  ASSERT_TRUE(raw->ExecScript("INSERT INTO exportd_schema_migrations (version, name)"
                              " VALUES (999, 'from_the_future')")
                  .ok());
  Result<std::unique_ptr<PgTaskStore>> store = PgTaskStore::Open(OpenTestPool(url));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("999"), std::string::npos);
}

TEST(PostgresTaskStoreTest, EventsAreAppendOnlyForEveryoneWithSql) {
  const std::string url = FreshSchemaUrl();
  std::unique_ptr<PgTaskStore> store = OpenPgTaskStore(OpenTestPool(url));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(NewTask("01A"), {"alice", "192.0.2.1"}).ok());
  std::unique_ptr<PgConnection> raw = Raw(url);
  ASSERT_NE(raw, nullptr);
  for (const char* sql : {"UPDATE task_events SET type = 'forged'", "DELETE FROM task_events",
                          "TRUNCATE task_events"}) {
    Status refused = raw->ExecScript(sql);
    EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << sql << ": " << refused.ToString();
    EXPECT_NE(refused.message().find("append-only"), std::string::npos) << refused.ToString();
  }
  Result<std::vector<TaskEvent>> events = store->Events("01A");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].type, "created");
  EXPECT_EQ((*events)[0].remote, "192.0.2.1");
}

// Four instances (a pool each) claim 40 tasks at once: each task is claimed exactly once, and
// each claimer takes them in FIFO order.
TEST(PostgresTaskStoreTest, ConcurrentClaimersTakeEachTaskOnceInOrder) {
  const std::string url = FreshSchemaUrl();
  std::unique_ptr<PgTaskStore> setup = OpenPgTaskStore(OpenTestPool(url));
  ASSERT_NE(setup, nullptr);
  constexpr int kTasks = 40;
  std::vector<std::string> ids;
  for (int i = 0; i < kTasks; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "T%03d", i);
    ids.push_back(id);
    ASSERT_TRUE(setup->Create(NewTask(id), {}).ok());
  }
  constexpr int kClaimers = 4;
  std::vector<std::vector<std::string>> claimed(kClaimers);
  std::vector<Status> errors(kClaimers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClaimers; ++i) {
    threads.emplace_back([&, i] {
      std::unique_ptr<PgTaskStore> store = OpenPgTaskStore(OpenTestPool(url, 2));
      if (!store) return;
      const std::string owner = "inst_" + std::to_string(i);
      for (;;) {
        Result<std::optional<Task>> task = store->ClaimNext(kT0, owner, kLease);
        if (!task.ok()) {
          errors[i] = task.status();
          return;
        }
        if (!task->has_value()) return;
        EXPECT_EQ((*task)->lease->owner, owner);
        claimed[i].push_back((*task)->id);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<std::string> all;
  for (int i = 0; i < kClaimers; ++i) {
    EXPECT_TRUE(errors[i].ok()) << errors[i].ToString();
    EXPECT_TRUE(std::is_sorted(claimed[i].begin(), claimed[i].end()));
    all.insert(all.end(), claimed[i].begin(), claimed[i].end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, ids);  // every task once: none lost, none twice
  Result<std::map<TaskState, int64_t>> counts = setup->CountByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[TaskState::kProcessing], kTasks);
}

// max_running_cluster: four instances (a store each, capped at 3) that claim at the same
// instant get three tasks between them, not four; then, claiming and finishing 60 tasks as fast
// as they can, they never hold more than 3 at once (counted by the claimers and by a watcher
// polling the table), and every task is claimed exactly once.
TEST(PostgresTaskStoreTest, TheClusterCapHoldsAcrossRacingClaimers) {
  const std::string url = FreshSchemaUrl();
  std::unique_ptr<PgTaskStore> setup = OpenPgTaskStore(OpenTestPool(url));
  ASSERT_NE(setup, nullptr);
  constexpr int kCap = 3;
  constexpr int kClaimers = 4;
  constexpr int kTasks = 60;
  for (int i = 0; i < kTasks; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "T%03d", i);
    ASSERT_TRUE(setup->Create(NewTask(id), {}).ok());
  }
  std::vector<std::unique_ptr<PgTaskStore>> stores;
  for (int i = 0; i < kClaimers; ++i) {
    stores.push_back(OpenPgTaskStore(OpenTestPool(url, 2), {.max_running = kCap}));
    ASSERT_NE(stores.back(), nullptr);
  }

  std::mutex mu;
  std::condition_variable cv;
  int ready = 0;       // guarded by mu: claimers at the start line
  int first_done = 0;  // guarded by mu: claimers past their first claim
  std::atomic<int> first_claims{0};
  std::atomic<int> holding{0};
  std::atomic<int> most_held{0};
  std::atomic<int> finished{0};
  std::atomic<bool> stop_watch{false};
  std::vector<std::vector<std::string>> claimed(kClaimers);
  auto finish = [&](PgTaskStore& store, const std::string& id) {
    holding.fetch_sub(1);  // before the store lets go: holding never exceeds the stored count
    Result<Task> done = store.Transition(id, Args(Trigger::kSucceed, kT0));
    EXPECT_TRUE(done.ok()) << id << ": " << done.status().ToString();
    finished.fetch_add(1);
  };
  auto hold = [&](int i, const Task& task) {
    claimed[i].push_back(task.id);
    const int now_held = holding.fetch_add(1) + 1;
    int most = most_held.load();
    while (now_held > most && !most_held.compare_exchange_weak(most, now_held)) {
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kClaimers; ++i) {
    threads.emplace_back([&, i] {
      PgTaskStore& store = *stores[i];
      const std::string owner = "inst_" + std::to_string(i);
      {
        std::unique_lock<std::mutex> lock(mu);
        ++ready;
        cv.notify_all();
        cv.wait(lock, [&] { return ready == kClaimers; });
      }
      // All four at once, each keeping what it got until all four have tried.
      Result<std::optional<Task>> first = store.ClaimNext(kT0, owner, kLease);
      EXPECT_TRUE(first.ok()) << first.status().ToString();
      if (first.ok() && first->has_value()) {
        first_claims.fetch_add(1);
        hold(i, **first);
      }
      {
        std::unique_lock<std::mutex> lock(mu);
        ++first_done;
        cv.notify_all();
        cv.wait(lock, [&] { return first_done == kClaimers; });
      }
      if (first.ok() && first->has_value()) finish(store, (*first)->id);
      // Then claim, hold briefly and finish until every task is done.
      while (finished.load() < kTasks) {
        Result<std::optional<Task>> task = store.ClaimNext(kT0, owner, kLease);
        if (!task.ok()) {
          ADD_FAILURE() << task.status().ToString();
          return;
        }
        if (!task->has_value()) continue;  // the cap is reached, or the queue is empty
        hold(i, **task);
        std::this_thread::sleep_for(milliseconds(2));  // overlap with the other claimers
        finish(store, (*task)->id);
      }
    });
  }
  std::unique_ptr<PgConnection> raw = Raw(url);
  ASSERT_NE(raw, nullptr);
  int64_t most_stored = 0;
  int polls = 0;
  std::thread watcher([&] {
    while (!stop_watch.load()) {
      most_stored =
          std::max(most_stored, Int(*raw, "SELECT COUNT(*) FROM tasks WHERE state = 'Processing'"));
      ++polls;
    }
  });
  for (std::thread& t : threads) t.join();
  stop_watch = true;
  watcher.join();

  EXPECT_EQ(first_claims.load(), kCap) << "four claimers at once took more (or less) than the cap";
  EXPECT_LE(most_held.load(), kCap);
  EXPECT_LE(most_stored, kCap) << "over " << polls << " polls";
  std::vector<std::string> all;
  for (const auto& c : claimed) all.insert(all.end(), c.begin(), c.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a task claimed twice";
  EXPECT_EQ(all.size(), static_cast<size_t>(kTasks));
  Result<std::map<TaskState, int64_t>> counts = setup->CountByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[TaskState::kSucceeded], kTasks);
}

// The cap counts the tasks of every instance: one that runs nothing claims nothing while the
// others hold the cap, and claims again, in FIFO order, once one of theirs ends.
TEST(PostgresTaskStoreTest, TheClusterCapCountsTasksOfEveryInstance) {
  const std::string url = FreshSchemaUrl();
  std::unique_ptr<PgTaskStore> capped = OpenPgTaskStore(OpenTestPool(url), {.max_running = 2});
  std::unique_ptr<PgTaskStore> other = OpenPgTaskStore(OpenTestPool(url), {.max_running = 2});
  ASSERT_TRUE(capped && other);
  for (const char* id : {"01A", "01B", "01C"}) ASSERT_TRUE(capped->Create(NewTask(id), {}).ok());
  Result<std::optional<Task>> a = other->ClaimNext(kT0, "inst_b", kLease);
  Result<std::optional<Task>> b = other->ClaimNext(kT0, "inst_b", kLease);
  ASSERT_TRUE(a.ok() && a->has_value() && b.ok() && b->has_value());
  // Two Processing elsewhere: this instance gets nothing, though it runs nothing itself.
  Result<std::optional<Task>> none = capped->ClaimNext(kT0, "inst_a", kLease);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
  // One of them ends: room for one more, taken in FIFO order.
  ASSERT_TRUE(other->Transition("01A", Args(Trigger::kSucceed, kT0)).ok());
  Result<std::optional<Task>> next = capped->ClaimNext(kT0, "inst_a", kLease);
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->id, "01C");
  EXPECT_EQ(PgTaskStore::Open(OpenTestPool(url), {.max_running = 0}).status().code(),
            StatusCode::kInvalidArgument);
}

// Many callers creating at once (the group commit puts them in shared transactions): each
// task is stored with its event or refused on its own, a duplicate refused without harming the
// others of its group.
TEST(PostgresTaskStoreTest, ConcurrentCreatesSucceedOrFailEachOnItsOwn) {
  std::unique_ptr<PgTaskStore> store = OpenPgTaskStore(OpenTestPool(FreshSchemaUrl()));
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 16;
  constexpr int kEach = 25;
  std::atomic<int> created{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        // Threads 0 and 1 create the same ids: one of each pair is refused.
        const int owner = t == 1 ? 0 : t;
        const std::string id = "C" + std::to_string(owner * 1000 + i);
        Status s = store->Create(NewTask(id), {});
        if (s.ok()) {
          ++created;
        } else if (s.code() == StatusCode::kAlreadyExists) {
          ++refused;
        } else {
          ADD_FAILURE() << id << ": " << s.ToString();
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(created.load(), (kThreads - 1) * kEach);
  EXPECT_EQ(refused.load(), kEach);
  Result<std::map<TaskState, int64_t>> counts = store->CountByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[TaskState::kPending], (kThreads - 1) * kEach);
  EventQuery created_events;
  created_events.types = {"created"};
  created_events.limit = 1000;
  Result<EventPage> page = store->ListEvents(created_events);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), static_cast<size_t>((kThreads - 1) * kEach));
}

// A group's tasks go in as array parameters of one statement: texts that mean something in an
// array literal (quotes, backslashes, braces, commas, the word NULL) come back unchanged, an
// absent value stays NULL, and concurrent creates with one principal's idempotency key leave
// exactly one task holding it, the others refused on their own.
TEST(PostgresTaskStoreTest, GroupInsertKeepsEveryTextAndEachKeyOnce) {
  const std::string url = FreshSchemaUrl();
  std::unique_ptr<PgTaskStore> store = OpenPgTaskStore(OpenTestPool(url));
  ASSERT_NE(store, nullptr);
  const std::string odd = "a \"quoted\", \\back\\slash {brace} NULL \xc3\xa9";
  Task t = NewTask("ODD1", "p \"1\" {x}", odd, "NULL");
  t.tag = odd;
  t.idempotency_key = "NULL";
  ASSERT_TRUE(store->Create(t, EventOrigin{odd, ""}).ok());
  Result<Task> got = store->Get("ODD1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->principal, t.principal);
  EXPECT_EQ(got->request.dataset, odd);
  EXPECT_EQ(got->tag, t.tag);
  EXPECT_EQ(got->query_hash, "NULL");
  Result<std::optional<Task>> by_key = store->FindByIdempotencyKey(t.principal, "NULL");
  ASSERT_TRUE(by_key.ok());
  ASSERT_TRUE(by_key->has_value());
  EXPECT_EQ((*by_key)->id, "ODD1");
  Result<std::vector<TaskEvent>> events = store->Events("ODD1");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].actor, odd);
  std::unique_ptr<PgConnection> raw = Raw(url);
  ASSERT_NE(raw, nullptr);
  EXPECT_EQ(Int(*raw,
                "SELECT count(*) FROM task_events WHERE task_id = 'ODD1' AND remote IS NULL"
                " AND file IS NULL AND bytes IS NULL"),
            1);
  EXPECT_EQ(Int(*raw, "SELECT count(*) FROM tasks WHERE id = 'ODD1' AND not_before IS NULL"), 1);

  constexpr int kThreads = 12;
  std::atomic<int> created{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      Task k = NewTask("KEY" + std::to_string(i), "bob");
      k.idempotency_key = "same key";
      Status s = store->Create(k, {});
      if (s.ok()) {
        ++created;
      } else if (s.code() == StatusCode::kAlreadyExists) {
        ++refused;
      } else {
        ADD_FAILURE() << s.ToString();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(refused.load(), kThreads - 1);
  EXPECT_EQ(Int(*raw, "SELECT count(*) FROM tasks WHERE principal = 'bob'"), 1);
  EXPECT_EQ(Int(*raw,
                "SELECT count(*) FROM task_events e JOIN tasks t ON t.id = e.task_id"
                " WHERE t.principal = 'bob'"),
            1);
}

// Two instances on one database: a restart of one leaves the other's task alone; once that
// lease has expired, either instance puts the task back, and its old owner learns it lost it.
TEST(PostgresTaskStoreTest, InstancesShareOneQueueAndRescueDeadLeases) {
  const std::string url = FreshSchemaUrl();
  std::unique_ptr<PgTaskStore> a = OpenPgTaskStore(OpenTestPool(url));
  std::unique_ptr<PgTaskStore> b = OpenPgTaskStore(OpenTestPool(url));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Create(NewTask("01A"), {}).ok());
  Result<std::optional<Task>> claimed = a->ClaimNext(kT0, "inst_a", kLease);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  const LeaseKey key{"inst_a", (*claimed)->attempts, (*claimed)->recoveries};

  Result<std::vector<std::string>> recovered = b->RecoverProcessing(kT0, "inst_b");
  ASSERT_TRUE(recovered.ok());
  EXPECT_TRUE(recovered->empty());
  Result<std::vector<std::string>> expired = b->ExpireLeases(kT0 + kLease - milliseconds(1));
  ASSERT_TRUE(expired.ok());
  EXPECT_TRUE(expired->empty());
  EXPECT_TRUE(a->Heartbeat("01A", key, std::nullopt, kT0 + seconds(1), kLease).ok());

  // Renewed at kT0 + 1 s: it now expires at kT0 + 1 s + lease.
  expired = b->ExpireLeases(kT0 + seconds(1) + kLease);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, std::vector<std::string>{"01A"});
  EXPECT_EQ(a->Heartbeat("01A", key, std::nullopt, kT0 + seconds(2), kLease).status().code(),
            StatusCode::kAborted);
  claimed = b->ClaimNext(kT0 + seconds(2), "inst_b", kLease);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  EXPECT_EQ((*claimed)->lease->owner, "inst_b");
}

// A connection killed under the store (a server restart, a failover, an idle timeout) costs no
// failed call: the pool drops it and the call runs again on a new one.
TEST(PostgresTaskStoreTest, ALostConnectionIsReplaced) {
  std::string schema;
  const std::string url = FreshSchemaUrl(&schema);
  std::unique_ptr<PgTaskStore> store = OpenPgTaskStore(OpenTestPool(url, 1));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(NewTask("01A"), {}).ok());
  std::unique_ptr<PgConnection> admin = Raw(TestPostgresUrl());
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(Int(*admin,
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = '" +
                    schema + "'"),
            1);
  Result<Task> task = store->Get("01A");
  EXPECT_TRUE(task.ok()) << task.status().ToString();
  // And in a write transaction.
  EXPECT_EQ(Int(*admin,
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = '" +
                    schema + "'"),
            1);
  Result<std::optional<Task>> claimed = store->ClaimNext(kT0, kOwner, kLease);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  EXPECT_TRUE(claimed->has_value());
}

TEST(PostgresTaskStoreTest, AnUnreachableServerIsUnavailable) {
  // A socket directory where no server listens.
  Result<std::unique_ptr<PgPool>> pool =
      PgPool::Open("postgresql:///postgres?host=/nonexistent-exportd-dir&connect_timeout=2", 2);
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.status().code(), StatusCode::kUnavailable);
  Result<std::unique_ptr<PgPool>> bad = PgPool::Open("postgresql://[::1", 2);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << bad.status().ToString();
}

TEST(PostgresKeyStoreTest, InsertFindRevokeAndCount) {
  std::shared_ptr<PgPool> pool = OpenTestPool(FreshSchemaUrl());
  ASSERT_NE(OpenPgTaskStore(pool), nullptr);  // migrates
  PgKeyStore keys(pool);
  const TimePoint t = kT0;
  ApiKey admin{"k1", "ops", Sha256Hex("secret-1"), Role::kAdmin, t, std::nullopt};
  ApiKey reader{"k2", "dash", Sha256Hex("secret-2"), Role::kReader, t + seconds(1), std::nullopt};
  ASSERT_TRUE(keys.Insert(admin).ok());
  ASSERT_TRUE(keys.Insert(reader).ok());
  EXPECT_EQ(keys.Insert(admin).code(), StatusCode::kAlreadyExists);
  ApiKey same_digest = reader;
  same_digest.id = "k3";
  EXPECT_EQ(keys.Insert(same_digest).code(), StatusCode::kAlreadyExists);

  Result<std::optional<ApiKey>> found = keys.FindActiveByDigest(Sha256Hex("secret-1"));
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, "k1");
  EXPECT_EQ((*found)->role, Role::kAdmin);
  EXPECT_EQ((*found)->created_at, t);
  EXPECT_EQ(*keys.CountActive(), 2);

  ASSERT_TRUE(keys.Revoke("k1", t + seconds(5)).ok());
  ASSERT_TRUE(keys.Revoke("k1", t + seconds(9)).ok());  // keeps the first time
  EXPECT_EQ(keys.Revoke("nope", t).code(), StatusCode::kNotFound);
  found = keys.FindActiveByDigest(Sha256Hex("secret-1"));
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
  EXPECT_EQ(*keys.CountActive(), 1);
  Result<std::vector<ApiKey>> all = keys.List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "k1");
  EXPECT_EQ((*all)[0].revoked_at, std::optional<TimePoint>(t + seconds(5)));
  EXPECT_EQ((*all)[1].role, Role::kReader);
}

// Another instance's revocation counts within a second (the keys found are kept that long).
TEST(PostgresKeyStoreTest, ARevocationByAnotherInstanceCountsWithinASecond) {
  const std::string url = FreshSchemaUrl();
  std::shared_ptr<PgPool> pool = OpenTestPool(url);
  ASSERT_NE(OpenPgTaskStore(pool), nullptr);
  PgKeyStore here(pool);
  PgKeyStore elsewhere(OpenTestPool(url));
  const std::string digest = Sha256Hex("secret-9");
  ASSERT_TRUE(here.Insert({"k9", "ci", digest, Role::kExporter, kT0, std::nullopt}).ok());
  Result<std::optional<ApiKey>> found = here.FindActiveByDigest(digest);
  ASSERT_TRUE(found.ok() && found->has_value());
  ASSERT_TRUE(elsewhere.Revoke("k9", kT0 + seconds(1)).ok());
  const auto revoked = std::chrono::steady_clock::now();
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() - revoked < seconds(3)) {
    found = here.FindActiveByDigest(digest);
    ASSERT_TRUE(found.ok());
    gone = !found->has_value();
    if (!gone) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(gone);
  EXPECT_LT(std::chrono::steady_clock::now() - revoked, milliseconds(1500));
}

TEST(PostgresScheduleStoreTest, RoundTripsAndRecordsTheLastRunOfAFiredTask) {
  std::shared_ptr<PgPool> pool = OpenTestPool(FreshSchemaUrl());
  std::unique_ptr<PgTaskStore> tasks = OpenPgTaskStore(pool);
  ASSERT_NE(tasks, nullptr);
  PgScheduleStore schedules(pool);
  Schedule s;
  s.id = "sch_1";
  s.principal = "key:k1";
  s.name = "nightly";
  s.cron = "0 10 * * *";
  s.time_zone = "Europe/Berlin";
  s.request.request.dataset = "samples";
  s.request.request.fields = {"id"};
  s.catch_up = CatchUp::kNone;
  s.created_at = s.updated_at = s.enabled_at = kT0;
  ASSERT_TRUE(schedules.Create(s).ok());
  EXPECT_EQ(schedules.Create(s).code(), StatusCode::kAlreadyExists);
  Schedule other = s;
  other.id = "sch_2";
  other.principal = "key:k2";
  ASSERT_TRUE(schedules.Create(other).ok());

  Result<Schedule> got = schedules.Get("sch_1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, "nightly");
  EXPECT_EQ(got->cron, "0 10 * * *");
  EXPECT_EQ(got->time_zone, "Europe/Berlin");
  EXPECT_EQ(got->request.request.fields, std::vector<std::string>{"id"});
  EXPECT_EQ(got->last_run, std::nullopt);

  Task fired = NewTask("01A");
  fired.schedule_id = "sch_1";
  fired.schedule_slot = kT0 + seconds(60);
  ASSERT_TRUE(tasks->Create(fired, {}).ok());
  got = schedules.Get("sch_1");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->last_run.has_value());
  EXPECT_EQ(got->last_run->task_id, "01A");
  EXPECT_EQ(got->last_run->slot, kT0 + seconds(60));

  s.name = "renamed";
  s.updated_at = kT0 + seconds(5);
  ASSERT_TRUE(schedules.Update(s).ok());
  got = schedules.Get("sch_1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "renamed");
  EXPECT_TRUE(got->last_run.has_value());  // firing's, kept

  Result<std::vector<Schedule>> mine = schedules.List(std::string("key:k2"));
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].id, "sch_2");
  Result<std::vector<Schedule>> all = schedules.List(std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);

  ASSERT_TRUE(schedules.Delete("sch_1").ok());
  EXPECT_EQ(schedules.Delete("sch_1").code(), StatusCode::kNotFound);
  EXPECT_EQ(schedules.Get("sch_1").status().code(), StatusCode::kNotFound);
  Schedule ghost = s;
  ghost.id = "sch_9";
  EXPECT_EQ(schedules.Update(ghost).code(), StatusCode::kNotFound);
}

// Instances record themselves and beat; each lists with the Processing tasks leased to it.
TEST(PostgresInstancesTest, AnnounceBeatAndListWithRunningTasks) {
  std::unique_ptr<PgTaskStore> store = OpenPgTaskStore(OpenTestPool(FreshSchemaUrl()));
  ASSERT_NE(store, nullptr);
  InstanceInfo a{"inst_a", "host-a", kT0, kT0, {}};
  InstanceInfo b{"inst_b", "host-b", kT0 + seconds(1), kT0 + seconds(1), {}};
  ASSERT_TRUE(store->Announce(a).ok());
  ASSERT_TRUE(store->Announce(b).ok());
  EXPECT_EQ(store->Beat("inst_zz", kT0).code(), StatusCode::kNotFound);
  ASSERT_TRUE(store->Beat("inst_a", kT0 + seconds(30)).ok());
  for (const char* id : {"01A", "01B", "01C"}) ASSERT_TRUE(store->Create(NewTask(id), {}).ok());
  ASSERT_TRUE(store->ClaimNext(kT0, "inst_a", kLease).ok());
  ASSERT_TRUE(store->ClaimNext(kT0, "inst_b", kLease).ok());
  ASSERT_TRUE(store->ClaimNext(kT0, "inst_a", kLease).ok());

  Result<std::vector<InstanceInfo>> all = store->ListInstances(kT0);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "inst_a");
  EXPECT_EQ((*all)[0].host, "host-a");
  EXPECT_EQ((*all)[0].started_at, kT0);
  EXPECT_EQ((*all)[0].heartbeat_at, kT0 + seconds(30));
  EXPECT_EQ((*all)[0].running, (std::vector<std::string>{"01A", "01C"}));
  EXPECT_EQ((*all)[1].running, std::vector<std::string>{"01B"});
  // Only those whose heartbeat is recent enough.
  Result<std::vector<InstanceInfo>> recent = store->ListInstances(kT0 + seconds(2));
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].id, "inst_a");
  // A restart of inst_b under the same id replaces its record.
  b.started_at = b.heartbeat_at = kT0 + seconds(60);
  ASSERT_TRUE(store->Announce(b).ok());
  recent = store->ListInstances(kT0 + seconds(45));
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].started_at, kT0 + seconds(60));
}

// Counts the wake-ups of a PgWakeListener; waits for them with a deadline.
class WakeCounter {
 public:
  void Wake() {
    std::lock_guard<std::mutex> lock(mu_);
    ++wakes_;
    cv_.notify_all();
  }
  // Whether at least `n` wake-ups came within `timeout`.
  bool WaitFor(int n, milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return wakes_ >= n; });
  }
  int wakes() {
    std::lock_guard<std::mutex> lock(mu_);
    return wakes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int wakes_ = 0;
};

// Another instance's task that becomes Pending wakes the listener at once; a listener whose
// connection was killed listens again and wakes once for what it may have missed.
TEST(PostgresWakeListenerTest, APendingTaskElsewhereWakesTheListener) {
  std::string schema;
  const std::string url = FreshSchemaUrl(&schema);
  std::unique_ptr<PgTaskStore> other = OpenPgTaskStore(OpenTestPool(url));
  ASSERT_NE(other, nullptr);
  WakeCounter counter;
  PgWakeListener listener(url, [&] { counter.Wake(); });
  ASSERT_TRUE(counter.WaitFor(1, milliseconds(5000)));  // listening: one wake-up for the gap
  ASSERT_TRUE(listener.listening());

  ASSERT_TRUE(other->Create(NewTask("01A"), {}).ok());
  EXPECT_TRUE(counter.WaitFor(2, milliseconds(2000)));
  // Put back in the queue (here: its lease expired) is Pending again.
  ASSERT_TRUE(other->ClaimNext(kT0, kOwner, kLease).ok());
  const int before = counter.wakes();
  ASSERT_TRUE(other->ExpireLeases(kT0 + kLease).ok());
  EXPECT_TRUE(counter.WaitFor(before + 1, milliseconds(2000)));

  std::unique_ptr<PgConnection> admin = Raw(TestPostgresUrl());
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(Int(*admin,
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = '" +
                    schema + "' AND query LIKE 'LISTEN%'"),
            1);
  const int after_kill = counter.wakes();
  EXPECT_TRUE(counter.WaitFor(after_kill + 1, milliseconds(6000)));  // listening again
  ASSERT_TRUE(other->Create(NewTask("01B"), {}).ok());
  EXPECT_TRUE(counter.WaitFor(after_kill + 2, milliseconds(2000)));
}

// A cancel accepted by one instance reaches the listener of every other at once, with the
// task's id, and is no wake-up; a repeated request (already flagged) sends nothing more.
TEST(PostgresWakeListenerTest, ACancelElsewhereReachesTheListenerWithItsTask) {
  const std::string url = FreshSchemaUrl();
  std::unique_ptr<PgTaskStore> other = OpenPgTaskStore(OpenTestPool(url));
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->Create(NewTask("01A"), {}).ok());
  ASSERT_TRUE(other->Create(NewTask("01B"), {}).ok());
  ASSERT_TRUE(other->ClaimNext(kT0, kOwner, kLease).ok());
  ASSERT_TRUE(other->ClaimNext(kT0, kOwner, kLease).ok());
  WakeCounter wakes;
  WakeCounter cancels;
  std::mutex mu;
  std::vector<std::string> cancelled;
  PgWakeListener listener(
      url, [&] { wakes.Wake(); },
      [&](const std::string& id) {
        {
          std::lock_guard<std::mutex> lock(mu);
          cancelled.push_back(id);
        }
        cancels.Wake();
      });
  ASSERT_TRUE(wakes.WaitFor(1, milliseconds(5000)));  // listening
  const int wakes_before = wakes.wakes();

  ASSERT_TRUE(other->RequestCancel("01B", kT0, {"alice", ""}).ok());
  ASSERT_TRUE(cancels.WaitFor(1, milliseconds(2000)));
  ASSERT_TRUE(other->RequestCancel("01B", kT0, {"alice", ""}).ok());  // already requested
  ASSERT_TRUE(other->RequestCancel("01A", kT0, {"alice", ""}).ok());
  ASSERT_TRUE(cancels.WaitFor(2, milliseconds(2000)));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(cancelled, (std::vector<std::string>{"01B", "01A"}));
  EXPECT_EQ(wakes.wakes(), wakes_before);
}

}  // namespace
}  // namespace exportd
