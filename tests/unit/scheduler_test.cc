#include "core/scheduler.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <regex>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "core/retention_janitor.h"
#include "core/ulid.h"
#include "storage/base/digest.h"
#include "storage/fs/local_object_store.h"
#include "storage/sqlite/sqlite_task_store.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_source.h"
#include "tests/fakes/flaky_delete_store.h"
#include "tests/fakes/forwarding_task_store.h"
#include "tests/fakes/memory_task_store.h"
#include "tests/unit/open_sqlite_task_store.h"

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
  Result<SourceSummary> Summarize(const SourceQuery& query,
                                  const std::vector<std::string>& count_distinct) override {
    std::lock_guard<std::mutex> lock(mu_);
    return script_[current_]->Summarize(query, count_distinct);
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

// A Source whose first reader stops before row `gate_row` (1-based key) until Release(): a
// worker frozen in the middle of a file. Later readers pass freely. Thread-safe.
class GatedSource final : public Source {
 public:
  GatedSource(std::shared_ptr<FakeSource> inner, int64_t gate_row)
      : inner_(std::move(inner)), gate_row_(gate_row) {}

  Result<int64_t> Count(const SourceQuery& query) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_->Count(query);
  }
  Result<SourceSummary> Summarize(const SourceQuery& query,
                                  const std::vector<std::string>& count_distinct) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_->Summarize(query, count_distinct);
  }

  Result<std::unique_ptr<RecordReader>> Read(const SourceQuery& query) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader, inner_->Read(query));
    const bool gated = !armed_;
    armed_ = true;
    int64_t after = 0;
    if (query.after_key) after = std::get<int64_t>(*query.after_key);
    return std::unique_ptr<RecordReader>(
        std::make_unique<Reader>(*this, std::move(reader), gated, after));
  }

  // Waits until the gated reader is stopped at the gate; false after `timeout`.
  bool WaitUntilReached(milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return reached_; });
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }

 private:
  class Reader final : public RecordReader {
   public:
    Reader(GatedSource& source, std::unique_ptr<RecordReader> inner, bool gated, int64_t after)
        : source_(source), inner_(std::move(inner)), gated_(gated), last_(after) {}
    bool Next() override {
      if (gated_ && last_ + 1 == source_.gate_row_) {
        std::unique_lock<std::mutex> lock(source_.mu_);
        source_.reached_ = true;
        source_.cv_.notify_all();
        source_.cv_.wait(lock, [&] { return source_.released_; });
      }
      if (!inner_->Next()) return false;
      last_ = std::get<int64_t>(inner_->key());
      return true;
    }
    std::span<const Cell> row() const override { return inner_->row(); }
    FilterValue key() const override { return inner_->key(); }
    Status status() const override { return inner_->status(); }

   private:
    GatedSource& source_;
    std::unique_ptr<RecordReader> inner_;
    const bool gated_;
    int64_t last_;
  };

  std::mutex mu_;
  std::condition_variable cv_;
  const std::shared_ptr<FakeSource> inner_;  // guarded by mu_ (FakeSource is not thread-safe)
  const int64_t gate_row_;
  bool armed_ = false;     // guarded by mu_
  bool reached_ = false;   // guarded by mu_
  bool released_ = false;  // guarded by mu_
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

// What the scheduler reports for /metrics (core/telemetry.h), one line per call, in order.
class RecordingTelemetry final : public Telemetry {
 public:
  void ExportRunEnded(std::string_view dataset, std::string_view outcome, double seconds) override {
    EXPECT_GE(seconds, 0);
    Add("run " + std::string(dataset) + " " + std::string(outcome));
  }
  void ExportSucceeded(std::string_view dataset, int64_t rows, int64_t bytes) override {
    Add("exported " + std::string(dataset) + " " + std::to_string(rows) + " rows " +
        std::to_string(bytes) + " bytes");
  }
  void RetryScheduled(std::string_view code) override { Add("retry " + std::string(code)); }
  void LeasesExpired(int64_t count) override { Add("lease_expired " + std::to_string(count)); }
  void TasksRecovered(std::string_view reason, int64_t count) override {
    Add("recovered " + std::string(reason) + " " + std::to_string(count));
  }

  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  // Waits until `n` lines were reported (they follow the transition the test sees).
  std::vector<std::string> WaitForLines(size_t n) const {
    WaitFor([&] { return lines().size() >= n; });
    return lines();
  }

 private:
  void Add(std::string line) {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(std::move(line));
  }
  mutable std::mutex mu_;
  std::vector<std::string> lines_;  // guarded by mu_
};

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

  // The store the schedulers use: an in-memory one, unless a test needs SQLite's (a restart).
  virtual std::unique_ptr<TaskStore> MakeStore() {
    return std::make_unique<fakes::MemoryTaskStore>();
  }

  // Opens the store anew (after a restart, on a SqliteTaskStore).
  void OpenStore() {
    store_.reset();
    store_ = MakeStore();
    ASSERT_NE(store_, nullptr);
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
    Status created = store_->Create(task, {});
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

  // FastOptions() throttled to `rows_per_second` per export.
  static SchedulerOptions Throttled(int64_t rows_per_second) {
    SchedulerOptions options = FastOptions();
    options.max_rows_per_second = rows_per_second;
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

  // Event types without the "checkpoint" events (one per committed file).
  std::vector<std::string> EventTypes(const std::string& id) {
    std::vector<std::string> types;
    for (const TaskEvent& e : Events(id)) {
      if (e.type != "checkpoint") types.push_back(e.type);
    }
    return types;
  }

  // How often each file was recorded as committed, by name.
  std::map<std::string, int> CheckpointCounts(const std::string& id) {
    std::map<std::string, int> counts;
    for (const TaskEvent& e : EventsOfType(id, "checkpoint")) {
      ++counts[e.detail.substr(0, e.detail.find(':'))];
    }
    return counts;
  }

  // The inode of a committed file: a file rewritten by a later attempt gets a new one.
  ino_t Inode(const std::string& task_id, const std::string& name) const {
    struct stat st {};
    if (::stat((root_ / task_id / name).c_str(), &st) != 0) return 0;
    return st.st_ino;
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
  std::unique_ptr<TaskStore> store_;
  std::unique_ptr<LocalObjectStore> objects_;
  DatasetCatalog catalog_;
};

// The fixture on a SQLite file, for tests of a restart (a new store on the same file).
class SchedulerOnSqliteTest : public SchedulerTest {
 protected:
  std::unique_ptr<TaskStore> MakeStore() override {
    return OpenSqliteTaskStore((base_ / "tasks.db").string());
  }
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
  RecordingTelemetry telemetry;
  SchedulerOptions options = FastOptions();
  options.telemetry = &telemetry;
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(options);
  ASSERT_TRUE(scheduler->Start().ok());

  ASSERT_TRUE(WaitForState(id, TaskState::kSucceeded));
  EXPECT_EQ(source->attempts(), 2u);
  Task task = GetTask(id);
  EXPECT_EQ(task.attempts, 2);
  ExpectExactFiles(id, 10, 3);
  int64_t bytes = 0;
  for (const FileInfo& f : task.files) bytes += f.bytes;
  EXPECT_EQ(
      telemetry.WaitForLines(4),
      (std::vector<std::string>{"run samples retry", "retry unavailable", "run samples succeeded",
                                "exported samples 10 rows " + std::to_string(bytes) + " bytes"}));
  EXPECT_EQ(EventTypes(id),
            (std::vector<std::string>{"created", "start", "retry", "start", "succeed"}));
  // The retry resumed after part-00001 (rows 1-3) instead of writing it again.
  EXPECT_EQ(CheckpointCounts(id), (std::map<std::string, int>{{"part-00001.csv", 1},
                                                              {"part-00002.csv", 1},
                                                              {"part-00003.csv", 1},
                                                              {"part-00004.csv", 1}}));
  std::vector<TaskEvent> starts = EventsOfType(id, "start");
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_NE(starts[1].detail.find("resume at file 2 after 3 rows"), std::string::npos)
      << starts[1].detail;

  std::vector<TaskEvent> retries = EventsOfType(id, "retry");
  ASSERT_EQ(retries.size(), 1u);
  const TaskEvent& retry = retries[0];
  EXPECT_EQ(retry.from, TaskState::kProcessing);
  EXPECT_EQ(retry.to, TaskState::kPending);
  EXPECT_NE(retry.detail.find("unavailable: database is locked"), std::string::npos)
      << retry.detail;
  // First retry: base 20 ms scaled by a jitter in [0.5, 1]; the next start waits for it.
  const int64_t delay = RetryDelayOf(retry);
  EXPECT_GE(delay, 10);
  EXPECT_LE(delay, 20);
  EXPECT_GE(starts[1].at - retry.at, Millis(delay));
}

// A claim that finds nothing takes so long that the retry falls due before the worker asks
// when to wake up: the worker must still wake for it rather than sleep until the next Wake().
TEST_F(SchedulerTest, ARetryThatFallsDueDuringAnEmptyClaimIsNotMissed) {
  class SlowEmptyClaims final : public fakes::ForwardingTaskStore {
   public:
    SlowEmptyClaims(TaskStore& inner, fakes::FakeClock& clock)
        : ForwardingTaskStore(inner), clock_(clock) {}
    Result<std::optional<Task>> ClaimNext(TimePoint now, const std::string& owner,
                                          Millis lease) override {
      Result<std::optional<Task>> claimed = ForwardingTaskStore::ClaimNext(now, owner, lease);
      if (claimed.ok() && !claimed->has_value()) clock_.Advance(std::chrono::seconds(1));
      return claimed;
    }

   private:
    fakes::FakeClock& clock_;
  };
  fakes::FakeClock clock(SystemClock().Now());
  SlowEmptyClaims store(*store_, clock);
  auto first = Rows(10);
  first->FailAtRow(5, Unavailable("database is locked"));
  AddDataset("samples", {first, Rows(10)});
  const std::string id = CreateTask("samples", 3);
  SchedulerOptions options = FastOptions();
  options.workers = 1;
  Scheduler scheduler(store, catalog_, *objects_, clock, logger_, options);
  ASSERT_TRUE(scheduler.Start().ok());

  ASSERT_TRUE(WaitForState(id, TaskState::kSucceeded));
  EXPECT_EQ(EventTypes(id),
            (std::vector<std::string>{"created", "start", "retry", "start", "succeed"}));
  ExpectExactFiles(id, 10, 3);
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

// Issue 16, item 10: the files of a failed task whose removal failed used to stay forever. The
// failure is recorded with the task (files_to_remove) and the retention janitor retries the
// removal, also after a restart, until it succeeds.
TEST_F(SchedulerOnSqliteTest, FilesAFailedTaskCouldNotRemoveAreRemovedByTheJanitorLater) {
  auto broken = Rows(10);
  broken->FailAtRow(5, FailedPrecondition("no such column: depth"));  // after part-00001
  AddDataset("samples", {broken});
  const std::string id = CreateTask("samples", 3);
  fakes::FlakyDeleteStore flaky(*objects_);
  flaky.passes = 1;    // the attempt's own clean-up at its start
  flaky.failures = 2;  // the scheduler's removal after the failure, then the janitor's first try
  {
    Scheduler scheduler(*store_, catalog_, flaky, clock_, logger_, FastOptions());
    ASSERT_TRUE(scheduler.Start().ok());
    ASSERT_TRUE(WaitForState(id, TaskState::kFailed));
    scheduler.Stop();
  }
  EXPECT_TRUE(HasFile(id, "part-00001.csv")) << "the removal was to fail";
  EXPECT_TRUE(GetTask(id).files_to_remove);
  EXPECT_TRUE(GetTask(id).files.empty());

  // A restart: a new store on the same file still knows.
  store_.reset();
  Result<std::unique_ptr<SqliteTaskStore>> reopened =
      SqliteTaskStore::Open((base_ / "tasks.db").string());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  store_ = std::move(reopened).value();
  RetentionJanitor janitor(*store_, *store_, flaky, clock_, logger_, RetentionJanitorOptions{});
  JanitorRunStats first = janitor.RunOnce();
  EXPECT_EQ(first.failed, 1);
  EXPECT_EQ(first.removed, 0);
  EXPECT_TRUE(HasFile(id, "part-00001.csv"));
  JanitorRunStats second = janitor.RunOnce();
  EXPECT_EQ(second.removed, 1);
  EXPECT_EQ(second.failed, 0);
  EXPECT_TRUE(Entries(id).empty());
  Task task = GetTask(id);
  EXPECT_FALSE(task.files_to_remove);
  EXPECT_EQ(task.state, TaskState::kFailed);
  EXPECT_EQ(EventTypes(id), (std::vector<std::string>{"created", "start", "fail"}));
  // Nothing left to retry.
  const int calls = flaky.delete_calls;
  JanitorRunStats third = janitor.RunOnce();
  EXPECT_EQ(third.removed + third.failed + third.expired, 0);
  EXPECT_EQ(flaky.delete_calls, calls);
}

// A removal that works at once leaves nothing for the janitor.
TEST_F(SchedulerTest, AFailedTaskWhoseFilesAreRemovedAtOnceIsNotRetried) {
  auto broken = Rows(10);
  broken->FailAtRow(5, FailedPrecondition("no such column: depth"));
  AddDataset("samples", {broken});
  const std::string id = CreateTask("samples", 3);
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(FastOptions());
  ASSERT_TRUE(scheduler->Start().ok());
  ASSERT_TRUE(WaitForState(id, TaskState::kFailed));
  EXPECT_TRUE(WaitFor([&] { return !GetTask(id).files_to_remove; }));
  EXPECT_TRUE(Entries(id).empty());
  Result<std::vector<std::string>> listed = store_->ListExpiredFiles(clock_.Now(), 10);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
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
  EXPECT_FALSE(task.checkpoint.has_value());
  // Removed just after the cancellation is recorded (never before: see Scheduler::Finish).
  EXPECT_TRUE(WaitFor([&] { return Entries(id).empty(); }, milliseconds(2000)));
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
  ASSERT_TRUE(store_->RequestCancel(id, clock_.Now(), {}).ok());
  ASSERT_TRUE(WaitForState(id, TaskState::kCancelled, milliseconds(2000)));
  EXPECT_TRUE(WaitFor([&] { return Entries(id).empty(); }, milliseconds(2000)));
}

TEST_F(SchedulerOnSqliteTest, StopPutsARunningExportBackAndTheNextSchedulerResumesIt) {
  AddDataset("samples", {Rows(1000)});
  const std::string id = CreateTask("samples", 100);
  ino_t first_inode = 0;
  {
    SchedulerOptions options = FastOptions();
    options.max_rows_per_second = 400;
    std::unique_ptr<Scheduler> scheduler = MakeScheduler(options);
    ASSERT_TRUE(scheduler->Start().ok());
    ASSERT_TRUE(WaitFor([&] { return !GetTask(id).files.empty(); }));
    first_inode = Inode(id, "part-00001.csv");
    scheduler->Stop();  // no drain: stops at the next safe point
    EXPECT_EQ(scheduler->running(), 0);
    scheduler->Stop();  // idempotent
  }
  Task interrupted = GetTask(id);
  EXPECT_EQ(interrupted.state, TaskState::kPending);
  // Stopped before it could end: a recovery, not an attempt.
  EXPECT_EQ(interrupted.attempts, 0);
  EXPECT_EQ(interrupted.recoveries, 1);
  EXPECT_FALSE(interrupted.error.has_value());
  EXPECT_FALSE(interrupted.lease.has_value());
  // The committed files stay, described by the checkpoint; the partial one is gone.
  ASSERT_FALSE(interrupted.files.empty());
  ASSERT_TRUE(interrupted.checkpoint.has_value());
  EXPECT_EQ(interrupted.checkpoint->next_file, static_cast<int>(interrupted.files.size()) + 1);
  std::vector<std::string> names;
  for (const FileInfo& f : interrupted.files) names.push_back(f.name);
  EXPECT_EQ(Entries(id), names);
  std::vector<TaskEvent> events = Events(id);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, "recover");
  EXPECT_EQ(events.back().from, TaskState::kProcessing);
  EXPECT_EQ(events.back().to, TaskState::kPending);
  EXPECT_NE(events.back().detail.find("resumes at file"), std::string::npos)
      << events.back().detail;

  OpenStore();  // as after a restart
  std::unique_ptr<Scheduler> next = MakeScheduler(FastOptions());
  ASSERT_TRUE(next->Start().ok());
  ASSERT_TRUE(WaitForState(id, TaskState::kSucceeded));
  EXPECT_EQ(GetTask(id).attempts, 1);
  EXPECT_EQ(GetTask(id).recoveries, 1);
  ExpectExactFiles(id, 1000, 100);
  EXPECT_EQ(Inode(id, "part-00001.csv"), first_inode) << "part-00001.csv was rewritten";
  for (const auto& [name, count] : CheckpointCounts(id)) EXPECT_EQ(count, 1) << name;
  EXPECT_EQ(EventTypes(id),
            (std::vector<std::string>{"created", "start", "recover", "start", "succeed"}));
}

TEST_F(SchedulerTest, DrainLetsTheExportReachItsNextCheckpoint) {
  AddDataset("samples", {Rows(1000)});
  const std::string id = CreateTask("samples", 300);
  SchedulerOptions options = FastOptions();
  options.max_rows_per_second = 400;  // a file every 0.75 s
  RecordingTelemetry telemetry;
  options.telemetry = &telemetry;
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(options);
  ASSERT_TRUE(scheduler->Start().ok());
  // Inside file 1: 256 rows reported, none committed yet.
  ASSERT_TRUE(WaitFor([&] { return GetTask(id).progress.rows == 256; }));

  const auto asked = std::chrono::steady_clock::now();
  scheduler->Stop(Millis(10'000));
  // Stopped at the next checkpoint, long before the drain timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - asked, milliseconds(2000));
  Task drained = GetTask(id);
  EXPECT_EQ(drained.state, TaskState::kPending);
  ASSERT_TRUE(drained.checkpoint.has_value());
  // The file in progress was finished, not thrown away (or, had it just been committed, the
  // next one: a drain stops only at a checkpoint).
  EXPECT_GT(drained.checkpoint->rows, 256);
  EXPECT_EQ(drained.checkpoint->rows % 300, 0);
  std::vector<std::string> names;
  for (const FileInfo& f : drained.files) names.push_back(f.name);
  EXPECT_EQ(Entries(id), names);  // no partial file, no manifest
  const TaskEvent last = Events(id).back();
  EXPECT_EQ(last.type, "recover");
  EXPECT_NE(last.detail.find("drained"), std::string::npos) << last.detail;
  // The drained run gave its attempt back (issue 16, item 13).
  EXPECT_EQ(drained.attempts, 0);
  EXPECT_EQ(drained.recoveries, 1);
  EXPECT_EQ(telemetry.lines(),
            (std::vector<std::string>{"run samples interrupted", "recovered shutdown 1"}))
      << "reported before Stop() returned";

  // A new scheduler (as after a restart) resumes it.
  std::unique_ptr<Scheduler> next = MakeScheduler(FastOptions());
  ASSERT_TRUE(next->Start().ok());
  ASSERT_TRUE(WaitForState(id, TaskState::kSucceeded));
  ExpectExactFiles(id, 1000, 300);
  for (const auto& [name, count] : CheckpointCounts(id)) EXPECT_EQ(count, 1) << name;
}

TEST_F(SchedulerTest, PauseStopsAfterTheFileBeingWrittenAndResumeFinishesExactly) {
  AddDataset("samples", {Rows(1000)});
  AddDataset("small", {Rows(5)});
  const std::string id = CreateTask("samples", 300);
  const SchedulerOptions options = Throttled(400);  // a file every 0.75 s
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(options);
  EXPECT_FALSE(scheduler->Pause(id));  // not running here
  ASSERT_TRUE(scheduler->Start().ok());
  // Inside file 1: 256 rows reported, none committed yet.
  ASSERT_TRUE(WaitFor([&] { return GetTask(id).progress.rows == 256; }));

  const auto asked = std::chrono::steady_clock::now();
  ASSERT_TRUE(store_->RequestPause(id, clock_.Now(), EventOrigin{"alice", ""}).ok());
  EXPECT_TRUE(scheduler->Pause(id));
  ASSERT_TRUE(WaitForState(id, TaskState::kPaused, milliseconds(2000)));
  EXPECT_LT(std::chrono::steady_clock::now() - asked, milliseconds(2000));
  EXPECT_TRUE(WaitFor([&] { return scheduler->running() == 0; }));
  Task paused = GetTask(id);
  // The file being written was finished and kept, not thrown away.
  ASSERT_TRUE(paused.checkpoint.has_value());
  EXPECT_GT(paused.checkpoint->rows, 256);
  EXPECT_EQ(paused.checkpoint->rows % 300, 0);
  std::vector<std::string> names;
  for (const FileInfo& f : paused.files) names.push_back(f.name);
  EXPECT_EQ(Entries(id), names);  // no partial file, no manifest
  EXPECT_EQ(paused.attempts, 0);  // pausing spends no attempt
  EXPECT_EQ(paused.recoveries, 0);
  EXPECT_FALSE(paused.lease.has_value());
  EXPECT_FALSE(paused.pause_requested);
  const TaskEvent last = Events(id).back();
  EXPECT_EQ(last.type, "pause");
  EXPECT_EQ(last.from, TaskState::kProcessing);
  EXPECT_EQ(last.to, TaskState::kPaused);
  EXPECT_EQ(last.actor, options.instance_id);
  // Paused stays paused: nothing claims it. A task created after it is claimed and finishes
  // meanwhile, so the workers did look at the queue.
  const std::string later = CreateTask("small", 5);
  scheduler->Wake();
  ASSERT_TRUE(WaitForState(later, TaskState::kSucceeded, milliseconds(5000)));
  EXPECT_EQ(GetTask(id).state, TaskState::kPaused);

  ASSERT_TRUE(store_->Transition(id, {.trigger = Trigger::kResume, .now = clock_.Now()}).ok());
  scheduler->Wake();
  ASSERT_TRUE(WaitForState(id, TaskState::kSucceeded, milliseconds(5000)));
  // Exactly the rows and files of an uninterrupted run, each file committed once.
  ExpectExactFiles(id, 1000, 300);
  for (const auto& [name, count] : CheckpointCounts(id)) EXPECT_EQ(count, 1) << name;
  EXPECT_EQ(GetTask(id).attempts, 1);
  EXPECT_EQ(EventTypes(id), (std::vector<std::string>{"created", "start", "pause_requested",
                                                      "pause", "resume", "start", "succeed"}));
}

TEST_F(SchedulerTest, PauseRequestedThroughTheStoreIsNoticedByTheWorker) {
  AddDataset("samples", {Rows(1000)});
  const std::string id = CreateTask("samples", 100);
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(Throttled(400));  // a file every 0.25 s
  ASSERT_TRUE(scheduler->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return HasFile(id, "part-00001.csv"); }));
  // As another instance would: only the store knows.
  ASSERT_TRUE(store_->RequestPause(id, clock_.Now(), {}).ok());
  ASSERT_TRUE(WaitForState(id, TaskState::kPaused, milliseconds(2000)));
  Task paused = GetTask(id);
  EXPECT_FALSE(paused.files.empty());
  EXPECT_EQ(paused.checkpoint->rows % 100, 0);
  // Cancelling the Paused task removes its files (the janitor's work: files_to_remove).
  Result<Task> cancelled =
      store_->Transition(id, {.trigger = Trigger::kCancel, .now = clock_.Now()});
  ASSERT_TRUE(cancelled.ok());
  EXPECT_TRUE(cancelled->files_to_remove);
  EXPECT_TRUE(cancelled->files.empty());
}

TEST_F(SchedulerTest, DrainTimeoutStopsMidFileAndDiscardsThePartialFile) {
  AddDataset("samples", {Rows(1000)});
  const std::string id = CreateTask("samples", 100);
  SchedulerOptions options = FastOptions();
  options.max_rows_per_second = 50;  // 2 s per file
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(options);
  ASSERT_TRUE(scheduler->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return GetTask(id).files.size() == 1; }, milliseconds(5000)));

  const auto asked = std::chrono::steady_clock::now();
  scheduler->Stop(Millis(200));
  EXPECT_LT(std::chrono::steady_clock::now() - asked, milliseconds(1500));
  Task stopped = GetTask(id);
  EXPECT_EQ(stopped.state, TaskState::kPending);
  EXPECT_EQ(stopped.files.size(), 1u);
  EXPECT_EQ(Entries(id), std::vector<std::string>{"part-00001.csv"});
  EXPECT_NE(Events(id).back().detail.find("resumes at file 2"), std::string::npos)
      << Events(id).back().detail;
}

TEST_F(SchedulerTest, StartRecoversTasksLeftProcessing) {
  AddDataset("samples", {Rows(7)});
  const std::string id = CreateTask("samples", 5);
  // An earlier process of this instance claimed it and died.
  Result<std::optional<Task>> claimed =
      store_->ClaimNext(clock_.Now(), SchedulerOptions().instance_id, Millis(30'000));
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  ASSERT_EQ((*claimed)->id, id);
  ASSERT_EQ(GetTask(id).state, TaskState::kProcessing);

  RecordingTelemetry telemetry;
  SchedulerOptions options = FastOptions();
  options.telemetry = &telemetry;
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(options);
  ASSERT_TRUE(scheduler->Start().ok());
  EXPECT_EQ(telemetry.lines(), (std::vector<std::string>{"recovered restart 1"}))
      << "counted by Start()";
  ASSERT_TRUE(WaitForState(id, TaskState::kSucceeded));
  EXPECT_EQ(EventTypes(id),
            (std::vector<std::string>{"created", "start", "recover", "start", "succeed"}));
  EXPECT_EQ(GetTask(id).attempts, 1);
  EXPECT_EQ(GetTask(id).recoveries, 1);
  ExpectExactFiles(id, 7, 5);
}

// Two instances share one task store. Instance A's worker freezes mid-file past its lease;
// instance B finds the lease expired, puts the task back (keeping its FIFO place and its
// checkpoint) and resumes it. When A thaws it learns it lost the lease before publishing its
// next file, and stops without writing or changing the task.
TEST_F(SchedulerOnSqliteTest, AWorkerFrozenPastItsLeaseLosesItsTaskAndWritesNothing) {
  fakes::FakeClock clock(SystemClock().Now());
  auto gated = std::make_shared<GatedSource>(Rows(450), 150);
  auto dataset = std::make_shared<Dataset>(
      DatasetSpec{.name = "samples", .key = "id"},
      std::vector<Field>{Field{"id", FieldType::kInteger}, Field{"site", FieldType::kText},
                         Field{"depth", FieldType::kReal}});
  DatasetCatalog catalog_a;
  ASSERT_TRUE(catalog_a.Add({dataset, gated}).ok());
  DatasetCatalog catalog_b;
  ASSERT_TRUE(catalog_b
                  .Add({dataset, std::make_shared<ScriptedSource>(
                                     std::vector<std::shared_ptr<FakeSource>>{Rows(450)})})
                  .ok());
  const std::string id = CreateTask("samples", 100);
  const std::string later = CreateTask("samples", 100);  // created after: must start after

  SchedulerOptions options = FastOptions();
  options.workers = 1;
  options.lease = Millis(30'000);
  options.instance_id = "inst_a";
  Scheduler a(*store_, catalog_a, *objects_, clock, logger_, options);
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(gated->WaitUntilReached(milliseconds(3000)));  // part-00001 is committed
  ASSERT_EQ(GetTask(id).files.size(), 1u);
  const ino_t first_inode = Inode(id, "part-00001.csv");

  clock.Advance(std::chrono::seconds(31));
  Result<std::unique_ptr<SqliteTaskStore>> other =
      SqliteTaskStore::Open((base_ / "tasks.db").string());
  ASSERT_TRUE(other.ok());
  options.instance_id = "inst_b";
  Scheduler b(**other, catalog_b, *objects_, clock, logger_, options);
  ASSERT_TRUE(b.Start().ok());
  ASSERT_TRUE(WaitForState(id, TaskState::kSucceeded));
  b.Stop();

  gated->Release();
  ASSERT_TRUE(WaitFor([&] { return a.running() == 0; }));
  a.Stop();

  ExpectExactFiles(id, 450, 100);  // A published nothing (no file, no temporary file)
  EXPECT_EQ(Inode(id, "part-00001.csv"), first_inode);
  for (const auto& [name, count] : CheckpointCounts(id)) EXPECT_EQ(count, 1) << name;
  EXPECT_EQ(EventTypes(id),
            (std::vector<std::string>{"created", "start", "lease_expired", "start", "succeed"}));
  std::vector<TaskEvent> expired = EventsOfType(id, "lease_expired");
  ASSERT_EQ(expired.size(), 1u);
  // A's run was cut short: a recovery, not an attempt (issue 16, item 13).
  EXPECT_EQ(GetTask(id).attempts, 1);
  EXPECT_EQ(GetTask(id).recoveries, 1);
  EXPECT_NE(expired[0].detail.find("inst_a"), std::string::npos) << expired[0].detail;
  std::vector<TaskEvent> starts = EventsOfType(id, "start");
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_NE(starts[1].detail.find("resume at file 2"), std::string::npos) << starts[1].detail;
  // FIFO: the requeued task went before the one created after it.
  Result<std::vector<TaskEvent>> later_events = store_->Events(later);
  ASSERT_TRUE(later_events.ok());
  for (const TaskEvent& e : *later_events) {
    if (e.type == "start") {
      EXPECT_GT(e.seq, starts[1].seq);
    }
  }
}

TEST_F(SchedulerTest, StartLeavesTasksLeasedToOtherInstancesUntilTheirLeaseExpires) {
  fakes::FakeClock clock(SystemClock().Now());
  AddDataset("samples", {Rows(7)});
  const std::string id = CreateTask("samples", 5);
  Result<std::optional<Task>> claimed =
      store_->ClaimNext(clock.Now(), "inst_other", Millis(30'000));
  ASSERT_TRUE(claimed.ok() && claimed->has_value());

  SchedulerOptions options = FastOptions();
  options.instance_id = "inst_me";
  RecordingTelemetry telemetry;
  options.telemetry = &telemetry;
  Scheduler scheduler(*store_, catalog_, *objects_, clock, logger_, options);
  ASSERT_TRUE(scheduler.Start().ok());
  // Whether a worker has looked cannot be observed; give it time to look and leave it alone.
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(GetTask(id).state, TaskState::kProcessing);

  clock.Advance(std::chrono::seconds(30));
  scheduler.Wake();
  ASSERT_TRUE(WaitForState(id, TaskState::kSucceeded));
  EXPECT_EQ(EventTypes(id),
            (std::vector<std::string>{"created", "start", "lease_expired", "start", "succeed"}));
  ExpectExactFiles(id, 7, 5);
  const std::vector<std::string> reported = telemetry.WaitForLines(3);
  ASSERT_FALSE(reported.empty());
  EXPECT_EQ(reported.front(), "lease_expired 1");
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

// A store shared by several instances: a task another instance created (no Wake here) is found
// by the idle poll.
TEST_F(SchedulerTest, AnIdlePollFindsTasksNoOneWokeItFor) {
  AddDataset("samples", {Rows(3)});
  SchedulerOptions options = FastOptions();
  options.idle_poll = Millis(100);
  std::unique_ptr<Scheduler> scheduler = MakeScheduler(options);
  ASSERT_TRUE(scheduler->Start().ok());
  const std::string id = CreateTask("samples", 10);
  ASSERT_TRUE(WaitForState(id, TaskState::kSucceeded, milliseconds(3000)));
  ExpectExactFiles(id, 3, 10);
}

}  // namespace
}  // namespace exportd
