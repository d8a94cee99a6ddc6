// The cases of the TaskStore contract (tests/unit/task_store_contract.h), run once per store by
// each store's test binary, which instantiates them.
#include "tests/unit/task_store_contract.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/logger.h"
#include "core/notification.h"
#include "core/notification_dispatcher.h"
#include "core/watermark_store.h"
#include "tests/fakes/fake_clock.h"

namespace exportd {

using std::chrono::milliseconds;
using std::chrono::seconds;

void TaskStoreAuditTrailTest::SetUp() {
  TaskStoreContractTest::SetUp();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(store_->Create(NewTask("01A", "alice"), EventOrigin{"alice", "192.0.2.1"}).ok());
  ASSERT_TRUE(store_->Create(NewTask("01B", "bob"), EventOrigin{"bob", "192.0.2.2"}).ok());
  ASSERT_TRUE(store_->Create(NewTask("01C", "alice"), EventOrigin{"alice", "192.0.2.1"}).ok());
  Download("01A", "part-00001.csv", 100, "completed", "203.0.113.5", kT0 + seconds(10));
  Download("01A", "part-00002.csv", 40, "interrupted", "203.0.113.5", kT0 + seconds(20));
  Download("01B", "part-00001.csv", 0, "denied", "203.0.113.6", kT0 + seconds(30));
}

void TaskStoreAuditTrailTest::Download(const std::string& id, const std::string& file,
                                       int64_t bytes, const std::string& outcome,
                                       const std::string& remote, TimePoint at) {
  TaskEvent e;
  e.task_id = id;
  e.at = at;
  e.type = "download";
  e.actor = "link";
  e.remote = remote;
  e.file = file;
  e.bytes = bytes;
  e.outcome = outcome;
  ASSERT_TRUE(store_->AppendEvent(e).ok());
}

std::vector<std::pair<std::string, std::string>> TaskStoreAuditTrailTest::Rows(
    const EventQuery& query) {
  Result<EventPage> page = store_->ListEvents(query);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  std::vector<std::pair<std::string, std::string>> rows;
  if (!page.ok()) return rows;
  for (const TaskEvent& e : page->items) rows.emplace_back(e.task_id, e.type + ":" + e.file);
  return rows;
}

TEST_P(TaskStoreContractTest, CreateGetRoundTrip) {
  Task task = NewTask("01A");
  task.tag = "t";
  task.notify.webhook = "https://example.org/hook";
  task.notify.email = {"ops@example.org"};
  task.idempotency_key = "k1";
  task.max_attempts = 7;
  task.request.since = kT0 - seconds(3600);
  task.progress.rows_total = 0;
  ASSERT_TRUE(store_->Create(task, {}).ok());
  EXPECT_EQ(MustGet("01A"), task);

  std::vector<TaskEvent> events = MustEvents("01A");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "created");
  EXPECT_EQ(events[0].task_id, "01A");
  EXPECT_EQ(events[0].at, kT0);
  EXPECT_EQ(events[0].from, std::nullopt);
  EXPECT_EQ(events[0].to, TaskState::kPending);

  EXPECT_EQ(store_->Get("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Events("nope").status().code(), StatusCode::kNotFound);
}

TEST_P(TaskStoreContractTest, CreateRefusesANonPendingTask) {
  Task task = NewTask("01A");
  task.state = TaskState::kSucceeded;
  EXPECT_EQ(store_->Create(task, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Get("01A").status().code(), StatusCode::kNotFound);
}

TEST_P(TaskStoreContractTest, TransitionsAndTheirEvents) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());

  Result<Task> started = store_->Transition("01A", Args(Trigger::kStart, kT0 + seconds(1)));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->state, TaskState::kProcessing);
  EXPECT_EQ(started->attempts, 1);
  EXPECT_EQ(started->started_at, kT0 + seconds(1));

  // Illegal: the task and its events stay as they were.
  Result<Task> again = store_->Transition("01A", Args(Trigger::kStart, kT0 + seconds(2)));
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(MustGet("01A"), *started);
  EXPECT_EQ(EventTypes("01A"), (std::vector<std::string>{"created", "start"}));

  EXPECT_EQ(store_->Transition("nope", Args(Trigger::kStart, kT0)).status().code(),
            StatusCode::kNotFound);

  // A caller acting on a stale view (expects Pending) is refused, nothing written.
  TransitionArgs stale = Args(Trigger::kCancel, kT0 + seconds(2));
  stale.expect_state = TaskState::kPending;
  EXPECT_EQ(store_->Transition("01A", stale).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(MustGet("01A"), *started);
  EXPECT_EQ(MustEvents("01A").size(), 2u);

  TransitionArgs succeed = Args(Trigger::kSucceed, kT0 + seconds(3));
  succeed.files = {FileInfo{"part-00001.csv", 10, 100, "abc", "text/csv"}};
  succeed.manifest = FileInfo{"manifest.json", 0, 50, "def", "application/json"};
  succeed.detail = "10 rows";
  Result<Task> done = store_->Transition("01A", succeed);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, TaskState::kSucceeded);
  EXPECT_EQ(done->finished_at, kT0 + seconds(3));
  EXPECT_EQ(MustGet("01A"), *done);

  std::vector<TaskEvent> events = MustEvents("01A");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_LT(events[0].seq, events[1].seq);
  EXPECT_LT(events[1].seq, events[2].seq);
  EXPECT_EQ(events[1].type, "start");
  EXPECT_EQ(events[1].from, TaskState::kPending);
  EXPECT_EQ(events[1].to, TaskState::kProcessing);
  EXPECT_EQ(events[2].type, "succeed");
  EXPECT_EQ(events[2].at, kT0 + seconds(3));
  EXPECT_EQ(events[2].from, TaskState::kProcessing);
  EXPECT_EQ(events[2].to, TaskState::kSucceeded);
  EXPECT_EQ(events[2].detail, "10 rows");

  // Terminal: nothing moves it.
  EXPECT_EQ(store_->Transition("01A", Args(Trigger::kCancel, kT0 + seconds(4))).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(MustEvents("01A").size(), 3u);
}

TEST_P(TaskStoreContractTest, ClaimNextIsFifoAndRespectsNotBefore) {
  // Ids sort the other way round from creation: creation order, not id order, decides.
  const std::vector<std::string> ids = {"05", "04", "03", "02", "01"};
  for (size_t i = 0; i < ids.size(); ++i) {
    Task task = NewTask(ids[i]);
    if (i == 1) task.not_before = kT0 + seconds(10);
    if (i == 3) task.not_before = kT0 + seconds(5);
    ASSERT_TRUE(store_->Create(task, {}).ok());
  }
  EXPECT_EQ(Claim(kT0), "05");
  EXPECT_EQ(Claim(kT0), "03");
  EXPECT_EQ(Claim(kT0), "01");
  EXPECT_EQ(Claim(kT0), "");

  Result<std::optional<TimePoint>> wakeup = store_->NextWakeup(kT0);
  ASSERT_TRUE(wakeup.ok());
  EXPECT_EQ(*wakeup, std::optional<TimePoint>(kT0 + seconds(5)));
  wakeup = store_->NextWakeup(kT0 + seconds(5));  // "02" is ready then, so not a wakeup
  ASSERT_TRUE(wakeup.ok());
  EXPECT_EQ(*wakeup, std::optional<TimePoint>(kT0 + seconds(10)));

  EXPECT_EQ(Claim(kT0 + seconds(10)), "04");  // the older of the two now-ready tasks
  EXPECT_EQ(Claim(kT0 + seconds(10)), "02");
  EXPECT_EQ(Claim(kT0 + seconds(10)), "");
  // Nothing Pending is left; the next thing to happen is the expiry of the first leases.
  wakeup = store_->NextWakeup(kT0 + seconds(10));
  ASSERT_TRUE(wakeup.ok());
  EXPECT_EQ(*wakeup, std::optional<TimePoint>(kT0 + kLease));
  EXPECT_EQ(EventTypes("04"), (std::vector<std::string>{"created", "start"}));
}

// An incremental export of the partitions `partitions` (empty: all) of `dataset`.
Task IncrementalTask(const std::string& id, std::vector<std::string> partitions,
                     const std::string& dataset = "samples") {
  Task t = NewTask(id, "alice", dataset);
  t.request.incremental = true;
  t.request.partitions = std::move(partitions);
  return t;
}

TEST_P(TaskStoreContractTest, AnIncrementalExportWaitsForAnEarlierOneOfAnOverlappingScope) {
  ASSERT_TRUE(store_->Create(IncrementalTask("a", {"p1", "p2"}), {}).ok());
  ASSERT_TRUE(store_->Create(IncrementalTask("b", {"p2"}), {}).ok());       // overlaps a
  ASSERT_TRUE(store_->Create(NewTask("c"), {}).ok());                       // not incremental
  ASSERT_TRUE(store_->Create(IncrementalTask("d", {"p3"}), {}).ok());       // disjoint
  ASSERT_TRUE(store_->Create(IncrementalTask("e", {}, "other"), {}).ok());  // another dataset
  ASSERT_TRUE(store_->Create(IncrementalTask("f", {}), {}).ok());           // every partition
  EXPECT_EQ(Claim(kT0), "a");
  // b waits in its place for a; the others pass it. f waits for a, b and d.
  EXPECT_EQ(Claim(kT0), "c");
  EXPECT_EQ(Claim(kT0), "d");
  EXPECT_EQ(Claim(kT0), "e");
  EXPECT_EQ(Claim(kT0), "");
  // A retry of a keeps it unfinished: b still waits, even while a is Pending again.
  TransitionArgs retry = Args(Trigger::kRetry, kT0);
  retry.error = TaskError{"source_unavailable", "busy", true};
  retry.not_before = kT0 + seconds(60);
  ASSERT_TRUE(store_->Transition("a", retry).ok());
  EXPECT_EQ(Claim(kT0 + seconds(1)), "");
  EXPECT_EQ(Claim(kT0 + seconds(60)), "a");
  ASSERT_TRUE(store_->Transition("a", Args(Trigger::kSucceed, kT0 + seconds(61))).ok());
  EXPECT_EQ(Claim(kT0 + seconds(61)), "b");
  ASSERT_TRUE(store_->Transition("d", Args(Trigger::kFail, kT0 + seconds(62))).ok());
  EXPECT_EQ(Claim(kT0 + seconds(62)), "") << "f waits for b";
  ASSERT_TRUE(store_->Transition("b", Args(Trigger::kCancel, kT0 + seconds(63))).ok());
  EXPECT_EQ(Claim(kT0 + seconds(63)), "f");
}

TEST_P(TaskStoreContractTest, AWindowIsFixedOnceUnderTheLease) {
  ASSERT_TRUE(store_->Create(IncrementalTask("w", {}), {}).ok());
  Result<std::optional<Task>> claimed = store_->ClaimNext(kT0, kOwner, kLease);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  const LeaseKey key{kOwner, 1, 0};
  const TaskWindow window{
      kT0,
      {PartitionWindow{"p1", std::nullopt, kT0}, PartitionWindow{"p2", kT0 - seconds(3600), kT0}}};
  EXPECT_EQ(store_->FixWindow("w", LeaseKey{"other", 1, 0}, window, kT0).status().code(),
            StatusCode::kAborted);
  Result<Task> fixed = store_->FixWindow("w", key, window, kT0);
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->window, std::optional<TaskWindow>(window));
  // Fixed once: a second call (a resumed attempt) keeps the first window and records nothing.
  TaskWindow later = window;
  later.until = kT0 + seconds(60);
  fixed = store_->FixWindow("w", key, later, kT0 + seconds(1));
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->window, std::optional<TaskWindow>(window));
  EXPECT_EQ(MustGet("w").window, std::optional<TaskWindow>(window));
  EXPECT_EQ(EventTypes("w"), (std::vector<std::string>{"created", "start", "window"}));
}

TEST_P(TaskStoreContractTest, OnlySucceededIncrementalExportsMoveWatermarksNeverBack) {
  auto* marks = dynamic_cast<WatermarkStore*>(store_.get());
  ASSERT_NE(marks, nullptr) << "every task store keeps watermarks";
  ASSERT_TRUE(marks->PutWatermark("samples", "p2", kT0 + seconds(100), kT0, {"admin", ""}).ok());
  auto run = [&](const std::string& id, Trigger end, TimePoint until) {
    ASSERT_TRUE(store_->Create(IncrementalTask(id, {}), {}).ok());
    ASSERT_EQ(Claim(kT0), id);
    const TaskWindow window{until,
                            {PartitionWindow{"p1", std::nullopt, until},
                             PartitionWindow{"p2", kT0 + seconds(100), until}}};
    ASSERT_TRUE(store_->FixWindow(id, LeaseKey{kOwner, 1, 0}, window, kT0).ok());
    TransitionArgs args = Args(end, kT0 + seconds(1));
    if (end == Trigger::kFail) args.error = TaskError{"failed_precondition", "gone", false};
    ASSERT_TRUE(store_->Transition(id, args).ok());
  };
  auto watermarks = [&] {
    std::map<std::string, TimePoint> out;
    Result<std::vector<Watermark>> list = marks->ListWatermarks("samples");
    EXPECT_TRUE(list.ok());
    for (const Watermark& w : *list) out[w.partition] = w.watermark;
    return out;
  };
  run("failed", Trigger::kFail, kT0 + seconds(500));
  run("cancelled", Trigger::kCancel, kT0 + seconds(500));
  EXPECT_EQ(watermarks(), (std::map<std::string, TimePoint>{{"p2", kT0 + seconds(100)}}));
  // p1 had none; p2's is earlier than the window's end: both move to it, with an event each.
  run("ok", Trigger::kSucceed, kT0 + seconds(50));
  EXPECT_EQ(watermarks(), (std::map<std::string, TimePoint>{{"p1", kT0 + seconds(50)},
                                                            {"p2", kT0 + seconds(100)}}));
  std::vector<std::string> types = EventTypes("ok");
  EXPECT_EQ(std::count(types.begin(), types.end(), "watermark"), 1);
  run("later", Trigger::kSucceed, kT0 + seconds(200));
  EXPECT_EQ(watermarks(), (std::map<std::string, TimePoint>{{"p1", kT0 + seconds(200)},
                                                            {"p2", kT0 + seconds(200)}}));
  Result<std::vector<Watermark>> listed = marks->ListWatermarks("samples");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->front().task_id, std::optional<std::string>("later"));
  // By hand: set (back, too) and delete, each with an event of no task; deleting twice is 404.
  ASSERT_TRUE(marks->PutWatermark("samples", "p1", kT0, kT0, {"admin", "10.0.0.1"}).ok());
  EXPECT_TRUE(marks->DeleteWatermark("samples", "p2", kT0, {"admin", ""}).ok());
  EXPECT_EQ(marks->DeleteWatermark("samples", "p2", kT0, {"admin", ""}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(watermarks(), (std::map<std::string, TimePoint>{{"p1", kT0}}));
  EventQuery query;
  query.types = {"watermark"};
  Result<EventPage> page = store_->ListEvents(query);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 6u);  // 2 by hand and 4 by tasks before these two
  EXPECT_EQ(page->items[0].task_id, "");
  EXPECT_EQ(page->items[1].task_id, "");
  EXPECT_EQ(page->items[1].remote, "10.0.0.1");
  EXPECT_EQ(page->items[2].task_id, "later");
}

TEST_P(TaskStoreContractTest, RetryWaitsForNotBefore) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  ASSERT_EQ(Claim(kT0), "01A");
  TransitionArgs retry = Args(Trigger::kRetry, kT0 + seconds(1));
  retry.error = TaskError{"source_unavailable", "busy", true};
  retry.not_before = kT0 + seconds(30);
  ASSERT_TRUE(store_->Transition("01A", retry).ok());

  EXPECT_EQ(Claim(kT0 + seconds(29)), "");
  Result<std::optional<TimePoint>> wakeup = store_->NextWakeup(kT0 + seconds(29));
  ASSERT_TRUE(wakeup.ok());
  EXPECT_EQ(*wakeup, std::optional<TimePoint>(kT0 + seconds(30)));
  Result<std::optional<Task>> claimed = store_->ClaimNext(kT0 + seconds(30), kOwner, kLease);
  ASSERT_TRUE(claimed.ok());
  ASSERT_TRUE(claimed->has_value());
  EXPECT_EQ((*claimed)->attempts, 2);
  EXPECT_EQ((*claimed)->not_before, std::nullopt);
  EXPECT_EQ(MustEvents("01A")[2].detail, "busy");
}

TEST_P(TaskStoreContractTest, CountActiveCountsPendingAndProcessingOfOnePrincipal) {
  for (const char* id : {"01A", "01B", "01C"}) ASSERT_TRUE(store_->Create(NewTask(id), {}).ok());
  ASSERT_TRUE(store_->Create(NewTask("01D", "bob"), {}).ok());
  EXPECT_EQ(*store_->CountActive("alice"), 3);
  EXPECT_EQ(Claim(kT0 + seconds(1)), "01A");  // Processing still counts
  EXPECT_EQ(*store_->CountActive("alice"), 3);
  ASSERT_TRUE(store_->Transition("01B", Args(Trigger::kCancel, kT0 + seconds(2))).ok());
  EXPECT_EQ(*store_->CountActive("alice"), 2);
  EXPECT_EQ(*store_->CountActive("bob"), 1);
  EXPECT_EQ(*store_->CountActive("carol"), 0);
}

TEST_P(TaskStoreContractTest, IdempotencyKeyAndIdCollisions) {
  Task first = NewTask("01A", "alice");
  first.idempotency_key = "key-1";
  ASSERT_TRUE(store_->Create(first, {}).ok());

  Task second = NewTask("01B", "alice", "other");
  second.idempotency_key = "key-1";
  EXPECT_EQ(store_->Create(second, {}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Get("01B").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Events("01B").status().code(), StatusCode::kNotFound);

  Result<std::optional<Task>> found = store_->FindByIdempotencyKey("alice", "key-1");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, first);
  found = store_->FindByIdempotencyKey("bob", "key-1");
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());

  // Another principal may use the same key; tasks without a key never collide.
  Task bobs = NewTask("01C", "bob");
  bobs.idempotency_key = "key-1";
  EXPECT_TRUE(store_->Create(bobs, {}).ok());
  EXPECT_TRUE(store_->Create(NewTask("01D", "alice"), {}).ok());
  EXPECT_TRUE(store_->Create(NewTask("01E", "alice"), {}).ok());

  // Same id: refused, original untouched.
  Task dup = NewTask("01A", "mallory", "other", "h9");
  EXPECT_EQ(store_->Create(dup, {}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(MustGet("01A"), first);
  EXPECT_EQ(MustEvents("01A").size(), 1u);
}

// At most one task per (schedule, slot), ever: the second is refused and leaves nothing.
TEST_P(TaskStoreContractTest, OneTaskPerScheduleSlot) {
  const TimePoint slot = kT0 + std::chrono::minutes(1);
  auto fired = [&](const std::string& id, const std::string& schedule, TimePoint at) {
    Task t = NewTask(id);
    t.schedule_id = schedule;
    t.schedule_slot = at;
    return t;
  };
  Task first = fired("01A", "sch_1", slot);
  ASSERT_TRUE(store_->Create(first, {}).ok());
  EXPECT_EQ(MustGet("01A"), first);

  EXPECT_EQ(store_->Create(fired("01B", "sch_1", slot), {}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Get("01B").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Events("01B").status().code(), StatusCode::kNotFound);

  // Another slot (a millisecond apart is another slot), another schedule: their own tasks.
  EXPECT_TRUE(store_->Create(fired("01C", "sch_1", slot + Millis(1)), {}).ok());
  EXPECT_TRUE(store_->Create(fired("01D", "sch_2", slot), {}).ok());
  // A task of no schedule, or of a schedule without a slot, takes no slot.
  Task plain = NewTask("01E");
  plain.schedule_slot = slot;
  EXPECT_TRUE(store_->Create(plain, {}).ok());
  Task no_slot = NewTask("01F");
  no_slot.schedule_id = "sch_1";
  EXPECT_TRUE(store_->Create(no_slot, {}).ok());

  // The slot stays taken after its task has ended.
  ASSERT_EQ(Claim(kT0), "01A");
  TransitionArgs fail = Args(Trigger::kFail, kT0);
  fail.error = TaskError{"source_unavailable", "gone", false};
  ASSERT_TRUE(store_->Transition("01A", fail).ok());
  EXPECT_EQ(store_->Create(fired("01G", "sch_1", slot), {}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Get("01G").status().code(), StatusCode::kNotFound);
}

// A refused slot inside CreateTakingKey leaves the previous key holder untouched.
TEST_P(TaskStoreContractTest, CreateTakingKeyRefusesATakenSlot) {
  const TimePoint slot = kT0 + std::chrono::minutes(1);
  Task holder = NewTask("01A");
  holder.idempotency_key = "k";
  ASSERT_TRUE(store_->Create(holder, {}).ok());
  Task fired = NewTask("01B");
  fired.schedule_id = "sch_1";
  fired.schedule_slot = slot;
  ASSERT_TRUE(store_->Create(fired, {}).ok());

  Task again = NewTask("01C");
  again.idempotency_key = "k";
  again.schedule_id = "sch_1";
  again.schedule_slot = slot;
  EXPECT_EQ(store_->CreateTakingKey(again, "01A", {}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Get("01C").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(MustGet("01A"), holder);
}

// Exports and imports share the table: each listing sees its own kind only, and the kind is
// kept by every store (a task read back is of the kind it was created with).
TEST_P(TaskStoreContractTest, ListFiltersByKind) {
  for (int i = 0; i < 6; ++i) {
    char id[8];
    std::snprintf(id, sizeof(id), "K%03d", i);
    Task task = NewTask(id);
    task.kind = i % 3 == 0 ? TaskKind::kImport : TaskKind::kExport;
    ASSERT_TRUE(store_->Create(task, {}).ok());
  }
  auto ids = [&](std::optional<TaskKind> kind) {
    TaskListQuery query;
    query.kind = kind;
    Result<TaskPage> page = store_->List(query);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const Task& t : page->items) out.push_back(t.id);
    }
    return out;
  };
  using Ids = std::vector<std::string>;
  EXPECT_EQ(ids(TaskKind::kImport), (Ids{"K003", "K000"}));
  EXPECT_EQ(ids(TaskKind::kExport), (Ids{"K005", "K004", "K002", "K001"}));
  EXPECT_EQ(ids(std::nullopt).size(), 6u);
  Result<Task> got = store_->Get("K003");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->kind, TaskKind::kImport);
}

TEST_P(TaskStoreContractTest, ListFiltersAndPaginates) {
  // 30 tasks: principals alternate, datasets every third, hashes every fifth; a few started.
  std::vector<Task> all;
  for (int i = 0; i < 30; ++i) {
    char id[8];
    std::snprintf(id, sizeof(id), "T%03d", i);
    Task task = NewTask(id, i % 2 == 0 ? "alice" : "bob", i % 3 == 0 ? "rocks" : "samples",
                        i % 5 == 0 ? "h5" : "h1");
    ASSERT_TRUE(store_->Create(task, {}).ok());
    all.push_back(task);
  }
  for (int i = 0; i < 6; ++i) ASSERT_NE(Claim(kT0), "");  // T000..T005 Processing

  auto expected = [&](auto pred) {
    std::vector<std::string> ids;
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      if (pred(*it)) ids.push_back(it->id);
    }
    return ids;
  };
  auto list_all = [&](TaskListQuery query, int* pages) {
    std::vector<std::string> ids;
    *pages = 0;
    for (;;) {
      Result<TaskPage> page = store_->List(query);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      ++*pages;
      EXPECT_LE(page->items.size(), static_cast<size_t>(query.limit));
      for (const Task& t : page->items) ids.push_back(t.id);
      if (!page->next_cursor) break;
      EXPECT_EQ(*page->next_cursor, page->items.back().id);
      query.before_id = page->next_cursor;
      if (*pages > 100) break;
    }
    return ids;
  };

  int pages = 0;
  TaskListQuery q;
  q.limit = 4;
  EXPECT_EQ(list_all(q, &pages), expected([](const Task&) { return true; }));
  EXPECT_EQ(pages, 8);  // 30 = 7 * 4 + 2

  q.principal = "alice";  // 15 tasks
  EXPECT_EQ(list_all(q, &pages), expected([](const Task& t) { return t.principal == "alice"; }));
  EXPECT_EQ(pages, 4);

  q.limit = 5;  // an exact multiple: no empty last page
  EXPECT_EQ(list_all(q, &pages).size(), 15u);
  EXPECT_EQ(pages, 3);

  q = TaskListQuery{};
  q.limit = 2;
  q.state = TaskState::kProcessing;
  EXPECT_EQ(list_all(q, &pages),
            (std::vector<std::string>{"T005", "T004", "T003", "T002", "T001", "T000"}));
  EXPECT_EQ(pages, 3);

  q = TaskListQuery{};
  q.dataset = "rocks";
  q.query_hash = "h5";
  q.principal = "alice";
  EXPECT_EQ(list_all(q, &pages), (std::vector<std::string>{"T000"}));

  q = TaskListQuery{};
  q.state = TaskState::kPending;
  q.dataset = "samples";
  q.limit = 3;
  EXPECT_EQ(list_all(q, &pages), expected([](const Task& t) {
              return t.request.dataset == "samples" && t.id > "T005";
            }));

  q = TaskListQuery{};
  q.before_id = "T010";
  q.limit = 3;
  Result<TaskPage> page = store_->List(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 3u);
  EXPECT_EQ(page->items[0].id, "T009");
  EXPECT_EQ(page->items[0].state, TaskState::kPending);
  EXPECT_EQ(page->items[0], MustGet("T009"));

  q.principal = "nobody";
  page = store_->List(q);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->items.empty());
  EXPECT_EQ(page->next_cursor, std::nullopt);

  q.limit = 0;
  EXPECT_EQ(store_->List(q).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(TaskStoreContractTest, ProgressIsKeptOnlyWhileProcessing) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  const Progress p{100, 1000, 4096};
  ASSERT_TRUE(store_->UpdateProgress("01A", p, kT0 + seconds(1)).ok());
  EXPECT_EQ(MustGet("01A").progress, Progress{});  // Pending: ignored

  ASSERT_EQ(Claim(kT0 + seconds(2)), "01A");
  ASSERT_TRUE(store_->UpdateProgress("01A", p, kT0 + seconds(3)).ok());
  Task task = MustGet("01A");
  EXPECT_EQ(task.progress, p);
  EXPECT_EQ(task.updated_at, kT0 + seconds(3));
  EXPECT_EQ(EventTypes("01A"), (std::vector<std::string>{"created", "start"}));

  ASSERT_TRUE(store_->Transition("01A", Args(Trigger::kFail, kT0 + seconds(4))).ok());
  ASSERT_TRUE(store_->UpdateProgress("01A", Progress{999, 1000, 1}, kT0 + seconds(5)).ok());
  EXPECT_EQ(MustGet("01A").progress, p);
  EXPECT_EQ(MustGet("01A").updated_at, kT0 + seconds(4));

  EXPECT_EQ(store_->UpdateProgress("nope", p, kT0).code(), StatusCode::kNotFound);
}

TEST_P(TaskStoreContractTest, RequestCancelOnlyWhileProcessing) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  EXPECT_EQ(store_->RequestCancel("01A", kT0, {}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->RequestCancel("nope", kT0, {}).status().code(), StatusCode::kNotFound);

  ASSERT_EQ(Claim(kT0), "01A");
  Result<Task> marked = store_->RequestCancel("01A", kT0 + seconds(1), {});
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  EXPECT_TRUE(marked->cancel_requested);
  EXPECT_EQ(marked->state, TaskState::kProcessing);
  EXPECT_EQ(MustGet("01A"), *marked);
  ASSERT_TRUE(store_->RequestCancel("01A", kT0 + seconds(2), {}).ok());  // idempotent

  std::vector<TaskEvent> events = MustEvents("01A");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].type, "cancel_requested");
  EXPECT_EQ(events[2].at, kT0 + seconds(1));
  EXPECT_EQ(events[2].from, std::nullopt);
  EXPECT_EQ(events[2].to, std::nullopt);

  ASSERT_TRUE(store_->Transition("01A", Args(Trigger::kCancel, kT0 + seconds(3))).ok());
  EXPECT_EQ(store_->RequestCancel("01A", kT0 + seconds(4), {}).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_P(TaskStoreContractTest, ReplaceFilesOnlyWhenTerminal) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  EXPECT_EQ(store_->ReplaceFiles("01A", {}, "files_deleted", kT0, {}).status().code(),
            StatusCode::kFailedPrecondition);
  ASSERT_EQ(Claim(kT0), "01A");
  EXPECT_EQ(store_->ReplaceFiles("01A", {}, "files_deleted", kT0, {}).status().code(),
            StatusCode::kFailedPrecondition);
  TransitionArgs succeed = Args(Trigger::kSucceed, kT0 + seconds(1));
  succeed.files = {FileInfo{"part-00001.csv", 1, 2, "x", "text/csv"},
                   FileInfo{"part-00002.csv", 1, 2, "y", "text/csv"}};
  ASSERT_TRUE(store_->Transition("01A", succeed).ok());

  Result<Task> cleared = store_->ReplaceFiles("01A", {}, "files_deleted", kT0 + seconds(2), {});
  ASSERT_TRUE(cleared.ok()) << cleared.status().ToString();
  EXPECT_TRUE(cleared->files.empty());
  EXPECT_EQ(cleared->state, TaskState::kSucceeded);
  EXPECT_EQ(MustGet("01A"), *cleared);
  std::vector<TaskEvent> events = MustEvents("01A");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3].type, "files_deleted");
  EXPECT_EQ(events[3].at, kT0 + seconds(2));
  EXPECT_EQ(events[3].to, std::nullopt);

  EXPECT_EQ(store_->ReplaceFiles("nope", {}, "files_deleted", kT0, {}).status().code(),
            StatusCode::kNotFound);
}

// A DELETE and the retention janitor can both clear the same task (each deletes the objects,
// then records): the second finds nothing to clear and leaves no second event.
TEST_P(TaskStoreContractTest, ClearingFilesAlreadyClearedRecordsNothing) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  ASSERT_EQ(Claim(kT0), "01A");
  TransitionArgs succeed = Args(Trigger::kSucceed, kT0 + seconds(1));
  succeed.files = {FileInfo{"part-00001.csv", 1, 2, "x", "text/csv"}};
  ASSERT_TRUE(store_->Transition("01A", succeed).ok());
  ASSERT_TRUE(store_->ReplaceFiles("01A", {}, "files_deleted", kT0 + seconds(2), {}).ok());
  const Task cleared = MustGet("01A");
  const size_t events = MustEvents("01A").size();

  Result<Task> again = store_->ReplaceFiles("01A", {}, "expired", kT0 + seconds(3), {});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, cleared);
  EXPECT_EQ(MustGet("01A"), cleared) << "not even updated_at or the revision moves";
  std::vector<TaskEvent> after = MustEvents("01A");
  ASSERT_EQ(after.size(), events);
  EXPECT_EQ(after.back().type, "files_deleted");

  // Files given back are a change like any other.
  Result<Task> restored =
      store_->ReplaceFiles("01A", {FileInfo{"part-00001.csv", 1, 2, "x", "text/csv"}},
                           "files_restored", kT0 + seconds(4), {});
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(MustEvents("01A").size(), events + 1);
}

TEST_P(TaskStoreAuditTrailTest, ListEventsNewestFirstWithEachFilter) {
  using Rows_ = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(Rows({}), (Rows_{{"01B", "download:part-00001.csv"},
                             {"01A", "download:part-00002.csv"},
                             {"01A", "download:part-00001.csv"},
                             {"01C", "created:"},
                             {"01B", "created:"},
                             {"01A", "created:"}}));
  EXPECT_EQ(Rows({.actor = "alice"}), (Rows_{{"01C", "created:"}, {"01A", "created:"}}));
  EXPECT_EQ(Rows({.task_id = "01A"}), (Rows_{{"01A", "download:part-00002.csv"},
                                             {"01A", "download:part-00001.csv"},
                                             {"01A", "created:"}}));
  EXPECT_EQ(Rows({.types = {"download"}, .file = "part-00001.csv"}),
            (Rows_{{"01B", "download:part-00001.csv"}, {"01A", "download:part-00001.csv"}}));
  EXPECT_EQ(Rows({.types = {"created", "download"}, .remote = "192.0.2.2"}),
            (Rows_{{"01B", "created:"}}));
  EXPECT_EQ(Rows({.since = kT0 + seconds(10), .until = kT0 + seconds(30)}),
            (Rows_{{"01A", "download:part-00002.csv"}, {"01A", "download:part-00001.csv"}}));
  EXPECT_EQ(Rows({.outcome = "denied"}), (Rows_{{"01B", "download:part-00001.csv"}}));
  EXPECT_EQ(Rows({.actor = "nobody"}), Rows_{});
  EXPECT_EQ(Rows({.types = {"nothing"}}), Rows_{});

  Result<EventPage> page = store_->ListEvents({.task_id = "01A", .types = {"download"}});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 2u);
  const TaskEvent& interrupted = page->items[0];
  EXPECT_EQ(interrupted.actor, "link");
  EXPECT_EQ(interrupted.remote, "203.0.113.5");
  EXPECT_EQ(interrupted.bytes, std::optional<int64_t>(40));
  EXPECT_EQ(interrupted.outcome, "interrupted");
  EXPECT_EQ(interrupted.at, kT0 + seconds(20));
  EXPECT_GT(interrupted.seq, page->items[1].seq);
  EXPECT_EQ(page->next_cursor, std::nullopt);

  EXPECT_EQ(store_->ListEvents({.limit = 0}).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(TaskStoreAuditTrailTest, PaginationVisitsEveryRowExactlyOnce) {
  for (int i = 0; i < 20; ++i) {
    Download("01C", "part-" + std::to_string(i) + ".csv", i, "completed", "203.0.113.9",
             kT0 + seconds(100 + i));
  }
  for (const std::optional<std::string>& actor :
       {std::optional<std::string>(), std::optional<std::string>("link")}) {
    EventQuery query{.actor = actor, .limit = 7};
    std::vector<int64_t> seen;
    int pages = 0;
    for (;;) {
      Result<EventPage> page = store_->ListEvents(query);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      ++pages;
      for (const TaskEvent& e : page->items) seen.push_back(e.seq);
      if (!page->next_cursor) break;
      EXPECT_EQ(page->items.size(), 7u);
      EXPECT_EQ(*page->next_cursor, page->items.back().seq);
      // Rows appended meanwhile are newer than every cursor: they never shift a later page.
      if (pages == 1) Download("01A", "late.csv", 1, "completed", "203.0.113.9", kT0);
      query.before_seq = page->next_cursor;
    }
    // With the actor filter: 23 downloads plus the late one of the unfiltered walk.
    const size_t expected = actor ? 24u : 26u;
    EXPECT_EQ(seen.size(), expected);
    EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
    EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), seen.size());
    EXPECT_EQ(pages, static_cast<int>((expected + 6) / 7));
  }
}

TEST_P(TaskStoreContractTest, ExpiredLeasesGoBackToTheQueueInTheirPlace) {
  for (const char* id : {"01A", "01B", "01C"}) ASSERT_TRUE(store_->Create(NewTask(id), {}).ok());
  Result<std::optional<Task>> a = store_->ClaimNext(kT0, "inst_a", kLease);
  ASSERT_TRUE(a.ok() && a->has_value());
  ASSERT_EQ((*a)->lease, (Lease{"inst_a", kT0 + kLease}));
  Result<std::optional<Task>> b = store_->ClaimNext(kT0, "inst_b", kLease);
  ASSERT_TRUE(b.ok() && b->has_value());
  ASSERT_EQ((*b)->id, "01B");

  // inst_a renews; inst_b froze.
  Result<Task> renewed =
      store_->Heartbeat("01A", {"inst_a", 1}, Progress{5, 10, 50}, kT0 + seconds(20), kLease);
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_EQ(renewed->lease->expires_at, kT0 + seconds(20) + kLease);
  EXPECT_EQ(renewed->progress.rows, 5);
  EXPECT_EQ(MustGet("01A").lease, renewed->lease);

  Result<std::optional<TimePoint>> wakeup = store_->NextWakeup(kT0 + seconds(1));
  ASSERT_TRUE(wakeup.ok());
  EXPECT_EQ(*wakeup, std::optional<TimePoint>(kT0 + kLease));  // 01B's lease

  Result<std::vector<std::string>> expired = store_->ExpireLeases(kT0 + kLease - milliseconds(1));
  ASSERT_TRUE(expired.ok());
  EXPECT_TRUE(expired->empty());
  expired = store_->ExpireLeases(kT0 + kLease);
  ASSERT_TRUE(expired.ok()) << expired.status().ToString();
  EXPECT_EQ(*expired, std::vector<std::string>{"01B"});
  Task requeued = MustGet("01B");
  EXPECT_EQ(requeued.state, TaskState::kPending);
  EXPECT_FALSE(requeued.lease.has_value());
  std::vector<TaskEvent> events = MustEvents("01B");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].type, "lease_expired");
  EXPECT_EQ(events[2].from, TaskState::kProcessing);
  EXPECT_EQ(events[2].to, TaskState::kPending);
  EXPECT_NE(events[2].detail.find("inst_b"), std::string::npos) << events[2].detail;
  EXPECT_EQ(MustGet("01A").state, TaskState::kProcessing);

  // The frozen owner wakes up: it can neither renew, nor commit, nor transition.
  const LeaseKey stale{"inst_b", 1};
  EXPECT_EQ(store_->Heartbeat("01B", stale, std::nullopt, kT0 + kLease, kLease).status().code(),
            StatusCode::kAborted);
  TransitionArgs succeed = Args(Trigger::kSucceed, kT0 + kLease);
  succeed.expect_lease = stale;
  EXPECT_EQ(store_->Transition("01B", succeed).status().code(), StatusCode::kAborted);

  // 01B kept its place: it is claimed before 01C, by whoever comes next.
  Result<std::optional<Task>> c = store_->ClaimNext(kT0 + kLease, "inst_c", kLease);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->id, "01B");
  // The expired run was a recovery, not an attempt.
  EXPECT_EQ((*c)->attempts, 1);
  EXPECT_EQ((*c)->recoveries, 1);
  EXPECT_EQ(store_->Heartbeat("01B", stale, std::nullopt, kT0 + kLease, kLease).status().code(),
            StatusCode::kAborted);
  EXPECT_TRUE(store_->Heartbeat("01B", {"inst_c", 1, 1}, std::nullopt, kT0 + kLease, kLease).ok());
}

TEST_P(TaskStoreContractTest, RecoverTakesBackOnlyTheInstancesOwnTasks) {
  for (const char* id : {"01A", "01B", "01C"}) ASSERT_TRUE(store_->Create(NewTask(id), {}).ok());
  ASSERT_TRUE(store_->ClaimNext(kT0, "inst_a", kLease).ok());
  ASSERT_TRUE(store_->ClaimNext(kT0, "inst_b", kLease).ok());
  ASSERT_TRUE(store_->ClaimNext(kT0, "inst_a", kLease).ok());
  Result<std::vector<std::string>> recovered =
      store_->RecoverProcessing(kT0 + seconds(1), "inst_a");
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(*recovered, (std::vector<std::string>{"01A", "01C"}));
  EXPECT_EQ(MustGet("01B").state, TaskState::kProcessing);  // inst_b may still be alive
  EXPECT_EQ(MustGet("01A").state, TaskState::kPending);
}

TEST_P(TaskStoreContractTest, CreateTakingKeyMovesAnExpiredKeyAtomically) {
  Task old_task = NewTask("01A");
  old_task.idempotency_key = "k";
  ASSERT_TRUE(store_->Create(old_task, {}).ok());
  Task fresh = NewTask("01B");
  fresh.idempotency_key = "k";
  EXPECT_EQ(store_->Create(fresh, {}).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(store_->CreateTakingKey(fresh, "01A", {}).ok());
  Result<std::optional<Task>> holder = store_->FindByIdempotencyKey("alice", "k");
  ASSERT_TRUE(holder.ok() && holder->has_value());
  EXPECT_EQ((*holder)->id, "01B");
  EXPECT_FALSE(MustGet("01A").idempotency_key.has_value());
  EXPECT_EQ(EventTypes("01A").back(), "idempotency_key_released");

  // A second request that also saw 01A as the holder lost the race: kAlreadyExists.
  Task late = NewTask("01C");
  late.idempotency_key = "k";
  EXPECT_EQ(store_->CreateTakingKey(late, "01A", {}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Get("01C").status().code(), StatusCode::kNotFound);
}

TEST_P(TaskStoreContractTest, TerminalTransitionRecordsPendingHooksAtomically) {
  ASSERT_TRUE(store_->Create(NotifyingTask("t1", WebhookAndTwoEmails()), {}).ok());
  Result<Task> pending = store_->Get("t1");
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->notifications.empty());  // nothing owed before the task finishes

  Result<Task> cancelled = store_->Transition("t1", Args(Trigger::kCancel, kT0));
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  ASSERT_EQ(cancelled->notifications.size(), 3u);
  EXPECT_EQ(cancelled->notifications[0].channel, "webhook");
  EXPECT_EQ(cancelled->notifications[0].target, "http://127.0.0.1:9/hook");
  EXPECT_EQ(cancelled->notifications[1].channel, "email");
  EXPECT_EQ(cancelled->notifications[2].target, "b@example.org");
  EXPECT_EQ(cancelled->notifications[2].hook, 2);
  for (const HookDelivery& d : cancelled->notifications) {
    EXPECT_EQ(d.status, DeliveryStatus::kPending);
    EXPECT_EQ(d.attempts, 0);
  }
  Result<Task> read = store_->Get("t1");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->notifications, cancelled->notifications);

  // The list and the pending scan see the same rows.
  Result<TaskPage> page = store_->List(TaskListQuery{});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].notifications.size(), 3u);
  Result<std::vector<Task>> owed = store_->PendingNotifications(10, "");
  ASSERT_TRUE(owed.ok());
  ASSERT_EQ(owed->size(), 1u);
  EXPECT_EQ((*owed)[0].id, "t1");
}

TEST_P(TaskStoreContractTest, TaskWithoutHooksOwesNothing) {
  ASSERT_TRUE(store_->Create(NotifyingTask("t1", Notify{}), {}).ok());
  ASSERT_TRUE(store_->Transition("t1", Args(Trigger::kCancel, kT0)).ok());
  Result<Task> read = store_->Get("t1");
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->notifications.empty());
  Result<std::vector<Task>> owed = store_->PendingNotifications(10, "");
  ASSERT_TRUE(owed.ok());
  EXPECT_TRUE(owed->empty());
}

TEST_P(TaskStoreContractTest, RecordAttemptSavesStateAndEventTogether) {
  ASSERT_TRUE(store_->Create(NotifyingTask("t1", WebhookAndTwoEmails()), {}).ok());
  Result<Task> done = store_->Transition("t1", Args(Trigger::kCancel, kT0));
  ASSERT_TRUE(done.ok());

  HookDelivery failed =
      ApplyAttempt(done->notifications[0], kT0 + milliseconds(5), Unavailable("HTTP 500"), 5);
  TaskEvent event;
  event.at = kT0 + milliseconds(5);
  event.type = "notification";
  event.detail = AttemptEventDetail(failed, 5);
  ASSERT_TRUE(store_->RecordNotificationAttempt("t1", failed, event).ok());
  for (int hook = 1; hook <= 2; ++hook) {
    HookDelivery ok =
        ApplyAttempt(done->notifications[hook], kT0 + milliseconds(9), Status::Ok(), 5);
    event.detail = AttemptEventDetail(ok, 5);
    ASSERT_TRUE(store_->RecordNotificationAttempt("t1", ok, event).ok());
  }

  Result<Task> read = store_->Get("t1");
  ASSERT_TRUE(read.ok());
  const HookDelivery& w = read->notifications[0];
  EXPECT_EQ(w.status, DeliveryStatus::kPending);
  EXPECT_EQ(w.attempts, 1);
  EXPECT_EQ(w.last_attempt_at, kT0 + milliseconds(5));
  EXPECT_EQ(w.last_error, "unavailable: HTTP 500");
  EXPECT_FALSE(w.delivered_at);
  EXPECT_EQ(read->notifications[1].status, DeliveryStatus::kDelivered);
  EXPECT_EQ(read->notifications[1].delivered_at, kT0 + milliseconds(9));

  Result<std::vector<TaskEvent>> events = store_->Events("t1");
  ASSERT_TRUE(events.ok());
  int notifications = 0;
  for (const TaskEvent& e : *events) {
    if (e.type != "notification") continue;
    ++notifications;
    EXPECT_EQ(e.task_id, "t1");
  }
  EXPECT_EQ(notifications, 3);
  EXPECT_NE(events->at(2).detail.find("outcome=retry"), std::string::npos) << events->at(2).detail;

  // Still owed: the webhook. An unknown hook is kNotFound and records no event.
  Result<std::vector<Task>> owed = store_->PendingNotifications(10, "");
  ASSERT_TRUE(owed.ok());
  EXPECT_EQ(owed->size(), 1u);
  HookDelivery ghost = failed;
  ghost.hook = 7;
  EXPECT_EQ(store_->RecordNotificationAttempt("t1", ghost, event).code(), StatusCode::kNotFound);
  Result<std::vector<TaskEvent>> after = store_->Events("t1");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), events->size());
}

TEST_P(TaskStoreContractTest, PendingScanPagesById) {
  for (const char* id : {"t1", "t2", "t3"}) {
    ASSERT_TRUE(store_->Create(NotifyingTask(id, WebhookAndTwoEmails()), {}).ok());
    ASSERT_TRUE(store_->Transition(id, Args(Trigger::kCancel, kT0)).ok());
  }
  Result<std::vector<Task>> first = store_->PendingNotifications(2, "");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[1].id, "t2");
  Result<std::vector<Task>> rest = store_->PendingNotifications(2, "t2");
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].id, "t3");
}

TEST_P(TaskStoreContractTest, NotificationClaimIsExclusiveUntilItExpires) {
  ASSERT_TRUE(store_->Create(NotifyingTask("t1", WebhookAndTwoEmails()), {}).ok());
  ASSERT_TRUE(store_->Transition("t1", Args(Trigger::kCancel, kT0)).ok());
  const TimePoint until = kT0 + seconds(60);

  Result<std::optional<HookDelivery>> a = store_->ClaimNotification("t1", 0, "inst_a", kT0, until);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->channel, "webhook");
  EXPECT_EQ((*a)->status, DeliveryStatus::kPending);
  // Another owner is refused while the claim lives; its owner may claim it again (a retry).
  Result<std::optional<HookDelivery>> b =
      store_->ClaimNotification("t1", 0, "inst_b", kT0 + seconds(59), until);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->has_value());
  Result<std::optional<HookDelivery>> again =
      store_->ClaimNotification("t1", 0, "inst_a", kT0 + seconds(1), until + seconds(1));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->has_value());
  // Other hooks of the task are claimed separately.
  Result<std::optional<HookDelivery>> other =
      store_->ClaimNotification("t1", 1, "inst_b", kT0, until);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->has_value());

  // A failed attempt keeps the claim: the owner retries, the other owner still waits.
  HookDelivery failed = ApplyAttempt(**a, kT0 + seconds(2), Unavailable("HTTP 500"), 5);
  TaskEvent event;
  event.at = kT0 + seconds(2);
  event.type = "notification";
  event.detail = AttemptEventDetail(failed, 5);
  ASSERT_TRUE(store_->RecordNotificationAttempt("t1", failed, event).ok());
  b = store_->ClaimNotification("t1", 0, "inst_b", kT0 + seconds(3), until);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->has_value());

  // Once the claim expired (its owner died), another owner takes it, with the stored state.
  b = store_->ClaimNotification("t1", 0, "inst_b", until + seconds(1), until + seconds(61));
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ((*b)->attempts, 1);
  a = store_->ClaimNotification("t1", 0, "inst_a", until + seconds(2), until + seconds(62));
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->has_value());

  // A delivered hook is claimed by no one, even its owner or after any time.
  HookDelivery ok = ApplyAttempt(**b, until + seconds(3), Status::Ok(), 5);
  event.detail = AttemptEventDetail(ok, 5);
  ASSERT_TRUE(store_->RecordNotificationAttempt("t1", ok, event).ok());
  for (const char* owner : {"inst_a", "inst_b", "inst_c"}) {
    Result<std::optional<HookDelivery>> late =
        store_->ClaimNotification("t1", 0, owner, until + seconds(999), until + seconds(1059));
    ASSERT_TRUE(late.ok());
    EXPECT_FALSE(late->has_value()) << owner;
  }

  // No such hook, no such task: kNotFound.
  EXPECT_EQ(store_->ClaimNotification("t1", 7, "inst_a", kT0, until).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->ClaimNotification("nope", 0, "inst_a", kT0, until).status().code(),
            StatusCode::kNotFound);
}

TEST_P(TaskStoreContractTest, ConcurrentNotificationClaimsHaveOneWinner) {
  constexpr int kTasks = 10;
  for (int i = 0; i < kTasks; ++i) {
    const std::string id = "t" + std::to_string(10 + i);
    ASSERT_TRUE(store_->Create(NotifyingTask(id, WebhookAndTwoEmails()), {}).ok());
    ASSERT_TRUE(store_->Transition(id, Args(Trigger::kCancel, kT0)).ok());
  }
  constexpr int kClaimants = 6;
  std::mutex mu;
  std::map<std::pair<std::string, int>, std::vector<int>> winners;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int c = 0; c < kClaimants; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; i < kTasks; ++i) {
        const std::string id = "t" + std::to_string(10 + i);
        for (int hook = 0; hook < 3; ++hook) {
          Result<std::optional<HookDelivery>> r = store_->ClaimNotification(
              id, hook, "inst_" + std::to_string(c), kT0, kT0 + seconds(60));
          std::lock_guard<std::mutex> lock(mu);
          if (!r.ok()) {
            errors.push_back(r.status().ToString());
          } else if (r->has_value()) {
            winners[{id, hook}].push_back(c);
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(winners.size(), static_cast<size_t>(kTasks * 3));
  for (const auto& [key, who] : winners) {
    EXPECT_EQ(who.size(), 1u) << key.first << " hook " << key.second;
  }
}

namespace {

// Counts the deliveries of each hook over every dispatcher that shares it.
class CountingNotifier final : public Notifier {
 public:
  explicit CountingNotifier(std::map<std::pair<std::string, int>, int>& counts, std::mutex& mu)
      : counts_(counts), mu_(mu) {}
  Status Deliver(const Task& task, const HookDelivery& d) override {
    std::this_thread::yield();  // lets the other dispatcher run while this one delivers
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[{task.id, d.hook}];
    return Status::Ok();
  }

 private:
  std::map<std::pair<std::string, int>, int>& counts_;
  std::mutex& mu_;
};

}  // namespace

TEST_P(TaskStoreContractTest, TwoDispatchersOnOneStoreDeliverEachHookOnce) {
  constexpr int kTasks = 12;
  std::vector<Task> finished;
  for (int i = 0; i < kTasks; ++i) {
    const std::string id = "t" + std::to_string(10 + i);
    ASSERT_TRUE(store_->Create(NotifyingTask(id, WebhookAndTwoEmails()), {}).ok());
    Result<Task> done = store_->Transition(id, Args(Trigger::kCancel, kT0));
    ASSERT_TRUE(done.ok());
    finished.push_back(*done);
  }
  std::mutex mu;
  std::map<std::pair<std::string, int>, int> counts;
  CountingNotifier notifier_a(counts, mu), notifier_b(counts, mu);
  fakes::FakeClock clock(kT0 + seconds(1));
  NullLogger logger;
  DispatcherOptions options;
  options.retry_base = Millis(20);
  options.owner = "inst_a";
  NotificationDispatcher a(*store_, *store_, clock, logger, options);
  options.owner = "inst_b";
  NotificationDispatcher b(*store_, *store_, clock, logger, options);
  a.SetNotifier(kWebhookChannel, notifier_a);
  a.SetNotifier(kEmailChannel, notifier_a);
  b.SetNotifier(kWebhookChannel, notifier_b);
  b.SetNotifier(kEmailChannel, notifier_b);
  // Both find every delivery pending at start, and both are told of every finished task, as
  // instances are when one finishes a task while the other starts.
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  for (const Task& t : finished) {
    a.OnTerminal(t);
    b.OnTerminal(t);
  }
  auto all_delivered = [&] {
    Result<std::vector<Task>> owed = store_->PendingNotifications(100, "");
    return owed.ok() && owed->empty();
  };
  const auto deadline = std::chrono::steady_clock::now() + seconds(20);
  while (!all_delivered() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(all_delivered());
  a.Stop();
  b.Stop();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(counts.size(), static_cast<size_t>(kTasks * 3));
  for (const auto& [key, n] : counts) EXPECT_EQ(n, 1) << key.first << " hook " << key.second;
  for (const Task& t : finished) {
    Result<Task> read = store_->Get(t.id);
    ASSERT_TRUE(read.ok());
    for (const HookDelivery& d : read->notifications) {
      EXPECT_EQ(d.status, DeliveryStatus::kDelivered);
      EXPECT_EQ(d.attempts, 1);
    }
  }
}

TEST_P(TaskStoreContractTest, ListExpiredFilesFindsFinishedTasksWithFilesPastTheirExpiry) {
  Finish(*store_, "01A", seconds(100), TaskState::kSucceeded, kT0);                  // due T0+100
  Finish(*store_, "01B", seconds(10), TaskState::kSucceeded, kT0 + seconds(5));      // due T0+15
  Finish(*store_, "01C", seconds(10), TaskState::kFailed, kT0);                      // no files
  Finish(*store_, "01D", seconds(10), TaskState::kCancelled, kT0);                   // no files
  Finish(*store_, "01E", seconds(10), TaskState::kSucceeded, kT0, /*files=*/false);  // empty
  Finish(*store_, "01G", seconds(20), TaskState::kSucceeded, kT0);                   // due T0+20
  CreateUnfinished("01F", "01I");

  auto expired = [&](TimePoint now, int limit) { return ExpiredFiles(now, limit); };
  using Ids = std::vector<std::string>;
  // The failed and the cancelled task ran: their objects are due for removal at once, until the
  // removal is recorded (FilesRemoved, as the scheduler does after its DeleteAll).
  Ids leftovers = expired(kT0, 10);
  std::sort(leftovers.begin(), leftovers.end());
  EXPECT_EQ(leftovers, (Ids{"01C", "01D"}));
  ASSERT_TRUE(store_->FilesRemoved("01C").ok());
  ASSERT_TRUE(store_->FilesRemoved("01D").ok());
  EXPECT_FALSE(MustGet("01C").files_to_remove);
  EXPECT_TRUE(store_->FilesRemoved("01C").ok()) << "a no-op the second time";
  EXPECT_EQ(store_->FilesRemoved("01Z").code(), StatusCode::kNotFound);
  EXPECT_EQ(expired(kT0 + seconds(14), 10), Ids{});
  EXPECT_EQ(expired(kT0 + seconds(15), 10), Ids{"01B"});  // at files_expire_at: due
  EXPECT_EQ(expired(kT0 + seconds(100), 10), (Ids{"01B", "01G", "01A"}));  // by expiry
  EXPECT_EQ(expired(kT0 + seconds(100), 2), (Ids{"01B", "01G"}));
  EXPECT_EQ(expired(kT0 + seconds(10'000), 10).size(), 3u) << "never Pending/Processing ones";
  EXPECT_EQ(store_->ListExpiredFiles(kT0, 0).status().code(), StatusCode::kInvalidArgument);

  // Once its files are recorded as gone, a task is not listed again; the expiry stays.
  Result<Task> cleared = store_->ReplaceFiles("01B", {}, "expired", kT0 + seconds(16), {});
  ASSERT_TRUE(cleared.ok()) << cleared.status().ToString();
  EXPECT_TRUE(cleared->files.empty());
  EXPECT_FALSE(cleared->manifest.has_value());
  EXPECT_EQ(cleared->files_expire_at, std::optional<TimePoint>(kT0 + seconds(15)));
  EXPECT_EQ(EventTypes("01B").back(), "expired");
  EXPECT_EQ(expired(kT0 + seconds(100), 10), (Ids{"01G", "01A"}));
}

// Every method that names a task answers kNotFound for an unknown one, and changes nothing.
TEST_P(TaskStoreContractTest, UnknownTasksAreNotFound) {
  const std::string id = "01NOSUCHTASK";
  const EventOrigin origin{"alice", ""};
  EXPECT_EQ(store_->Get(id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Revision(id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Events(id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Transition(id, Args(Trigger::kCancel, kT0)).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->RequestCancel(id, kT0, origin).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ReplaceFiles(id, {}, "files_deleted", kT0, origin).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->UpdateProgress(id, Progress{1}, kT0).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->FilesRemoved(id).code(), StatusCode::kNotFound);
  TaskEvent event;
  event.task_id = id;
  event.at = kT0;
  event.type = "download";
  EXPECT_EQ(store_->AppendEvent(event).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->RecordNotificationAttempt(id, HookDelivery{}, event).code(),
            StatusCode::kNotFound);
  Task next = NewTask("01NEW");
  next.idempotency_key = "k";
  EXPECT_EQ(store_->CreateTakingKey(next, id, origin).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("01NEW").status().code(), StatusCode::kNotFound);
  Result<EventPage> all = store_->ListEvents({});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->items.empty());
}

// Every page and batch asks for at least one item.
TEST_P(TaskStoreContractTest, LimitsBelowOneAreInvalid) {
  EXPECT_EQ(store_->List(TaskListQuery{.limit = 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListEvents(EventQuery{.limit = 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListExpiredFiles(kT0, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->PendingNotifications(0, "").status().code(), StatusCode::kInvalidArgument);
}

// expect_state lets a caller act on what it last saw; a mismatch changes nothing.
TEST_P(TaskStoreContractTest, TransitionGuardedByExpectedState) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  TransitionArgs cancel = Args(Trigger::kCancel, kT0 + seconds(1));
  cancel.expect_state = TaskState::kProcessing;
  EXPECT_EQ(store_->Transition("01A", cancel).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(MustGet("01A").state, TaskState::kPending);
  EXPECT_EQ(EventTypes("01A"), (std::vector<std::string>{"created"}));
  cancel.expect_state = TaskState::kPending;
  Result<Task> cancelled = store_->Transition("01A", cancel);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->state, TaskState::kCancelled);
  EXPECT_EQ(MustGet("01A"), *cancelled);
  // Terminal states never change.
  EXPECT_EQ(store_->Transition("01A", Args(Trigger::kStart, kT0 + seconds(2))).status().code(),
            StatusCode::kFailedPrecondition);
}

// CommitFile: the file, the checkpoint and the "checkpoint" event together, only under the
// claim's lease and only for a checkpoint that follows the files.
TEST_P(TaskStoreContractTest, CommitFileNeedsTheLeaseAndAFollowingCheckpoint) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  ASSERT_EQ(Claim(kT0), "01A");
  const LeaseKey key{kOwner, 1, 0};
  Checkpoint next;
  next.next_file = 2;
  next.rows = 10;
  next.bytes = 100;
  Result<Task> committed = store_->CommitFile("01A", key, Part(1, 10, 100), next, kT0 + seconds(1));
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(committed->files, std::vector<FileInfo>{Part(1, 10, 100)});
  EXPECT_EQ(committed->checkpoint, next);
  EXPECT_EQ(MustGet("01A"), *committed);
  EXPECT_EQ(EventTypes("01A").back(), "checkpoint");
  EXPECT_EQ(MustEvents("01A").back().actor, kOwner);

  Checkpoint skipped = next;
  skipped.next_file = 4;
  EXPECT_EQ(
      store_->CommitFile("01A", key, Part(2, 10, 100), skipped, kT0 + seconds(2)).status().code(),
      StatusCode::kFailedPrecondition);
  const LeaseKey other{"inst_b", 1, 0};
  Checkpoint third{.next_file = 3, .rows = 20, .bytes = 200};
  EXPECT_EQ(
      store_->CommitFile("01A", other, Part(2, 10, 100), third, kT0 + seconds(2)).status().code(),
      StatusCode::kAborted);
  EXPECT_EQ(MustGet("01A"), *committed) << "refused commits change nothing";
  EXPECT_EQ(MustEvents("01A").size(), 3u);  // created, start, checkpoint
}

// Heartbeat renews the lease from `now` and saves the progress it carries, with no event.
TEST_P(TaskStoreContractTest, HeartbeatRenewsTheLeaseWithoutAnEvent) {
  ASSERT_TRUE(store_->Create(NewTask("01A"), {}).ok());
  ASSERT_EQ(Claim(kT0), "01A");
  const LeaseKey key{kOwner, 1, 0};
  Result<Task> beat = store_->Heartbeat("01A", key, Progress{5, 10, 50}, kT0 + seconds(10), kLease);
  ASSERT_TRUE(beat.ok()) << beat.status().ToString();
  ASSERT_TRUE(beat->lease.has_value());
  EXPECT_EQ(beat->lease->expires_at, kT0 + seconds(10) + kLease);
  EXPECT_EQ(beat->progress, (Progress{5, 10, 50}));
  EXPECT_EQ(MustGet("01A"), *beat);
  EXPECT_EQ(EventTypes("01A"), (std::vector<std::string>{"created", "start"}));
  // Not yet expired at the old expiry; the next wakeup is the new one.
  Result<std::vector<std::string>> expired = store_->ExpireLeases(kT0 + kLease);
  ASSERT_TRUE(expired.ok());
  EXPECT_TRUE(expired->empty());
  Result<std::optional<TimePoint>> wakeup = store_->NextWakeup(kT0 + kLease);
  ASSERT_TRUE(wakeup.ok());
  EXPECT_EQ(*wakeup, std::optional<TimePoint>(kT0 + seconds(10) + kLease));
}

// A key taken by another task meanwhile cannot be taken again from the task that held it.
TEST_P(TaskStoreContractTest, CreateTakingKeyFromATaskThatNoLongerHoldsItIsRefused) {
  Task first = NewTask("01A");
  first.idempotency_key = "k";
  ASSERT_TRUE(store_->Create(first, {}).ok());
  Task second = NewTask("01B");
  second.idempotency_key = "k";
  second.created_at = second.updated_at = kT0 + seconds(90'000);
  ASSERT_TRUE(store_->CreateTakingKey(second, "01A", {"alice", ""}).ok());
  Task third = NewTask("01C");
  third.idempotency_key = "k";
  third.created_at = third.updated_at = kT0 + seconds(90'001);
  EXPECT_EQ(store_->CreateTakingKey(third, "01A", {"alice", ""}).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Get("01C").status().code(), StatusCode::kNotFound);
  Result<std::optional<Task>> holder = store_->FindByIdempotencyKey("alice", "k");
  ASSERT_TRUE(holder.ok() && holder->has_value());
  EXPECT_EQ((*holder)->id, "01B");
  EXPECT_EQ(EventTypes("01A"), (std::vector<std::string>{"created", "idempotency_key_released"}));
}

// The revision changes with each committed change to a task and with nothing else.
TEST_P(TaskStoreContractTest, RevisionMovesWithEachChangeOnly) {
  ASSERT_TRUE(store_->Create(NotifyingTask("01A", WebhookAndTwoEmails()), {}).ok());
  auto revision = [&] {
    Result<TaskRevision> r = store_->Revision("01A");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return int64_t{-1};
    EXPECT_EQ(r->principal, "alice");
    return r->revision;
  };
  const int64_t created = revision();
  EXPECT_EQ(MustGet("01A").revision, created);
  EXPECT_EQ(revision(), created) << "reads change nothing";
  ASSERT_EQ(Claim(kT0), "01A");
  const int64_t started = revision();
  EXPECT_NE(started, created);
  ASSERT_TRUE(store_->UpdateProgress("01A", Progress{3}, kT0 + seconds(1)).ok());
  const int64_t progressed = revision();
  EXPECT_NE(progressed, started);
  Result<Task> done = store_->Transition("01A", Args(Trigger::kFail, kT0 + seconds(2)));
  ASSERT_TRUE(done.ok());
  const int64_t failed = revision();
  EXPECT_NE(failed, progressed);
  EXPECT_EQ(done->revision, failed);
  // A notification attempt is a change to the task; a no-op is not.
  TaskEvent event;
  event.at = kT0 + seconds(3);
  event.type = "notification";
  HookDelivery tried = done->notifications[0];
  tried.attempts = 1;
  ASSERT_TRUE(store_->RecordNotificationAttempt("01A", tried, event).ok());
  const int64_t notified = revision();
  EXPECT_NE(notified, failed);
  ASSERT_TRUE(store_->ReplaceFiles("01A", {}, "files_deleted", kT0 + seconds(4), {}).ok());
  ASSERT_TRUE(store_->UpdateProgress("01A", Progress{9}, kT0 + seconds(4)).ok());
  EXPECT_EQ(revision(), notified);
}

// /metrics and /readyz.
TEST_P(TaskStoreContractTest, CountByStateAndCheckWritable) {
  EXPECT_TRUE(store_->CheckWritable().ok());
  Result<std::map<TaskState, int64_t>> none = store_->CountByState();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty()) << "states with no task are absent";
  for (const char* id : {"01A", "01B", "01C"}) ASSERT_TRUE(store_->Create(NewTask(id), {}).ok());
  ASSERT_EQ(Claim(kT0), "01A");
  ASSERT_TRUE(store_->Transition("01C", Args(Trigger::kCancel, kT0)).ok());
  Result<std::map<TaskState, int64_t>> counts = store_->CountByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (std::map<TaskState, int64_t>{{TaskState::kPending, 1},
                                                   {TaskState::kProcessing, 1},
                                                   {TaskState::kCancelled, 1}}));
  EXPECT_TRUE(store_->CheckWritable().ok());
}

}  // namespace exportd
