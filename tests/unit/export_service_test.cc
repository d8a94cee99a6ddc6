#include "core/export_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/canonical_json.h"
#include "core/time_format.h"
#include "core/ulid.h"
#include "storage/fs/local_object_store.h"
#include "storage/sqlite/sqlite_task_store.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_source.h"
#include "tests/fakes/fake_time_zone_db.h"
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

// Serialises a FakeSource for use from worker threads.
class LockedSource final : public Source {
 public:
  explicit LockedSource(std::unique_ptr<FakeSource> source) : source_(std::move(source)) {}
  Result<int64_t> Count(const SourceQuery& query) override {
    std::lock_guard<std::mutex> lock(mu_);
    return source_->Count(query);
  }
  Result<std::unique_ptr<RecordReader>> Read(const SourceQuery& query) override {
    std::lock_guard<std::mutex> lock(mu_);
    return source_->Read(query);
  }
  Result<SourceSummary> Summarize(const SourceQuery& query,
                                  const std::vector<std::string>& count_distinct) override {
    std::lock_guard<std::mutex> lock(mu_);
    return source_->Summarize(query, count_distinct);
  }

 private:
  std::mutex mu_;
  std::unique_ptr<FakeSource> source_;  // guarded by mu_
};

// A deterministic stand-in for sha256 that remembers what it was asked to hash.
class RecordingHash {
 public:
  std::string operator()(std::string_view text) {
    std::lock_guard<std::mutex> lock(mu_);
    inputs_.emplace_back(text);
    return "fakehash:" + std::string(text);
  }
  std::vector<std::string> inputs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return inputs_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> inputs_;  // guarded by mu_
};

template <typename Condition>
bool WaitFor(Condition condition, milliseconds timeout = milliseconds(3000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

const Principal kAlice{"alice", false};
const Principal kBob{"bob", false};
const Principal kAdmin{"root", true};

class ExportServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "export_service_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    root_ = base_ / "exports";
    ASSERT_NO_FATAL_FAILURE(store_ = MakeStore());
    objects_ = std::make_unique<LocalObjectStore>(
        root_.string(), std::make_shared<UrlSigner>("secret"), "http://127.0.0.1:8080");

    std::vector<FakeRow> rows;
    for (int i = 1; i <= 1000; ++i) {
      rows.push_back({fakes::Num(std::to_string(i)), fakes::Text(i % 2 ? "a" : "b"),
                      fakes::Num(std::to_string(i) + ".5")});
    }
    auto dataset = std::make_shared<Dataset>(
        DatasetSpec{.name = "samples", .key = "id", .partition_field = "site"},
        std::vector<Field>{Field{"id", FieldType::kInteger}, Field{"site", FieldType::kText},
                           Field{"depth", FieldType::kReal}});
    auto source = std::make_shared<LockedSource>(std::make_unique<FakeSource>(
        std::vector<std::string>{"id", "site", "depth"}, std::move(rows)));
    ASSERT_TRUE(catalog_.Add({dataset, source}).ok());
  }

  void TearDown() override {
    service_.reset();
    scheduler_.reset();
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  // The store the fixture's service uses: an in-memory one, unless a test needs SQLite's.
  virtual std::unique_ptr<TaskStore> MakeStore() {
    return std::make_unique<fakes::MemoryTaskStore>();
  }

  // A service whose scheduler is not started (tasks stay Pending) unless StartScheduler() is
  // called. REQUIRES: called once, before anything else uses the service.
  ExportService& service(SchedulerOptions options = {}) {
    if (!service_) {
      options.workers = 2;
      scheduler_ =
          std::make_unique<Scheduler>(*store_, catalog_, *objects_, clock_, logger_, options);
      ServiceOptions service_options;
      service_options.max_attempts = 4;
      service_ = std::make_unique<ExportService>(
          *store_, catalog_, *objects_, *scheduler_, clock_, logger_, time_zones_, service_options,
          [this](std::string_view text) { return hash_(text); });
    }
    return *service_;
  }

  void StartScheduler(SchedulerOptions options = {}) {
    service(options);
    ASSERT_TRUE(scheduler_->Start().ok());
  }

  static ExportRequest SamplesRequest() {
    ExportRequest request;
    request.dataset = "samples";
    request.max_rows_per_file = 400;
    return request;
  }

  static CreateExportArgs Args(ExportRequest request,
                               std::optional<std::string> key = std::nullopt) {
    CreateExportArgs args;
    args.request = std::move(request);
    args.idempotency_key = std::move(key);
    return args;
  }

  // Creates an export and asserts that it was created (not replayed).
  Task MustCreate(const Principal& who, CreateExportArgs args) {
    Result<CreateExportResult> created = service().Create(who, std::move(args));
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return Task{};
    EXPECT_FALSE(created->replayed);
    return created->task;
  }

  Task Stored(const std::string& id) {
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

  std::vector<std::string> EventTypes(const std::string& id) {
    std::vector<std::string> types;
    Result<std::vector<TaskEvent>> events = store_->Events(id);
    EXPECT_TRUE(events.ok());
    if (events.ok()) {
      for (const TaskEvent& e : *events) {
        if (e.type != "checkpoint") types.push_back(e.type);  // one per committed file
      }
    }
    return types;
  }

  std::vector<std::string> Entries(const std::string& task_id) const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root_ / task_id, ec)) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  int64_t TaskCount() {
    Result<TaskPage> page = store_->List(TaskListQuery{.limit = 100});
    EXPECT_TRUE(page.ok());
    return page.ok() ? static_cast<int64_t>(page->items.size()) : -1;
  }

  fakes::FakeClock clock_{FromUnixMillis(1'763'761'778'123)};
  NullLogger logger_;
  RecordingHash hash_;
  fs::path base_;
  fs::path root_;
  std::unique_ptr<TaskStore> store_;
  std::unique_ptr<LocalObjectStore> objects_;
  DatasetCatalog catalog_;
  std::unique_ptr<Scheduler> scheduler_;
  fakes::FakeTimeZoneDb time_zones_;
  std::unique_ptr<ExportService> service_;
};

TEST_F(ExportServiceTest, CreateStoresAPendingTaskWithTheCanonicalRequest) {
  ExportRequest request = SamplesRequest();
  request.fields = {"depth", "id"};
  request.filter = {Condition{"id", FilterOp::kEq, {int64_t{3}}},
                    Condition{"depth", FilterOp::kGt, {1.5}}};
  request.partitions = {"b", "a", "b"};
  CreateExportArgs args = Args(request, "key-1");
  args.tag = "nightly";
  args.notify.webhook = "https://example.com/hook";

  Result<CreateExportResult> created = service().Create(kAlice, args);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE(created->replayed);

  ExportRequest canonical = request;
  canonical.filter = {Condition{"depth", FilterOp::kGt, {1.5}},
                      Condition{"id", FilterOp::kEq, {int64_t{3}}}};
  canonical.partitions = {"a", "b"};
  const std::string canonical_json = CanonicalJson(canonical);
  EXPECT_EQ(hash_.inputs(), std::vector<std::string>{canonical_json});

  const Task& task = created->task;
  EXPECT_TRUE(IsUlid(task.id)) << task.id;
  Task stored = Stored(task.id);
  for (const Task* t : std::vector<const Task*>{&task, &stored}) {
    EXPECT_EQ(t->state, TaskState::kPending);
    EXPECT_EQ(t->principal, "alice");
    EXPECT_EQ(t->request, canonical);
    EXPECT_EQ(t->query_hash, "fakehash:" + canonical_json);
    EXPECT_EQ(t->tag, "nightly");
    EXPECT_EQ(t->notify.webhook, "https://example.com/hook");
    EXPECT_EQ(t->idempotency_key, "key-1");
    EXPECT_EQ(t->attempts, 0);
    EXPECT_EQ(t->max_attempts, 4);
    EXPECT_EQ(t->created_at, clock_.Now());
    EXPECT_FALSE(t->started_at.has_value());
  }
  EXPECT_EQ(EventTypes(task.id), std::vector<std::string>{"created"});
}

// A schedule's firing: the owner's task with schedule and slot (to the millisecond); no
// idempotency key; a second task for the slot is refused. Create ignores the schedule fields.
TEST_F(ExportServiceTest, CreateForScheduleRecordsTheScheduleAndItsSlot) {
  CreateExportArgs args = Args(SamplesRequest(), "key-1");
  args.schedule_id = "sch_01";
  args.schedule_slot = clock_.Now() + std::chrono::microseconds(1500);
  Result<Task> fired = service().CreateForSchedule("alice", args, EventOrigin{"exportd", ""});
  ASSERT_TRUE(fired.ok()) << fired.status().ToString();
  EXPECT_EQ(fired->principal, "alice");
  EXPECT_EQ(fired->schedule_id, "sch_01");
  EXPECT_EQ(fired->schedule_slot, clock_.Now() + std::chrono::milliseconds(1));
  EXPECT_FALSE(fired->idempotency_key);
  EXPECT_EQ(Stored(fired->id), *fired);
  Result<std::vector<TaskEvent>> events = store_->Events(fired->id);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->at(0).actor, "exportd");

  EXPECT_EQ(service().CreateForSchedule("alice", args, {}).status().code(),
            StatusCode::kAlreadyExists);
  CreateExportArgs no_slot = args;
  no_slot.schedule_slot.reset();
  EXPECT_EQ(service().CreateForSchedule("alice", no_slot, {}).status().code(),
            StatusCode::kInvalidArgument);

  const Task plain = MustCreate(kAlice, args);
  EXPECT_FALSE(plain.schedule_id);
  EXPECT_FALSE(plain.schedule_slot);
}

TEST_F(ExportServiceTest, EveryFieldInDatasetOrderCanonicalisesToAll) {
  ExportRequest all = SamplesRequest();
  all.fields = {"id", "site", "depth"};
  Task listed = MustCreate(kAlice, Args(all));
  EXPECT_TRUE(listed.request.fields.empty());
  EXPECT_TRUE(Stored(listed.id).request.fields.empty());

  Task omitted = MustCreate(kAlice, Args(SamplesRequest()));
  EXPECT_EQ(listed.query_hash, omitted.query_hash);
  EXPECT_EQ(listed.query_hash, "fakehash:" + CanonicalJson(SamplesRequest()));

  // Another order, or fewer fields, is a different export.
  ExportRequest reordered = SamplesRequest();
  reordered.fields = {"site", "id", "depth"};
  EXPECT_EQ(MustCreate(kAlice, Args(reordered)).request.fields, reordered.fields);
  ExportRequest some = SamplesRequest();
  some.fields = {"id", "site"};
  Task fewer = MustCreate(kAlice, Args(some));
  EXPECT_EQ(fewer.request.fields, some.fields);
  EXPECT_NE(fewer.query_hash, omitted.query_hash);
}

TEST_F(ExportServiceTest, CreateRejectsAnInvalidRequestAndStoresNothing) {
  ExportRequest unknown_dataset = SamplesRequest();
  unknown_dataset.dataset = "nope";
  Result<CreateExportResult> created = service().Create(kAlice, Args(unknown_dataset));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(created.status().pointer(), "/dataset");

  ExportRequest unknown_field = SamplesRequest();
  unknown_field.fields = {"id", "colour"};
  created = service().Create(kAlice, Args(unknown_field));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(created.status().pointer(), "/fields/1");
  EXPECT_NE(created.status().message().find("colour"), std::string::npos);

  ExportRequest bad_filter = SamplesRequest();
  bad_filter.filter = {Condition{"colour", FilterOp::kEq, {std::string("red")}}};
  EXPECT_EQ(service().Create(kAlice, Args(bad_filter)).status().code(),
            StatusCode::kInvalidArgument);

  EXPECT_EQ(TaskCount(), 0);
  EXPECT_TRUE(hash_.inputs().empty());
}

// Check answers what Create would, and creates nothing either way (schedules' templates).
TEST_F(ExportServiceTest, CheckJudgesLikeCreateAndStoresNothing) {
  EXPECT_TRUE(service().Check(Args(SamplesRequest())).ok());
  ExportRequest unknown_field = SamplesRequest();
  unknown_field.fields = {"id", "colour"};
  Status checked = service().Check(Args(unknown_field));
  EXPECT_EQ(checked.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(checked.pointer(), "/fields/1");
  CreateExportArgs long_retention = Args(SamplesRequest());
  long_retention.retention = std::chrono::seconds(365 * 24 * 3600);
  EXPECT_EQ(service().Check(long_retention).pointer(), "/retention");
  EXPECT_EQ(TaskCount(), 0);
  EXPECT_TRUE(hash_.inputs().empty());
}

TEST_F(ExportServiceTest, SameKeyAndSameRequestReplaysTheTask) {
  ExportRequest request = SamplesRequest();
  request.partitions = {"a", "b"};
  Task first = MustCreate(kAlice, Args(request, "k"));

  request.partitions = {"b", "a"};  // the same request, spelled differently
  Result<CreateExportResult> again = service().Create(kAlice, Args(request, "k"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->task.id, first.id);
  EXPECT_EQ(TaskCount(), 1);
}

TEST_F(ExportServiceTest, SameKeyWithAnotherRequestIsAlreadyExists) {
  Task first = MustCreate(kAlice, Args(SamplesRequest(), "k"));

  ExportRequest other = SamplesRequest();
  other.format = Format::kJson;
  Result<CreateExportResult> created = service().Create(kAlice, Args(other, "k"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(created.status().message().find(first.id), std::string::npos);

  CreateExportArgs tagged = Args(SamplesRequest(), "k");
  tagged.tag = "different";
  EXPECT_EQ(service().Create(kAlice, tagged).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(TaskCount(), 1);
}

TEST_F(ExportServiceTest, IdempotencyKeysArePerPrincipal) {
  Task alices = MustCreate(kAlice, Args(SamplesRequest(), "k"));
  Task bobs = MustCreate(kBob, Args(SamplesRequest(), "k"));
  EXPECT_NE(bobs.id, alices.id);
  EXPECT_EQ(bobs.principal, "bob");
  EXPECT_EQ(TaskCount(), 2);
}

TEST_F(ExportServiceTest, AnExpiredKeyCreatesANewTask) {
  Task first = MustCreate(kAlice, Args(SamplesRequest(), "k"));
  clock_.Advance(std::chrono::hours(24) - milliseconds(1));
  Result<CreateExportResult> within = service().Create(kAlice, Args(SamplesRequest(), "k"));
  ASSERT_TRUE(within.ok());
  EXPECT_TRUE(within->replayed);

  clock_.Advance(milliseconds(1));
  Task second = MustCreate(kAlice, Args(SamplesRequest(), "k"));
  EXPECT_NE(second.id, first.id);
  EXPECT_EQ(TaskCount(), 2);

  // The key moved to the new task: a retry of the request replays it, not the old one.
  Result<CreateExportResult> retried = service().Create(kAlice, Args(SamplesRequest(), "k"));
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_TRUE(retried->replayed);
  EXPECT_EQ(retried->task.id, second.id);
  EXPECT_FALSE(Stored(first.id).idempotency_key.has_value());
  EXPECT_EQ(Stored(second.id).idempotency_key, std::optional<std::string>("k"));
  EXPECT_EQ(TaskCount(), 2);
}

// The fixture on a SQLite file, for what needs two connections to one store.
class ExportServiceOnSqliteTest : public ExportServiceTest {
 protected:
  std::unique_ptr<TaskStore> MakeStore() override {
    return OpenSqliteTaskStore((base_ / "tasks.db").string());
  }
};

// Two requests with one key at the same moment, through two services on two connections to
// one store (as two HTTP threads, or two instances): exactly one task, and both requests get it.
TEST_F(ExportServiceOnSqliteTest, ConcurrentRequestsWithOneKeyCreateOneTask) {
  Result<std::unique_ptr<SqliteTaskStore>> other_store =
      SqliteTaskStore::Open((base_ / "tasks.db").string());
  ASSERT_TRUE(other_store.ok());
  Scheduler other_scheduler(**other_store, catalog_, *objects_, clock_, logger_, {});
  ExportService other(**other_store, catalog_, *objects_, other_scheduler, clock_, logger_,
                      time_zones_, ServiceOptions{},
                      [this](std::string_view text) { return hash_(text); });
  ExportService* services[2] = {&service(), &other};

  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const std::string key = "key-" + std::to_string(round);
    // For half the rounds the key was used more than 24 h ago: both requests race to take it.
    if (round % 2 == 1) {
      MustCreate(kAlice, Args(SamplesRequest(), key));
      clock_.Advance(std::chrono::hours(25));
    }
    std::mutex mu;
    std::condition_variable cv;
    int ready = 0;
    Result<CreateExportResult> results[2] = {Internal("unset"), Internal("unset")};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        {
          std::unique_lock<std::mutex> lock(mu);
          ++ready;
          cv.notify_all();
          cv.wait(lock, [&] { return ready == 2; });
        }
        results[t] = services[t]->Create(kAlice, Args(SamplesRequest(), key));
      });
    }
    for (std::thread& t : threads) t.join();
    ASSERT_TRUE(results[0].ok()) << results[0].status().ToString();
    ASSERT_TRUE(results[1].ok()) << results[1].status().ToString();
    EXPECT_EQ(results[0]->task.id, results[1]->task.id) << key;
    EXPECT_NE(results[0]->replayed, results[1]->replayed) << key;  // one created, one replayed
    Result<std::optional<Task>> holder = store_->FindByIdempotencyKey("alice", key);
    ASSERT_TRUE(holder.ok() && holder->has_value());
    EXPECT_EQ((*holder)->id, results[0]->task.id);
  }
  // One task per round, plus the expired ones.
  EXPECT_EQ(TaskCount(), kRounds + kRounds / 2);
}

// Revision is the GET of a task without reading it: the same answers and the same trail.
TEST_F(ExportServiceTest, RevisionIsGuardedLikeGet) {
  Task task = MustCreate(kAlice, Args(SamplesRequest()));
  Result<int64_t> own = service().Revision(kAlice, task.id);
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(*own, Stored(task.id).revision);
  Result<int64_t> admin = service().Revision(kAdmin, task.id);
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(*admin, *own);

  EXPECT_EQ(service().Revision(kBob, task.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service().Revision(kAlice, "01NOSUCHTASK").status().code(), StatusCode::kNotFound);
  Result<std::vector<TaskEvent>> events = service().Events(kAdmin, task.id);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].type, "access_denied");
  EXPECT_EQ((*events)[1].actor, "bob");
  EXPECT_EQ((*events)[1].detail, "read");

  ASSERT_TRUE(service().Cancel(kAlice, task.id).ok());
  Result<int64_t> after = service().Revision(kAlice, task.id);
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*after, *own);
}

TEST_F(ExportServiceTest, OtherPrincipalsTasksAreNotFoundButAdminSeesThem) {
  Task task = MustCreate(kAlice, Args(SamplesRequest()));

  EXPECT_EQ(service().Get(kBob, task.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service().Events(kBob, task.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service().Cancel(kBob, task.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service().DeleteFiles(kBob, task.id).code(), StatusCode::kNotFound);
  EXPECT_EQ(Stored(task.id).state, TaskState::kPending);  // bob's cancel did nothing

  Result<TaskPage> bobs = service().List(kBob, TaskListQuery{});
  ASSERT_TRUE(bobs.ok());
  EXPECT_TRUE(bobs->items.empty());
  // A non-admin cannot widen the listing to someone else.
  Result<TaskPage> widened = service().List(kBob, TaskListQuery{.principal = "alice"});
  ASSERT_TRUE(widened.ok());
  EXPECT_TRUE(widened->items.empty());

  Result<Task> own = service().Get(kAlice, task.id);
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->id, task.id);
  Result<Task> seen = service().Get(kAdmin, task.id);
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->id, task.id);
  Result<std::vector<TaskEvent>> events = service().Events(kAdmin, task.id);
  ASSERT_TRUE(events.ok());
  // OWASP API1 (BOLA): each of bob's four attempts left an "access_denied" row naming him.
  ASSERT_EQ(events->size(), 5u);
  EXPECT_EQ((*events)[0].type, "created");
  EXPECT_EQ((*events)[0].actor, "alice");
  const std::vector<std::string> actions = {"read", "events", "cancel", "delete"};
  for (size_t i = 0; i < actions.size(); ++i) {
    const TaskEvent& denied = (*events)[i + 1];
    EXPECT_EQ(denied.type, "access_denied");
    EXPECT_EQ(denied.actor, "bob");
    EXPECT_EQ(denied.detail, actions[i]);
    EXPECT_EQ(denied.outcome, "denied");
  }
  // The owner's own view of the trail does not name who else probed the task.
  Result<std::vector<TaskEvent>> owners = service().Events(kAlice, task.id);
  ASSERT_TRUE(owners.ok());
  ASSERT_EQ(owners->size(), 1u);
  EXPECT_EQ((*owners)[0].type, "created");
  Result<TaskPage> all = service().List(kAdmin, TaskListQuery{});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->items.size(), 1u);
  Result<Task> cancelled = service().Cancel(kAdmin, task.id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state, TaskState::kCancelled);

  EXPECT_EQ(service().Get(kAdmin, "01NOSUCHTASK").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service().Cancel(kAlice, "01NOSUCHTASK").status().code(), StatusCode::kNotFound);
}

TEST_F(ExportServiceTest, CancelOfPendingIsImmediateAndOfTerminalIsRefused) {
  Task task = MustCreate(kAlice, Args(SamplesRequest()));
  Result<Task> cancelled = service().Cancel(kAlice, task.id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->state, TaskState::kCancelled);
  EXPECT_EQ(cancelled->finished_at, clock_.Now());
  Task stored = Stored(task.id);
  EXPECT_EQ(stored.state, TaskState::kCancelled);
  EXPECT_EQ(stored.attempts, 0);
  EXPECT_EQ(EventTypes(task.id), (std::vector<std::string>{"created", "cancel"}));

  Result<Task> again = service().Cancel(kAlice, task.id);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(EventTypes(task.id), (std::vector<std::string>{"created", "cancel"}));
  // A Cancelled task is terminal: deleting its (absent) files is allowed.
  EXPECT_TRUE(service().DeleteFiles(kAlice, task.id).ok());
}

// The audit trail names who created and cancelled a task and from which address; only an admin
// reads it across tasks (OWASP API5: function-level authorization, also enforced here and not
// only by the route's role).
TEST_F(ExportServiceTest, EventsRecordWhoAndFromWhereAndOnlyAdminsReadTheAuditTrail) {
  Principal alice = kAlice;
  alice.remote = "192.0.2.10";
  Task task = MustCreate(alice, Args(SamplesRequest()));
  ASSERT_TRUE(service().Cancel(alice, task.id).ok());

  Principal root = kAdmin;
  root.remote = "198.51.100.1";
  Result<EventPage> page = service().Audit(root, EventQuery{.task_id = task.id});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].type, "cancel");  // newest first
  EXPECT_EQ(page->items[0].actor, "alice");
  EXPECT_EQ(page->items[0].remote, "192.0.2.10");
  EXPECT_EQ(page->items[1].type, "created");
  EXPECT_EQ(page->items[1].actor, "alice");
  EXPECT_EQ(page->items[1].remote, "192.0.2.10");

  EXPECT_EQ(service().Audit(alice, EventQuery{}).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(service().Audit(kBob, EventQuery{.actor = "bob"}).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(ExportServiceTest, CancelOfARunningExportStopsItAndRemovesItsFiles) {
  SchedulerOptions options;
  // The fake clock stands still, so the throttled export blocks after its first file.
  options.max_rows_per_second = 100;
  StartScheduler(options);
  ExportRequest request = SamplesRequest();
  request.max_rows_per_file = 100;
  Task task = MustCreate(kAlice, Args(request));
  ASSERT_TRUE(WaitFor([&] { return !Entries(task.id).empty(); }));
  ASSERT_EQ(Stored(task.id).state, TaskState::kProcessing);
  EXPECT_EQ(service().DeleteFiles(kAlice, task.id).code(), StatusCode::kFailedPrecondition);

  const auto asked = std::chrono::steady_clock::now();
  Result<Task> flagged = service().Cancel(kAlice, task.id);
  ASSERT_TRUE(flagged.ok()) << flagged.status().ToString();
  EXPECT_EQ(flagged->state, TaskState::kProcessing);
  EXPECT_TRUE(flagged->cancel_requested);
  ASSERT_TRUE(WaitForState(task.id, TaskState::kCancelled, milliseconds(2000)));
  EXPECT_LT(std::chrono::steady_clock::now() - asked, milliseconds(2000));

  // Removed right after the cancellation is recorded.
  EXPECT_TRUE(WaitFor([&] { return Entries(task.id).empty(); }, milliseconds(2000)));
  Task stored = Stored(task.id);
  EXPECT_TRUE(stored.files.empty());
  EXPECT_FALSE(stored.manifest.has_value());
  EXPECT_EQ(EventTypes(task.id),
            (std::vector<std::string>{"created", "start", "cancel_requested", "cancel"}));
}

TEST_F(ExportServiceTest, PauseAndResumeOfAPendingTaskAreImmediateAndOwnedByThePrincipal) {
  Task task = MustCreate(kAlice, Args(SamplesRequest()));
  EXPECT_EQ(service().Pause(kBob, task.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service().Resume(kAlice, task.id).status().code(), StatusCode::kFailedPrecondition);
  Result<Task> paused = service().Pause(kAlice, task.id);
  ASSERT_TRUE(paused.ok()) << paused.status().ToString();
  EXPECT_EQ(paused->state, TaskState::kPaused);
  EXPECT_EQ(paused->finished_at, std::nullopt);
  EXPECT_EQ(service().Pause(kAlice, task.id).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(service().Resume(kBob, task.id).status().code(), StatusCode::kNotFound);
  Result<Task> resumed = service().Resume(kAdmin, task.id);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->state, TaskState::kPending);
  // Bob's attempts are refusals on the trail, named by action.
  Result<std::vector<TaskEvent>> events = service().Events(kAdmin, task.id);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 5u);
  EXPECT_EQ((*events)[1].type, "access_denied");
  EXPECT_EQ((*events)[1].detail, "pause");
  EXPECT_EQ((*events)[2].type, "pause");
  EXPECT_EQ((*events)[2].actor, "alice");
  EXPECT_EQ((*events)[3].detail, "resume");
  EXPECT_EQ((*events)[4].type, "resume");
  EXPECT_EQ((*events)[4].actor, "root");

  // Paused again, then cancelled at once; terminal: both refused.
  ASSERT_TRUE(service().Pause(kAlice, task.id).ok());
  Result<Task> cancelled = service().Cancel(kAlice, task.id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->state, TaskState::kCancelled);
  EXPECT_EQ(service().Pause(kAlice, task.id).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(service().Resume(kAlice, task.id).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(EventTypes(task.id),
            (std::vector<std::string>{"created", "access_denied", "pause", "access_denied",
                                      "resume", "pause", "cancel"}));
}

TEST_F(ExportServiceTest, DeleteFilesNeedsATerminalTask) {
  Task task = MustCreate(kAlice, Args(SamplesRequest()));
  Status deleted = service().DeleteFiles(kAlice, task.id);
  EXPECT_EQ(deleted.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(EventTypes(task.id), std::vector<std::string>{"created"});
}

TEST_F(ExportServiceTest, SucceededExportServesItsFilesUntilTheyAreDeleted) {
  StartScheduler();
  Task task = MustCreate(kAlice, Args(SamplesRequest()));
  ASSERT_TRUE(WaitForState(task.id, TaskState::kSucceeded, milliseconds(2000)));
  Task done = Stored(task.id);
  ASSERT_EQ(done.files.size(), 3u);  // 1000 rows, 400 per file
  ASSERT_TRUE(done.manifest.has_value());
  EXPECT_EQ(Entries(task.id), (std::vector<std::string>{"manifest.json", "part-00001.csv",
                                                        "part-00002.csv", "part-00003.csv"}));

  for (const FileInfo& f : done.files) {
    Result<FileInfo> found = service().DownloadableFile(task.id, f.name);
    ASSERT_TRUE(found.ok()) << f.name;
    EXPECT_EQ(*found, f);
  }
  Result<FileInfo> manifest = service().DownloadableFile(task.id, "manifest.json");
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(*manifest, *done.manifest);
  EXPECT_EQ(service().DownloadableFile(task.id, "part-00004.csv").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service().DownloadableFile("01NOSUCHTASK", "part-00001.csv").status().code(),
            StatusCode::kNotFound);

  service().RecordDownload(task.id, FileAccess{.file = "part-00001.csv",
                                               .bytes = 120,
                                               .outcome = "completed",
                                               .origin = {"link", "192.0.2.7"},
                                               .detail = "bytes 0-119 of 500"});
  Result<std::vector<TaskEvent>> events = service().Events(kAlice, task.id);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->back().type, "download");
  EXPECT_EQ(events->back().file, "part-00001.csv");
  EXPECT_EQ(events->back().bytes, std::optional<int64_t>(120));
  EXPECT_EQ(events->back().outcome, "completed");
  EXPECT_EQ(events->back().actor, "link");
  EXPECT_EQ(events->back().remote, "192.0.2.7");
  EXPECT_EQ(events->back().detail, "bytes 0-119 of 500");

  ASSERT_TRUE(service().DeleteFiles(kAlice, task.id).ok());
  Task after = Stored(task.id);
  EXPECT_EQ(after.state, TaskState::kSucceeded);  // the record stays
  EXPECT_TRUE(after.files.empty());
  EXPECT_FALSE(after.manifest.has_value());
  EXPECT_FALSE(fs::exists(root_ / task.id / "part-00001.csv"));
  EXPECT_TRUE(Entries(task.id).empty());
  EXPECT_EQ(EventTypes(task.id).back(), "files_deleted");
  // The files existed and are gone (410 for a genuine link), not unknown.
  EXPECT_EQ(service().DownloadableFile(task.id, "part-00001.csv").status().code(),
            StatusCode::kGone);
  EXPECT_EQ(service().DownloadableFile(task.id, "manifest.json").status().code(),
            StatusCode::kGone);
  // Deleting again is a no-op: OK, and no second event.
  const size_t events_before = EventTypes(task.id).size();
  ASSERT_TRUE(service().DeleteFiles(kAlice, task.id).ok());
  EXPECT_EQ(EventTypes(task.id).size(), events_before);
}

TEST_F(ExportServiceTest, RetentionIsTheDefaultOrTheRequestedWithinTheMaximum) {
  using std::chrono::seconds;
  const ServiceOptions defaults;
  Task plain = MustCreate(kAlice, Args(SamplesRequest()));
  EXPECT_EQ(Stored(plain.id).retention, defaults.default_retention);
  EXPECT_EQ(Stored(plain.id).files_expire_at, std::nullopt);

  CreateExportArgs short_lived = Args(SamplesRequest());
  short_lived.retention = seconds(60);
  Task brief = MustCreate(kAlice, short_lived);
  EXPECT_EQ(Stored(brief.id).retention, seconds(60));
  // Not part of the canonical request: the same query, the same hash.
  EXPECT_EQ(brief.query_hash, plain.query_hash);

  CreateExportArgs longest = Args(SamplesRequest());
  longest.retention = defaults.max_retention;
  EXPECT_EQ(Stored(MustCreate(kAlice, longest).id).retention, defaults.max_retention);

  for (seconds bad : {seconds(0), seconds(-5), defaults.max_retention + seconds(1)}) {
    CreateExportArgs args = Args(SamplesRequest());
    args.retention = bad;
    Result<CreateExportResult> created = service().Create(kAlice, args);
    ASSERT_FALSE(created.ok()) << bad.count();
    EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(created.status().pointer(), "/retention");
  }
  EXPECT_EQ(TaskCount(), 3);
}

TEST_F(ExportServiceTest, SameKeyWithAnotherRetentionIsAlreadyExists) {
  CreateExportArgs args = Args(SamplesRequest(), "k");
  args.retention = std::chrono::seconds(3600);
  Task first = MustCreate(kAlice, args);

  Result<CreateExportResult> same = service().Create(kAlice, args);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_TRUE(same->replayed);
  EXPECT_EQ(same->task.id, first.id);

  args.retention = std::nullopt;  // the default, 7 days: another request
  EXPECT_EQ(service().Create(kAlice, args).status().code(), StatusCode::kAlreadyExists);
  args.retention = std::chrono::seconds(3601);
  EXPECT_EQ(service().Create(kAlice, args).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(TaskCount(), 1);
}

TEST_F(ExportServiceTest, FilesAreGoneOnceExpiredEvenBeforeTheJanitorRuns) {
  StartScheduler();
  CreateExportArgs args = Args(SamplesRequest());
  args.retention = std::chrono::seconds(60);
  Task task = MustCreate(kAlice, args);
  ASSERT_TRUE(WaitForState(task.id, TaskState::kSucceeded, milliseconds(2000)));
  Task done = Stored(task.id);
  ASSERT_TRUE(done.finished_at.has_value());
  EXPECT_EQ(done.files_expire_at, *done.finished_at + std::chrono::seconds(60));
  EXPECT_TRUE(service().DownloadableFile(task.id, "part-00001.csv").ok());

  clock_.Advance(std::chrono::seconds(59));
  EXPECT_TRUE(service().DownloadableFile(task.id, "part-00001.csv").ok());
  clock_.Advance(std::chrono::seconds(1));
  Result<FileInfo> gone = service().DownloadableFile(task.id, "part-00001.csv");
  EXPECT_EQ(gone.status().code(), StatusCode::kGone);
  EXPECT_NE(gone.status().message().find("expired"), std::string::npos) << gone.status().message();
  EXPECT_EQ(service().DownloadableFile(task.id, "manifest.json").status().code(),
            StatusCode::kGone);
  EXPECT_EQ(Stored(task.id).files.size(), 3u) << "deleting is the janitor's job";

  // DELETE of an expired task stays a plain 204: its files go, one files_deleted event.
  ASSERT_TRUE(service().DeleteFiles(kAlice, task.id).ok());
  EXPECT_TRUE(Entries(task.id).empty());
  ASSERT_TRUE(service().DeleteFiles(kAlice, task.id).ok());
  std::vector<std::string> types = EventTypes(task.id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "files_deleted"), 1);
}

TEST_F(ExportServiceTest, DownloadableFileIgnoresTasksThatAreNotSucceeded) {
  Task task = MustCreate(kAlice, Args(SamplesRequest()));
  EXPECT_EQ(service().DownloadableFile(task.id, "part-00001.csv").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service().DownloadableFile(task.id, "manifest.json").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace exportd
