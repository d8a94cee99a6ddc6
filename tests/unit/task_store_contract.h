// The contract every TaskStore keeps (core/task_store.h and the interfaces it joins), as one
// gtest suite parameterised by store. A store's test file instantiates it with a factory:
//
//   EXPORTD_INSTANTIATE_TASK_STORE_CONTRACT(Sqlite, (TaskStoreFactory{"Sqlite", [](auto& dir) {
//     ...open a store in `dir`...
//   }}));
//
// and links task_store_contract_test.cc, which holds the cases. Times in the cases are whole
// milliseconds (the precision a store may keep).
#ifndef EXPORTD_TESTS_UNIT_TASK_STORE_CONTRACT_H_
#define EXPORTD_TESTS_UNIT_TASK_STORE_CONTRACT_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/task_store.h"

namespace exportd {

inline const TimePoint kT0 = TimePoint{} + std::chrono::milliseconds(1'700'000'000'000);
inline const std::string kOwner = "inst_a";
inline constexpr Millis kLease{30'000};

// A Pending task created at kT0, with a filter (so that the request round-trips).
inline Task NewTask(const std::string& id, const std::string& principal = "alice",
                    const std::string& dataset = "samples", const std::string& query_hash = "h1") {
  Task t;
  t.id = id;
  t.principal = principal;
  t.request.dataset = dataset;
  t.request.filter = {Condition{"depth", FilterOp::kGt, {int64_t{3}}},
                      Condition{"ratio", FilterOp::kLt, {0.5}}};
  t.query_hash = query_hash;
  t.created_at = t.updated_at = kT0;
  return t;
}

// A Pending task created at kT0 whose end is to be notified to `notify`.
inline Task NotifyingTask(const std::string& id, Notify notify) {
  Task t;
  t.id = id;
  t.principal = "alice";
  t.request.dataset = "samples";
  t.query_hash = "h";
  t.notify = std::move(notify);
  t.created_at = t.updated_at = kT0;
  return t;
}

// Three hooks: a webhook (hook 0) and two email addresses (1, 2).
inline Notify WebhookAndTwoEmails() {
  Notify n;
  n.webhook = "http://127.0.0.1:9/hook";
  n.email = {"a@example.org", "b@example.org"};
  return n;
}

inline TransitionArgs Args(Trigger trigger, TimePoint now) {
  TransitionArgs args;
  args.trigger = trigger;
  args.now = now;
  return args;
}

// Data file `n` ("part-0000n.csv").
inline FileInfo Part(int n, int64_t rows, int64_t bytes) {
  char name[32];
  std::snprintf(name, sizeof name, "part-%05d.csv", n);
  return FileInfo{name, rows, bytes, std::string(64, static_cast<char>('a' + n)), "text/csv"};
}

// Creates task `id` with `retention` and runs it to `end` at `finished`; a Succeeded task gets
// one file and a manifest (unless `files` is false).
inline void Finish(TaskStore& store, const std::string& id, std::chrono::seconds retention,
                   TaskState end, TimePoint finished, bool files = true) {
  Task t = NewTask(id);
  t.retention = retention;
  ASSERT_TRUE(store.Create(t, {}).ok());
  Result<std::optional<Task>> claimed = store.ClaimNext(finished, kOwner, kLease);
  ASSERT_TRUE(claimed.ok() && claimed->has_value() && (*claimed)->id == id);
  TransitionArgs args = Args(Trigger::kSucceed, finished);
  if (end == TaskState::kFailed) {
    args.trigger = Trigger::kFail;
    args.error = TaskError{"source_unavailable", "gone", false};
  } else if (end == TaskState::kCancelled) {
    args.trigger = Trigger::kCancel;
  } else if (files) {
    args.files = {Part(1, 10, 100)};
    args.manifest = FileInfo{"manifest.json", 0, 10, std::string(64, 'f'), "application/json"};
  }
  Result<Task> done = store.Transition(id, args);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ASSERT_EQ(done->files_expire_at, std::optional<TimePoint>(finished + retention));
}

// Reads through store() that fail the test (and return an empty value) on an error.
class TaskStoreTestHelpers {
 public:
  virtual ~TaskStoreTestHelpers() = default;

 protected:
  virtual TaskStore& store() = 0;

  Task MustGet(const std::string& id) {
    Result<Task> task = store().Get(id);
    EXPECT_TRUE(task.ok()) << id << ": " << task.status().ToString();
    return task.ok() ? *task : Task{};
  }

  std::vector<TaskEvent> MustEvents(const std::string& id) {
    Result<std::vector<TaskEvent>> events = store().Events(id);
    EXPECT_TRUE(events.ok()) << id << ": " << events.status().ToString();
    return events.ok() ? *events : std::vector<TaskEvent>{};
  }

  std::vector<std::string> EventTypes(const std::string& id) {
    std::vector<std::string> types;
    for (const TaskEvent& e : MustEvents(id)) types.push_back(e.type);
    return types;
  }

  // ListExpiredFiles(now, limit), {"error"} on an error.
  std::vector<std::string> ExpiredFiles(TimePoint now, int limit) {
    Result<std::vector<std::string>> ids = store().ListExpiredFiles(now, limit);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? *ids : std::vector<std::string>{"error"};
  }

  // Creates two tasks with a retention of 1 s: `running`, claimed at kT0 (REQUIRES: no other task
  // is ready then), and `waiting`, left Pending.
  void CreateUnfinished(const std::string& running, const std::string& waiting) {
    for (const std::string& id : {running, waiting}) {
      Task t = NewTask(id);
      t.retention = std::chrono::seconds(1);
      ASSERT_TRUE(store().Create(t, {}).ok());
      if (id == running) {
        ASSERT_EQ(Claim(kT0), running);
      }
    }
  }

  // The id of the next task claimed by kOwner, "" if none.
  std::string Claim(TimePoint now) {
    Result<std::optional<Task>> claimed = store().ClaimNext(now, kOwner, kLease);
    EXPECT_TRUE(claimed.ok()) << claimed.status().ToString();
    if (!claimed.ok() || !claimed->has_value()) return "";
    EXPECT_EQ((*claimed)->state, TaskState::kProcessing);
    return (*claimed)->id;
  }
};

// Makes a new, empty store, keeping any file it needs in `dir` (a fresh directory, removed
// after the test); nullptr (after failing the test) if it cannot.
struct TaskStoreFactory {
  std::string name;  // the instantiation's name in test names: letters and digits
  std::function<std::unique_ptr<TaskStore>(const std::filesystem::path& dir)> make;
};

inline std::string TaskStoreFactoryName(const ::testing::TestParamInfo<TaskStoreFactory>& p) {
  return p.param.name;
}

class TaskStoreContractTest : public ::testing::TestWithParam<TaskStoreFactory>,
                              public TaskStoreTestHelpers {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "exportd-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    store_ = GetParam().make(dir_);
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TaskStore& store() override { return *store_; }

  std::filesystem::path dir_;
  std::unique_ptr<TaskStore> store_;
};

// A small trail over three tasks for the ListEvents cases.
class TaskStoreAuditTrailTest : public TaskStoreContractTest {
 protected:
  void SetUp() override;
  void Download(const std::string& id, const std::string& file, int64_t bytes,
                const std::string& outcome, const std::string& remote, TimePoint at);
  // (task_id, "type:file") of each event of the page, in its order.
  std::vector<std::pair<std::string, std::string>> Rows(const EventQuery& query);
};

// Pause and resume (task_store_pause_contract_test.cc).
class TaskStorePauseTest : public TaskStoreContractTest {
 protected:
  // Applies `trigger` to `id` at `now` (failing the test if refused); the task as stored.
  Task Move(const std::string& id, Trigger trigger, TimePoint now);
  // The code with which the store refuses `trigger` on `id`.
  StatusCode Refused(const std::string& id, Trigger trigger);
  // Claims `id` at `now` (REQUIRES: it is the next ready task) and commits one file of 10 rows
  // with its checkpoint under the claim's lease; the task as stored.
  Task ClaimWithOneFile(const std::string& id, TimePoint now);
};

// Instantiates every suite of the contract for one store.
#define EXPORTD_INSTANTIATE_TASK_STORE_CONTRACT(prefix, factory)                        \
  INSTANTIATE_TEST_SUITE_P(prefix, TaskStoreContractTest, ::testing::Values(factory),   \
                           TaskStoreFactoryName);                                       \
  INSTANTIATE_TEST_SUITE_P(prefix, TaskStoreAuditTrailTest, ::testing::Values(factory), \
                           TaskStoreFactoryName);                                       \
  INSTANTIATE_TEST_SUITE_P(prefix, TaskStorePauseTest, ::testing::Values(factory),      \
                           TaskStoreFactoryName)

}  // namespace exportd

#endif  // EXPORTD_TESTS_UNIT_TASK_STORE_CONTRACT_H_
