#include "core/scheduler.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <ostream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/ulid.h"
#include "storage/digest.h"
#include "storage/local_object_store.h"
#include "storage/sqlite_task_store.h"
#include "tests/fakes/fake_source.h"

namespace exportd {

// Readable TaskState in assertion messages (found by argument-dependent lookup).
void PrintTo(TaskState state, std::ostream* os) { *os << TaskStateName(state); }

namespace {

namespace fs = std::filesystem;
using fakes::FakeRow;
using fakes::FakeSource;
using std::chrono::milliseconds;

// Serves each export attempt from the next FakeSource of a script (the last one repeats), so a
// test can make only the first attempt fail. An attempt begins with Count(), as in RunExport.
// Thread-safe; with more than one entry in the script, one export at a time.
class ScriptedSource final : public Source {
 public:
  explicit ScriptedSource(std::vector<std::shared_ptr<FakeSource>> script)
      : script_(std::move(script)) {}

  Result<int64_t> Count(const SourceQuery& query) override {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::min(attempts_, script_.size() - 1);
    ++attempts_;
    return script_[current_]->Count(query);
  }

  Result<std::unique_ptr<RecordReader>> Read(const SourceQuery& query) override {
    std::lock_guard<std::mutex> lock(mu_);
    return script_[current_]->Read(query);
  }

  size_t attempts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return attempts_;
  }

 private:
  mutable std::mutex mu_;
  const std::vector<std::shared_ptr<FakeSource>> script_;
  size_t attempts_ = 0;  // guarded by mu_
  size_t current_ = 0;   // guarded by mu_
};

const std::vector<std::string> kColumns = {"id", "site", "depth"};

std::vector<FakeRow> MakeRows(int n) {
  std::vector<FakeRow> rows;
  for (int i = 1; i <= n; ++i) {
    rows.push_back({fakes::Num(std::to_string(i)), fakes::Text("s" + std::to_string(i)),
                    fakes::Num(std::to_string(i) + ".5")});
  }
  return rows;
}

std::shared_ptr<FakeSource> Rows(int n) {
  return std::make_shared<FakeSource>(kColumns, MakeRows(n));
}

// The CSV the export of MakeRows rows [first, last] writes into one file.
std::string Csv(int first, int last) {
  std::string out = "id,site,depth\r\n";
  for (int i = first; i <= last; ++i) {
    const std::string n = std::to_string(i);
    out += n + ",s" + n + "," + n + ".5\r\n";
  }
  return out;
}

std::string ReadFileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
template <typename Condition>
bool WaitFor(Condition condition, milliseconds timeout = milliseconds(3000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

// The "retry in N ms" of a retry event's detail, or -1.
int64_t RetryDelayOf(const TaskEvent& event) {
  std::smatch m;
  if (!std::regex_search(event.detail, m, std::regex("retry in ([0-9]+) ms"))) return -1;
  return std::stoll(m[1].str());
}

TEST(RetryDelayTest, GrowsExponentiallyUpToTheCap) {
  SchedulerOptions options;
  options.retry_base_delay = Millis(1000);
  options.retry_max_delay = Millis(60000);
  EXPECT_EQ(RetryDelay(options, 1, 1.0), Millis(1000));
  EXPECT_EQ(RetryDelay(options, 2, 1.0), Millis(2000));
  EXPECT_EQ(RetryDelay(options, 3, 1.0), Millis(4000));
  EXPECT_EQ(RetryDelay(options, 6, 1.0), Millis(32000));
  EXPECT_EQ(RetryDelay(options, 7, 1.0), Millis(60000));  // 64000 capped
  EXPECT_EQ(RetryDelay(options, 1000, 1.0), Millis(60000));
  EXPECT_EQ(RetryDelay(options, 0, 1.0), Millis(1000));  // never below the base
}

TEST(RetryDelayTest, JitterScalesWithinHalfToOne) {
  SchedulerOptions options;
  options.retry_base_delay = Millis(1000);
  options.retry_max_delay = Millis(60000);
  EXPECT_EQ(RetryDelay(options, 2, 0.5), Millis(1000));
  EXPECT_EQ(RetryDelay(options, 2, 0.75), Millis(1500));
  EXPECT_EQ(RetryDelay(options, 7, 0.5), Millis(30000));  // the cap applies before the jitter
  // Out-of-range jitter is clamped to [0.5, 1].
  EXPECT_EQ(RetryDelay(options, 2, 0.1), Millis(1000));
  EXPECT_EQ(RetryDelay(options, 2, -3.0), Millis(1000));
  EXPECT_EQ(RetryDelay(options, 2, 1.7), Millis(2000));
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "scheduler_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    root_ = base_ / "exports";
    OpenStore();
    objects_ = std::make_unique<LocalObjectStore>(
        root_.string(), std::make_shared<UrlSigner>("secret"), "http://127.0.0.1:8080");
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  void OpenStore() {
    store_.reset();
    Result<std::unique_ptr<SqliteTaskStore>> opened =
        SqliteTaskStore::Open((base_ / "tasks.db").string());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  // Adds dataset `name` (fields id, site, depth) read through `script`.
  ScriptedSource* AddDataset(const std::string& name,
                             std::vector<std::shared_ptr<FakeSource>> script) {
    auto source = std::make_shared<ScriptedSource>(std::move(script));
    auto dataset = std::make_shared<Dataset>(
        DatasetSpec{.name = name, .key = "id"},
        std::vector<Field>{Field{"id", FieldType::kInteger}, Field{"site", FieldType::kText},
                           Field{"depth", FieldType::kReal}});
    EXPECT_TRUE(catalog_.Add({dataset, source}).ok());
    return source.get();
  }

  // Stores a Pending task exporting `dataset` as CSV.
  std::string CreateTask(const std::string& dataset, int64_t max_rows_per_file) {
    Task task;
    task.id = NewUlid(clock_.Now());
    task.principal = "alice";
    task.request.dataset = dataset;
    task.request.max_rows_per_file = max_rows_per_file;
    task.query_hash = "hash-" + task.id;
    task.created_at = task.updated_at = clock_.Now();
    task.max_attempts = 3;
    Status created = store_->Create(task);
    EXPECT_TRUE(created.ok()) << created.ToString();
    return task.id;
  }

  std::unique_ptr<Scheduler> MakeScheduler(SchedulerOptions options) {
    return std::make_unique<Scheduler>(*store_, catalog_, *objects_, clock_, logger_, options);
  }

  static SchedulerOptions FastOptions() {
    SchedulerOptions options;
    options.workers = 2;
    options.retry_base_delay = Millis(20);
    options.retry_max_delay = Millis(1000);
    options.progress_interval = Millis(50);
    return options;
  }

  Task GetTask(const std::string& id) {
    Result<Task> task = store_->Get(id);
    EXPECT_TRUE(task.ok()) << task.status().ToString();
    return task.ok() ? *task : Task{};
  }

  bool WaitForState(const std::string& id, TaskState state,
                    milliseconds timeout = milliseconds(3000)) {
    return WaitFor(
        [&] {
          Result<Task> task = store_->Get(id);
          return task.ok() && task->state == state;
        },
        timeout);
  }

  std::vector<TaskEvent> Events(const std::string& id) {
    Result<std::vector<TaskEvent>> events = store_->Events(id);
    EXPECT_TRUE(events.ok()) << events.status().ToString();
    return events.ok() ? *events : std::vector<TaskEvent>{};
  }

  std::vector<std::string> EventTypes(const std::string& id) {
    std::vector<std::string> types;
    for (const TaskEvent& e : Events(id)) types.push_back(e.type);
    return types;
  }

  std::vector<TaskEvent> EventsOfType(const std::string& id, const std::string& type) {
    std::vector<TaskEvent> out;
    for (const TaskEvent& e : Events(id)) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }

  // Names in the task's object directory (sorted), including temporary files.
  std::vector<std::string> Entries(const std::string& task_id) const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root_ / task_id, ec)) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  bool HasFile(const std::string& task_id, const std::string& name) const {
    std::error_code ec;
    return fs::exists(root_ / task_id / name, ec);
  }

  // Checks that a Succeeded export of MakeRows(rows) in files of `per_file` rows is on disk
  // exactly and described exactly by the task.
  void ExpectExactFiles(const std::string& id, int rows, int per_file) {
    Task task = GetTask(id);
    ASSERT_EQ(task.state, TaskState::kSucceeded);
    std::vector<std::string> expected_entries = {"manifest.json"};
    size_t n = 0;
    for (int first = 1; first <= rows; first += per_file, ++n) {
      const int last = std::min(rows, first + per_file - 1);
      char name[32];
      std::snprintf(name, sizeof name, "part-%05zu.csv", n + 1);
      expected_entries.push_back(name);
      ASSERT_LT(n, task.files.size());
      const FileInfo& f = task.files[n];
      EXPECT_EQ(f.name, name);
      EXPECT_EQ(f.rows, last - first + 1);
      const std::string bytes = ReadFileBytes(root_ / id / name);
      EXPECT_EQ(bytes, Csv(first, last)) << name;
      EXPECT_EQ(f.bytes, static_cast<int64_t>(bytes.size()));
      EXPECT_EQ(f.sha256, Sha256Hex(bytes));
    }
    EXPECT_EQ(task.files.size(), n);
    std::sort(expected_entries.begin(), expected_entries.end());
    EXPECT_EQ(Entries(id), expected_entries);
    ASSERT_TRUE(task.manifest.has_value());
    EXPECT_EQ(task.manifest->sha256, Sha256Hex(ReadFileBytes(root_ / id / "manifest.json")));
    EXPECT_EQ(task.progress.rows, rows);
    EXPECT_FALSE(task.error.has_value());
  }

  SystemClock clock_;
  NullLogger logger_;
  fs::path base_;
  fs::path root_;
  std::unique_ptr<SqliteTaskStore> store_;
  std::unique_ptr<LocalObjectStore> objects_;
  DatasetCatalog catalog_;
};

TEST_F(SchedulerTest, RunsInCreationOrderWithAtMostWorkersAtOnce) {
  AddDataset("samples", {Rows(1000)});
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(CreateTask("samples", 400));

  SchedulerOptions options = FastOptions();
  options.workers = 3;
  options.max_rows_per_second = 2500;  // 0.4 s per export, so they overlap
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(options);
  ASSERT_TRUE(scheduler->Start().ok());

  int max_processing = 0;
  int max_running = 0;
  bool all_done = WaitFor(
      [&] {
        max_running = std::max(max_running, scheduler->running());
        Result<std::map<TaskState, int64_t>> counts = store_->CountByState();
        if (!counts.ok()) return false;
        auto count = [&](TaskState s) {
          auto it = counts->find(s);
          return it == counts->end() ? 0 : static_cast<int>(it->second);
        };
        max_processing = std::max(max_processing, count(TaskState::kProcessing));
        return count(TaskState::kSucceeded) == 5;
      },
      milliseconds(4000));
  ASSERT_TRUE(all_done);
  EXPECT_EQ(max_processing, 3);
  EXPECT_LE(max_running, 3);

  // Started in creation order: the "start" events' store sequence and the start times.
  int64_t previous_seq = 0;
  TimePoint previous_start{};
  for (const std::string& id : ids) {
    std::vector<TaskEvent> starts = EventsOfType(id, "start");
    ASSERT_EQ(starts.size(), 1u) << id;
    EXPECT_GT(starts[0].seq, previous_seq) << id;
    previous_seq = starts[0].seq;
    Task task = GetTask(id);
    ASSERT_TRUE(task.started_at.has_value());
    EXPECT_GE(*task.started_at, previous_start);
    previous_start = *task.started_at;
    EXPECT_EQ(task.attempts, 1);
    ExpectExactFiles(id, 1000, 400);
  }
  EXPECT_EQ(scheduler->rows_exported(), 5000);
}

TEST_F(SchedulerTest, TransientFailureIsRetriedThenSucceeds) {
  auto first = Rows(10);
  first->FailAtRow(5, Unavailable("database is locked"));  // after part-00001 is committed
  ScriptedSource* source = AddDataset("samples", {first, Rows(10)});
  const std::string id = CreateTask("samples", 3);
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(FastOptions());
  ASSERT_TRUE(scheduler->Start().ok());

  ASSERT_TRUE(WaitForState(id, TaskState::kSucceeded));
  EXPECT_EQ(source->attempts(), 2u);
  Task task = GetTask(id);
  EXPECT_EQ(task.attempts, 2);
  ExpectExactFiles(id, 10, 3);
  EXPECT_EQ(EventTypes(id),
            (std::vector<std::string>{"created", "start", "retry", "start", "succeed"}));

  std::vector<TaskEvent> events = Events(id);
  const TaskEvent& retry = events[2];
  EXPECT_EQ(retry.from, TaskState::kProcessing);
  EXPECT_EQ(retry.to, TaskState::kPending);
  EXPECT_NE(retry.detail.find("unavailable: database is locked"), std::string::npos)
      << retry.detail;
  // First retry: base 20 ms scaled by a jitter in [0.5, 1]; the next start waits for it.
  const int64_t delay = RetryDelayOf(retry);
  EXPECT_GE(delay, 10);
  EXPECT_LE(delay, 20);
  EXPECT_GE(events[3].at - retry.at, Millis(delay));
}

TEST_F(SchedulerTest, AlwaysTransientFailsAfterMaxAttempts) {
  auto failing = Rows(10);
  failing->FailRead(Unavailable("source is busy"));
  ScriptedSource* source = AddDataset("samples", {failing});
  const std::string id = CreateTask("samples", 3);
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(FastOptions());
  ASSERT_TRUE(scheduler->Start().ok());

  ASSERT_TRUE(WaitForState(id, TaskState::kFailed));
  Task task = GetTask(id);
  EXPECT_EQ(task.attempts, task.max_attempts);
  EXPECT_EQ(task.attempts, 3);
  EXPECT_EQ(source->attempts(), 3u);
  ASSERT_TRUE(task.error.has_value());
  EXPECT_EQ(task.error->code, "unavailable");
  EXPECT_EQ(task.error->message, "source is busy");
  EXPECT_TRUE(task.error->retryable);
  EXPECT_TRUE(task.files.empty());
  EXPECT_TRUE(task.finished_at.has_value());
  EXPECT_TRUE(Entries(id).empty());

  std::vector<TaskEvent> retries = EventsOfType(id, "retry");
  ASSERT_EQ(retries.size(), 2u);
  // Exponential: attempt 1 waits base * [0.5, 1], attempt 2 twice that.
  EXPECT_GE(RetryDelayOf(retries[0]), 10);
  EXPECT_LE(RetryDelayOf(retries[0]), 20);
  EXPECT_GE(RetryDelayOf(retries[1]), 20);
  EXPECT_LE(RetryDelayOf(retries[1]), 40);
  EXPECT_EQ(EventsOfType(id, "fail").size(), 1u);
}

TEST_F(SchedulerTest, PermanentFailureFailsAtOnce) {
  auto broken = Rows(10);
  broken->FailCount(FailedPrecondition("no such table: samples"));
  ScriptedSource* source = AddDataset("samples", {broken});
  const std::string id = CreateTask("samples", 3);
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(FastOptions());
  ASSERT_TRUE(scheduler->Start().ok());

  ASSERT_TRUE(WaitForState(id, TaskState::kFailed));
  Task task = GetTask(id);
  EXPECT_EQ(task.attempts, 1);
  EXPECT_EQ(source->attempts(), 1u);
  ASSERT_TRUE(task.error.has_value());
  EXPECT_EQ(task.error->code, "failed_precondition");
  EXPECT_FALSE(task.error->retryable);
  EXPECT_EQ(EventTypes(id), (std::vector<std::string>{"created", "start", "fail"}));
}

TEST_F(SchedulerTest, DatasetNoLongerConfiguredFailsPermanently) {
  const std::string id = CreateTask("gone", 3);
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(FastOptions());
  ASSERT_TRUE(scheduler->Start().ok());
  ASSERT_TRUE(WaitForState(id, TaskState::kFailed));
  Task task = GetTask(id);
  EXPECT_EQ(task.attempts, 1);
  ASSERT_TRUE(task.error.has_value());
  EXPECT_FALSE(task.error->retryable);
}

TEST_F(SchedulerTest, CancelStopsARunningExportAndRemovesItsFiles) {
  AddDataset("samples", {Rows(1000)});
  const std::string id = CreateTask("samples", 100);
  SchedulerOptions options = FastOptions();
  options.max_rows_per_second = 400;  // 2.5 s in all; a file every 0.25 s
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(options);
  EXPECT_FALSE(scheduler->Cancel(id));  // not running here
  ASSERT_TRUE(scheduler->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return HasFile(id, "part-00001.csv"); }));
  EXPECT_EQ(scheduler->running(), 1);

  const auto asked = std::chrono::steady_clock::now();
  EXPECT_TRUE(scheduler->Cancel(id));
  ASSERT_TRUE(WaitForState(id, TaskState::kCancelled, milliseconds(2000)));
  EXPECT_LT(std::chrono::steady_clock::now() - asked, milliseconds(2000));
  EXPECT_TRUE(WaitFor([&] { return scheduler->running() == 0; }));
  Task task = GetTask(id);
  EXPECT_TRUE(task.files.empty());
  EXPECT_FALSE(task.manifest.has_value());
  EXPECT_TRUE(Entries(id).empty());
  EXPECT_EQ(EventTypes(id), (std::vector<std::string>{"created", "start", "cancel"}));
  EXPECT_EQ(scheduler->rows_exported(), 0);
}

TEST_F(SchedulerTest, CancelRequestedThroughTheStoreIsNoticedWithinAProgressTick) {
  AddDataset("samples", {Rows(1000)});
  const std::string id = CreateTask("samples", 100);
  SchedulerOptions options = FastOptions();
  options.max_rows_per_second = 400;
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(options);
  ASSERT_TRUE(scheduler->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return HasFile(id, "part-00001.csv"); }));

  // As another instance would: only the store knows.
  ASSERT_TRUE(store_->RequestCancel(id, clock_.Now()).ok());
  ASSERT_TRUE(WaitForState(id, TaskState::kCancelled, milliseconds(2000)));
  EXPECT_TRUE(Entries(id).empty());
}

TEST_F(SchedulerTest, StopPutsARunningExportBackAndTheNextSchedulerFinishesIt) {
  AddDataset("samples", {Rows(1000)});
  const std::string id = CreateTask("samples", 100);
  {
    SchedulerOptions options = FastOptions();
    options.max_rows_per_second = 400;
    std::unique_ptr<Scheduler> scheduler = MakeScheduler(options);
    ASSERT_TRUE(scheduler->Start().ok());
    ASSERT_TRUE(WaitFor([&] { return HasFile(id, "part-00001.csv"); }));
    scheduler->Stop();
    EXPECT_EQ(scheduler->running(), 0);
    scheduler->Stop();  // idempotent
  }
  Task interrupted = GetTask(id);
  EXPECT_EQ(interrupted.state, TaskState::kPending);
  EXPECT_EQ(interrupted.attempts, 1);
  EXPECT_FALSE(interrupted.error.has_value());
  EXPECT_TRUE(Entries(id).empty());
  std::vector<TaskEvent> events = Events(id);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, "recover");
  EXPECT_EQ(events.back().from, TaskState::kProcessing);
  EXPECT_EQ(events.back().to, TaskState::kPending);

  OpenStore();  // as after a restart
  std::unique_ptr<Scheduler> next = MakeScheduler(FastOptions());
  ASSERT_TRUE(next->Start().ok());
  ASSERT_TRUE(WaitForState(id, TaskState::kSucceeded));
  EXPECT_EQ(GetTask(id).attempts, 2);
  ExpectExactFiles(id, 1000, 100);
  EXPECT_EQ(EventTypes(id),
            (std::vector<std::string>{"created", "start", "recover", "start", "succeed"}));
}

TEST_F(SchedulerTest, StartRecoversTasksLeftProcessing) {
  AddDataset("samples", {Rows(7)});
  const std::string id = CreateTask("samples", 5);
  // An earlier process claimed it and died.
  Result<std::optional<Task>> claimed = store_->ClaimNext(clock_.Now());
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  ASSERT_EQ((*claimed)->id, id);
  ASSERT_EQ(GetTask(id).state, TaskState::kProcessing);

  std::unique_ptr<Scheduler> scheduler = MakeScheduler(FastOptions());
  ASSERT_TRUE(scheduler->Start().ok());
  ASSERT_TRUE(WaitForState(id, TaskState::kSucceeded));
  EXPECT_EQ(EventTypes(id),
            (std::vector<std::string>{"created", "start", "recover", "start", "succeed"}));
  EXPECT_EQ(GetTask(id).attempts, 2);
  ExpectExactFiles(id, 7, 5);
}

TEST_F(SchedulerTest, SecondStartIsRefusedAndLeavesRunningExportsAlone) {
  AddDataset("samples", {Rows(200)});
  const std::string id = CreateTask("samples", 50);
  SchedulerOptions options = FastOptions();
  options.max_rows_per_second = 400;  // 0.5 s
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(options);
  ASSERT_TRUE(scheduler->Start().ok());
  ASSERT_TRUE(WaitForState(id, TaskState::kProcessing));

  EXPECT_EQ(scheduler->Start().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetTask(id).state, TaskState::kProcessing);
  ASSERT_TRUE(WaitForState(id, TaskState::kSucceeded));
  EXPECT_EQ(GetTask(id).attempts, 1);
  EXPECT_EQ(EventTypes(id), (std::vector<std::string>{"created", "start", "succeed"}));
  ExpectExactFiles(id, 200, 50);

  scheduler->Stop();
  EXPECT_EQ(scheduler->Start().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SchedulerTest, IdleWorkersWakeOnWake) {
  AddDataset("samples", {Rows(3)});
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(FastOptions());
  ASSERT_TRUE(scheduler->Start().ok());
  // Whether a worker has gone to sleep cannot be observed; give them time to find no work.
  std::this_thread::sleep_for(milliseconds(200));

  const std::string id = CreateTask("samples", 10);
  // Without a wake-up nothing looks at the queue: idle workers do not poll.
  EXPECT_FALSE(
      WaitFor([&] { return GetTask(id).state != TaskState::kPending; }, milliseconds(300)));

  const auto woken = std::chrono::steady_clock::now();
  scheduler->Wake();
  ASSERT_TRUE(WaitForState(id, TaskState::kSucceeded, milliseconds(1000)));
  EXPECT_LT(std::chrono::steady_clock::now() - woken, milliseconds(1000));
  ExpectExactFiles(id, 3, 10);
}

}  // namespace
}  // namespace exportd
