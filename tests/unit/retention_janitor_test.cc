// RetentionJanitor against a real SQLite task store and a real local object store; only the
// clock is fake (it decides what has expired), plus a store wrapper that fails deletes on
// purpose.
#include "core/retention_janitor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/time_format.h"
#include "storage/fs/local_object_store.h"
#include "storage/fs/url_signer.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/flaky_delete_store.h"
#include "tests/fakes/memory_task_store.h"
#include "tests/fakes/temp_dir.h"

namespace exportd {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kT0 = FromUnixMillis(1'700'000'000'000);
constexpr Millis kLease{30'000};

using fakes::FlakyDeleteStore;

// Keeps what was logged, to check that failures are reported.
class RecordingLogger final : public Logger {
 public:
  void Info(std::string_view m) override { Add("info: ", m); }
  void Warn(std::string_view m) override { Add("warn: ", m); }
  void Error(std::string_view m) override { Add("error: ", m); }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  void Add(const char* level, std::string_view m) {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(level + std::string(m));
  }
  mutable std::mutex mu_;
  std::vector<std::string> lines_;  // guarded by mu_
};

class RetentionJanitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tasks_ = std::make_unique<fakes::MemoryTaskStore>();
    auto signer = std::make_shared<const UrlSigner>(std::string(64, 'a'));
    local_ = std::make_unique<LocalObjectStore>(dir_.File("exports"), signer, "http://x");
    objects_ = std::make_unique<FlakyDeleteStore>(*local_);
  }

  RetentionJanitor MakeJanitor(int batch = 100, milliseconds interval = milliseconds(60'000)) {
    RetentionJanitorOptions options;
    options.batch = batch;
    options.interval = interval;
    return RetentionJanitor(*tasks_, *tasks_, *objects_, clock_, logger_, options);
  }

  void WriteObject(const std::string& id, const std::string& name) {
    Result<std::unique_ptr<ObjectWriter>> w = objects_->Create(id, name, ObjectOptions{"text/csv"});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Write("a,b\r\n1,2\r\n").ok());
    ASSERT_TRUE((*w)->Commit().ok());
  }

  bool HasObject(const std::string& id, const std::string& name) {
    return objects_->Open(id, name).ok();
  }

  Task NewTask(const std::string& id, seconds retention) {
    Task t;
    t.id = id;
    t.principal = "alice";
    t.request.dataset = "samples";
    t.query_hash = "h";
    t.created_at = t.updated_at = clock_.Now();
    t.retention = retention;
    return t;
  }

  // A task that Succeeded now with a data file and a manifest, both stored as objects.
  void Succeeded(const std::string& id, seconds retention = kDefaultRetention) {
    ASSERT_TRUE(tasks_->Create(NewTask(id, retention), {}).ok());
    Result<std::optional<Task>> claimed = tasks_->ClaimNext(clock_.Now(), "inst", kLease);
    ASSERT_TRUE(claimed.ok() && claimed->has_value() && (*claimed)->id == id);
    WriteObject(id, "part-00001.csv");
    WriteObject(id, "manifest.json");
    TransitionArgs args;
    args.trigger = Trigger::kSucceed;
    args.now = clock_.Now();
    args.files = {FileInfo{"part-00001.csv", 1, 10, std::string(64, 'a'), "text/csv"}};
    args.manifest = FileInfo{"manifest.json", 0, 10, std::string(64, 'b'), "application/json"};
    ASSERT_TRUE(tasks_->Transition(id, args).ok());
  }

  Task Get(const std::string& id) {
    Result<Task> t = tasks_->Get(id);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : Task{};
  }

  std::vector<std::string> EventTypes(const std::string& id) {
    std::vector<std::string> types;
    Result<std::vector<TaskEvent>> events = tasks_->Events(id);
    EXPECT_TRUE(events.ok());
    if (events.ok()) {
      for (const TaskEvent& e : *events) types.push_back(e.type);
    }
    return types;
  }

  // Expired as the janitor leaves it: no objects, files [], no manifest, an "expired" event.
  void ExpectExpired(const std::string& id) {
    EXPECT_FALSE(HasObject(id, "part-00001.csv")) << id;
    EXPECT_FALSE(HasObject(id, "manifest.json")) << id;
    EXPECT_FALSE(fs::exists(fs::path(local_->root()) / id) &&
                 !fs::is_empty(fs::path(local_->root()) / id))
        << id;
    Task t = Get(id);
    EXPECT_EQ(t.state, TaskState::kSucceeded) << "the record stays";
    EXPECT_TRUE(t.files.empty()) << id;
    EXPECT_FALSE(t.manifest.has_value()) << id;
    std::vector<std::string> types = EventTypes(id);
    EXPECT_EQ(std::count(types.begin(), types.end(), "expired"), 1) << id;
  }

  void ExpectUntouched(const std::string& id) {
    EXPECT_TRUE(HasObject(id, "part-00001.csv")) << id;
    Task t = Get(id);
    EXPECT_EQ(t.files.size(), 1u) << id;
    std::vector<std::string> types = EventTypes(id);
    EXPECT_EQ(std::count(types.begin(), types.end(), "expired"), 0) << id;
  }

  testing_support::TempDir dir_;
  fakes::FakeClock clock_{kT0};
  RecordingLogger logger_;
  std::unique_ptr<fakes::MemoryTaskStore> tasks_;
  std::unique_ptr<LocalObjectStore> local_;
  std::unique_ptr<FlakyDeleteStore> objects_;
};

TEST_F(RetentionJanitorTest, NothingExpiresBeforeItsTime) {
  Succeeded("01A");
  RetentionJanitor janitor = MakeJanitor();
  clock_.Advance(kDefaultRetention - milliseconds(1));
  JanitorRunStats stats = janitor.RunOnce();
  EXPECT_EQ(stats.expired, 0);
  EXPECT_EQ(stats.failed, 0);
  ExpectUntouched("01A");
  EXPECT_EQ(objects_->delete_calls, 0);
}

TEST_F(RetentionJanitorTest, ExpiredFilesAreDeletedAndTheRecordStays) {
  Succeeded("01A");
  RetentionJanitor janitor = MakeJanitor();
  clock_.Advance(kDefaultRetention);  // files_expire_at itself counts as expired
  EXPECT_EQ(janitor.RunOnce().expired, 1);
  ExpectExpired("01A");
  Task t = Get("01A");
  EXPECT_EQ(t.files_expire_at, std::optional<TimePoint>(kT0 + kDefaultRetention));
  // A second run finds nothing more to do.
  JanitorRunStats again = janitor.RunOnce();
  EXPECT_EQ(again.expired, 0);
  EXPECT_EQ(again.failed, 0);
  EXPECT_EQ(objects_->delete_calls, 1);
}

TEST_F(RetentionJanitorTest, EachTaskKeepsItsOwnRetention) {
  Succeeded("01A", seconds(60));              // shorter than the default
  Succeeded("01B");                           // the default, 7 days
  Succeeded("01C", seconds(30 * 24 * 3600));  // longer
  RetentionJanitor janitor = MakeJanitor();

  clock_.Advance(hours(1));
  EXPECT_EQ(janitor.RunOnce().expired, 1);
  ExpectExpired("01A");
  ExpectUntouched("01B");
  ExpectUntouched("01C");

  clock_.Advance(kDefaultRetention - hours(1));
  EXPECT_EQ(janitor.RunOnce().expired, 1);
  ExpectExpired("01B");
  ExpectUntouched("01C");

  clock_.Advance(hours(23 * 24));
  EXPECT_EQ(janitor.RunOnce().expired, 1);
  ExpectExpired("01C");
}

TEST_F(RetentionJanitorTest, AFailedDeleteIsLoggedAndRetriedOnTheNextRun) {
  Succeeded("01A", seconds(10));
  RetentionJanitor janitor = MakeJanitor();
  clock_.Advance(seconds(10));
  objects_->failures = 1;
  JanitorRunStats first = janitor.RunOnce();
  EXPECT_EQ(first.expired, 0);
  EXPECT_EQ(first.failed, 1);
  ExpectUntouched("01A");  // nothing recorded while the objects may still be there
  bool logged = false;
  for (const std::string& line : logger_.lines()) {
    logged = logged || (line.starts_with("warn: ") && line.find("01A") != std::string::npos &&
                        line.find("storage is down") != std::string::npos);
  }
  EXPECT_TRUE(logged) << ::testing::PrintToString(logger_.lines());

  JanitorRunStats second = janitor.RunOnce();
  EXPECT_EQ(second.expired, 1);
  EXPECT_EQ(second.failed, 0);
  ExpectExpired("01A");
}

// Issue 16, item 10: a cancelled (or failed) task whose files could not be removed when it
// ended: every run retries until the removal succeeds, then it is left alone. A Pending task
// cancelled before it ever ran has nothing stored and is never listed.
TEST_F(RetentionJanitorTest, FilesACancelledTaskLeftBehindAreRetriedUntilRemoved) {
  ASSERT_TRUE(tasks_->Create(NewTask("01C", kDefaultRetention), {}).ok());
  ASSERT_TRUE(tasks_->Create(NewTask("01N", kDefaultRetention), {}).ok());
  Result<std::optional<Task>> claimed = tasks_->ClaimNext(clock_.Now(), "inst", kLease);
  ASSERT_TRUE(claimed.ok() && claimed->has_value() && (*claimed)->id == "01C");
  WriteObject("01C", "part-00001.csv");
  for (const char* id : {"01C", "01N"}) {
    TransitionArgs cancel;
    cancel.trigger = Trigger::kCancel;
    cancel.now = clock_.Now();
    ASSERT_TRUE(tasks_->Transition(id, cancel).ok());
  }
  // The removal right after the cancel failed (it was never tried here): the record knows.
  EXPECT_TRUE(Get("01C").files_to_remove);
  EXPECT_FALSE(Get("01N").files_to_remove);

  RetentionJanitor janitor = MakeJanitor();
  objects_->failures = 3;
  for (int run = 0; run < 3; ++run) {
    JanitorRunStats stats = janitor.RunOnce();
    EXPECT_EQ(stats.failed, 1) << run;
    EXPECT_EQ(stats.removed, 0) << run;
    EXPECT_TRUE(HasObject("01C", "part-00001.csv")) << run;
  }
  JanitorRunStats stats = janitor.RunOnce();
  EXPECT_EQ(stats.removed, 1);
  EXPECT_EQ(stats.failed, 0);
  EXPECT_EQ(stats.expired, 0);
  EXPECT_FALSE(HasObject("01C", "part-00001.csv"));
  EXPECT_FALSE(Get("01C").files_to_remove);
  EXPECT_EQ(Get("01C").state, TaskState::kCancelled);
  EXPECT_EQ(objects_->delete_calls, 4) << "01N, which never ran, was never listed";
  EXPECT_EQ(janitor.RunOnce().removed, 0);
  EXPECT_EQ(objects_->delete_calls, 4);
  std::vector<std::string> types = EventTypes("01C");
  EXPECT_EQ(std::count(types.begin(), types.end(), "expired"), 0);
}

TEST_F(RetentionJanitorTest, PendingAndProcessingTasksAreNeverTouched) {
  ASSERT_TRUE(tasks_->Create(NewTask("01P", seconds(1)), {}).ok());  // becomes Processing
  ASSERT_TRUE(tasks_->Create(NewTask("01Q", seconds(1)), {}).ok());  // stays Pending
  Result<std::optional<Task>> claimed = tasks_->ClaimNext(clock_.Now(), "inst", kLease);
  ASSERT_TRUE(claimed.ok() && claimed->has_value() && (*claimed)->id == "01P");
  WriteObject("01P", "part-00001.csv");  // a file being written by the running export
  RetentionJanitor janitor = MakeJanitor();
  clock_.Advance(hours(24 * 365));
  EXPECT_EQ(janitor.RunOnce().expired, 0);
  EXPECT_TRUE(HasObject("01P", "part-00001.csv"));
  EXPECT_EQ(Get("01P").state, TaskState::kProcessing);
  EXPECT_EQ(Get("01Q").state, TaskState::kPending);
  EXPECT_EQ(objects_->delete_calls, 0);
}

TEST_F(RetentionJanitorTest, ARunWorksThroughEveryBatch) {
  for (const char* id : {"01A", "01B", "01C", "01D", "01E"}) Succeeded(id, seconds(5));
  RetentionJanitor janitor = MakeJanitor(/*batch=*/2);
  clock_.Advance(seconds(5));
  EXPECT_EQ(janitor.RunOnce().expired, 5);
  for (const char* id : {"01A", "01B", "01C", "01D", "01E"}) ExpectExpired(id);
}

TEST_F(RetentionJanitorTest, TheThreadRunsAtStartAndEveryIntervalAndStopsPromptly) {
  Succeeded("01A", seconds(5));
  Succeeded("01B", seconds(60));
  clock_.Advance(seconds(5));
  RetentionJanitor janitor = MakeJanitor(100, milliseconds(50));
  auto wait_for = [](auto condition) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(10);
    while (!condition() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    return condition();
  };
  janitor.Start();
  EXPECT_TRUE(wait_for([&] { return Get("01A").files.empty(); })) << "no run at start";
  clock_.Advance(seconds(60));
  EXPECT_TRUE(wait_for([&] { return Get("01B").files.empty(); })) << "no periodic run";
  janitor.Stop();
  ExpectExpired("01A");
  ExpectExpired("01B");

  // With a long interval, Stop() does not wait for it.
  RetentionJanitor idle = MakeJanitor(100, hours(1));
  idle.Start();
  std::this_thread::sleep_for(milliseconds(20));
  const auto before = std::chrono::steady_clock::now();
  idle.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, seconds(1));
  idle.Stop();  // idempotent
}

}  // namespace
}  // namespace exportd
