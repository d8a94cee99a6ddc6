#include "storage/sqlite/sqlite_schedule_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/time_format.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_task_store.h"
#include "tests/fakes/temp_dir.h"

namespace exportd {
namespace {

TimePoint AtMs(int64_t ms) { return TimePoint{} + std::chrono::milliseconds(ms); }

Schedule MakeSchedule(const std::string& id, const std::string& principal, int64_t at_ms) {
  Schedule s;
  s.id = id;
  s.principal = principal;
  s.name = "nightly " + id;
  s.cron = "0 10 * * *";
  s.time_zone = "Europe/Berlin";
  s.request.request.dataset = "samples";
  s.request.request.fields = {"id"};
  s.request.tag = "t";
  s.catch_up = CatchUp::kNone;
  s.created_at = s.updated_at = s.enabled_at = AtMs(at_ms);
  return s;
}

class SqliteScheduleStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteScheduleStore> OpenStore() {
    Result<std::unique_ptr<SqliteScheduleStore>> store = SqliteScheduleStore::Open(path_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  testing_support::TempDir dir_;
  std::string path_ = dir_.File("exportd.db");
};

TEST_F(SqliteScheduleStoreTest, RoundTripsAndSurvivesReopening) {
  const Schedule s = MakeSchedule("sch_01", "alice", 1'700'000'000'123);
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Create(s).ok());
    Result<Schedule> got = store->Get(s.id);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, s);
  }
  auto reopened = OpenStore();
  ASSERT_NE(reopened, nullptr);
  Result<Schedule> got = reopened->Get(s.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, s);
}

TEST_F(SqliteScheduleStoreTest, SharesTheFileWithTheTaskStore) {
  Result<std::unique_ptr<SqliteTaskStore>> tasks = SqliteTaskStore::Open(path_);
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Create(MakeSchedule("sch_01", "alice", 1)).ok());
}

// Creating a schedule's task records the run in the same transaction: it is the schedule's
// last_run; a refused second task for the slot changes nothing; the owner's updates keep it.
TEST_F(SqliteScheduleStoreTest, CreatingAFiredTaskRecordsTheLastRun) {
  Result<std::unique_ptr<SqliteTaskStore>> tasks = SqliteTaskStore::Open(path_);
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Schedule s = MakeSchedule("sch_01", "alice", 1'700'000'000'000);
  ASSERT_TRUE(store->Create(s).ok());

  auto fired = [](const std::string& id, TimePoint slot, TimePoint created) {
    Task t;
    t.id = id;
    t.principal = "alice";
    t.request.dataset = "samples";
    t.query_hash = "h";
    t.created_at = t.updated_at = created;
    t.schedule_id = "sch_01";
    t.schedule_slot = slot;
    return t;
  };
  const TimePoint slot = AtMs(1'700'000'040'000);
  ASSERT_TRUE((*tasks)->Create(fired("01A", slot, AtMs(1'700'000'040'123)), {}).ok());
  Result<Schedule> got = store->Get("sch_01");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->last_run, (ScheduleRun{slot, "01A", AtMs(1'700'000'040'123)}));

  EXPECT_EQ((*tasks)->Create(fired("01B", slot, AtMs(1'700'000'050'000)), {}).code(),
            StatusCode::kAlreadyExists);
  got = store->Get("sch_01");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->last_run->task_id, "01A");

  s.name = "renamed";
  ASSERT_TRUE(store->Update(s).ok());
  got = store->Get("sch_01");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->last_run->task_id, "01A");

  // A deleted schedule's slot is still taken (its runs outlive it).
  ASSERT_TRUE(store->Delete("sch_01").ok());
  EXPECT_EQ((*tasks)->Create(fired("01C", slot, AtMs(1'700'000'060'000)), {}).code(),
            StatusCode::kAlreadyExists);
}

TEST_F(SqliteScheduleStoreTest, CreateTwiceIsAlreadyExists) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Create(MakeSchedule("sch_01", "alice", 1)).ok());
  EXPECT_EQ(store->Create(MakeSchedule("sch_01", "bob", 2)).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->Get("sch_01")->principal, "alice");
}

TEST_F(SqliteScheduleStoreTest, ListsByPrincipalOrAllInIdOrder) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Create(MakeSchedule("sch_03", "alice", 3)).ok());
  ASSERT_TRUE(store->Create(MakeSchedule("sch_01", "alice", 1)).ok());
  ASSERT_TRUE(store->Create(MakeSchedule("sch_02", "bob", 2)).ok());
  auto ids = [](const std::vector<Schedule>& list) {
    std::vector<std::string> out;
    for (const Schedule& s : list) out.push_back(s.id);
    return out;
  };
  Result<std::vector<Schedule>> alice = store->List(std::string("alice"));
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(ids(*alice), (std::vector<std::string>{"sch_01", "sch_03"}));
  Result<std::vector<Schedule>> all = store->List(std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(ids(*all), (std::vector<std::string>{"sch_01", "sch_02", "sch_03"}));
  EXPECT_TRUE(store->List(std::string("carol"))->empty());
}

TEST_F(SqliteScheduleStoreTest, UpdateReplacesTheOwnersPartOnly) {
  auto store = OpenStore();
  const Schedule s = MakeSchedule("sch_01", "alice", 1000);
  ASSERT_TRUE(store->Create(s).ok());
  // What firing will write, by hand.
  {
    Result<Database> db = Database::Open(path_, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("UPDATE schedules SET last_slot = 5000, last_task_id = 'T1',"
                         " last_run_at = 5001 WHERE id = 'sch_01'")
                    .ok());
  }
  Schedule changed = s;
  changed.principal = "mallory";  // not the store's to change
  changed.created_at = AtMs(9);   // nor this
  changed.last_run.reset();       // nor this
  changed.enabled = false;
  changed.cron = "*/5 * * * *";
  changed.request.request.dataset = "other";
  changed.updated_at = changed.enabled_at = AtMs(2000);
  ASSERT_TRUE(store->Update(changed).ok());

  Result<Schedule> got = store->Get("sch_01");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->principal, "alice");
  EXPECT_EQ(got->created_at, AtMs(1000));
  EXPECT_EQ(got->updated_at, AtMs(2000));
  EXPECT_EQ(got->enabled_at, AtMs(2000));
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(got->cron, "*/5 * * * *");
  EXPECT_EQ(got->request.request.dataset, "other");
  ASSERT_TRUE(got->last_run.has_value());
  EXPECT_EQ(*got->last_run, (ScheduleRun{AtMs(5000), "T1", AtMs(5001)}));

  EXPECT_EQ(store->Update(MakeSchedule("sch_09", "alice", 1)).code(), StatusCode::kNotFound);
}

TEST_F(SqliteScheduleStoreTest, DeleteRemovesAndUnknownIsNotFound) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Create(MakeSchedule("sch_01", "alice", 1)).ok());
  ASSERT_TRUE(store->Delete("sch_01").ok());
  EXPECT_EQ(store->Get("sch_01").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Delete("sch_01").code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->List(std::nullopt)->empty());
}

TEST_F(SqliteScheduleStoreTest, ADamagedBodyIsDataLoss) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Create(MakeSchedule("sch_01", "alice", 1)).ok());
  {
    Result<Database> db = Database::Open(path_, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("UPDATE schedules SET body = '{}' WHERE id = 'sch_01'").ok());
  }
  EXPECT_EQ(store->Get("sch_01").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(store->List(std::nullopt).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace exportd
