#include "core/schedule_runner.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/schedule_service.h"
#include "core/time_format.h"
#include "core/ulid.h"
#include "storage/tz/date_time_zone_db.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_schedule_store.h"
#include "tests/fakes/memory_task_store.h"

namespace exportd {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TimePoint At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

class ScheduleRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tasks_.OnScheduleRun(
        [this](const std::string& id, const ScheduleRun& run) { schedules_.SetLastRun(id, run); });
  }

  // Stands in for ExportService::CreateForSchedule: stores the firing's task as it would (the
  // store refuses a taken slot), unless a test made it fail.
  Result<Task> Fire(const Schedule& schedule, TimePoint slot, const EventOrigin& origin) {
    if (!fail_with_.ok()) return fail_with_;
    ASSIGN_OR_RETURN(std::shared_ptr<const TimeZone> zone, zones_.Find(schedule.time_zone));
    CreateExportArgs args = FiringArgs(schedule, *zone, slot);
    Task task;
    task.id = NewUlid(clock_.Now());
    task.principal = schedule.principal;
    task.request = args.request;
    task.query_hash = "h";
    task.tag = args.tag;
    task.created_at = task.updated_at = clock_.Now();
    task.schedule_id = args.schedule_id;
    task.schedule_slot = args.schedule_slot;
    RETURN_IF_ERROR(tasks_.Create(task, origin));
    return task;
  }

  // A schedule as ScheduleService stores it, created (and enabled) now.
  Schedule Add(const std::string& cron, CatchUp catch_up = CatchUp::kLatest,
               const std::string& zone = "UTC") {
    Schedule s;
    s.id = NewScheduleId(clock_.Now());
    s.principal = "alice";
    s.name = "s" + std::to_string(++added_);
    s.cron = cron;
    s.time_zone = zone;
    s.request.request.dataset = "samples";
    s.catch_up = catch_up;
    s.created_at = s.updated_at = s.enabled_at = clock_.Now();
    EXPECT_TRUE(schedules_.Create(s).ok());
    return s;
  }

  // The slots fired for `schedule_id` (from the tasks' tags), in creation order.
  std::vector<std::string> Fired(const std::string& schedule_id) {
    TaskListQuery query;
    query.limit = 1000;
    Result<TaskPage> page = tasks_.List(query);
    EXPECT_TRUE(page.ok());
    std::vector<std::string> slots;
    for (auto it = page->items.rbegin(); it != page->items.rend(); ++it) {
      if (it->schedule_id == schedule_id) slots.push_back(FormatRfc3339Seconds(*it->schedule_slot));
    }
    return slots;
  }

  void SetClock(TimePoint t) { clock_.Advance(t - clock_.Now()); }

  fakes::FakeClock clock_{At("2026-03-07T10:30:00Z")};
  fakes::MemoryScheduleStore schedules_;
  fakes::MemoryTaskStore tasks_;
  DateTimeZoneDb zones_;
  NullLogger logger_;
  Status fail_with_;
  int added_ = 0;
  ScheduleRunner runner_{schedules_,
                         zones_,
                         clock_,
                         logger_,
                         [this](const Schedule& s, TimePoint slot, const EventOrigin& origin) {
                           return Fire(s, slot, origin);
                         },
                         ScheduleRunnerOptions{}};
};

TEST_F(ScheduleRunnerTest, FiresEachSlotOnceAndRecordsTheLastRun) {
  const Schedule s = Add("0 * * * *");
  ScheduleRunStats stats = runner_.RunOnce();
  EXPECT_EQ(stats.fired, 0);
  EXPECT_EQ(stats.next, At("2026-03-07T11:00:00Z"));

  SetClock(At("2026-03-07T11:00:00Z"));
  stats = runner_.RunOnce();
  EXPECT_EQ(stats.fired, 1);
  EXPECT_EQ(stats.next, At("2026-03-07T12:00:00Z"));
  clock_.Advance(seconds(5));
  EXPECT_EQ(runner_.RunOnce().fired, 0);
  EXPECT_EQ(Fired(s.id), std::vector<std::string>{"2026-03-07T11:00:00Z"});

  Result<Schedule> stored = schedules_.Get(s.id);
  ASSERT_TRUE(stored.ok() && stored->last_run);
  EXPECT_EQ(stored->last_run->slot, At("2026-03-07T11:00:00Z"));
  Result<Task> task = tasks_.Get(stored->last_run->task_id);
  ASSERT_TRUE(task.ok());
  EXPECT_EQ(task->tag, "schedule=s1;slot=2026-03-07T11:00:00Z");
  EXPECT_EQ(task->principal, "alice");
}

// After downtime (the clock jumps over four slots): latest fires the last, all each, none none.
TEST_F(ScheduleRunnerTest, CatchUpAfterDowntime) {
  const Schedule latest = Add("0 * * * *", CatchUp::kLatest);
  const Schedule all = Add("0 * * * *", CatchUp::kAll);
  const Schedule none = Add("0 * * * *", CatchUp::kNone);
  SetClock(At("2026-03-07T14:10:00Z"));
  ScheduleRunStats stats = runner_.RunOnce();
  EXPECT_EQ(stats.fired, 5);
  EXPECT_EQ(Fired(latest.id), std::vector<std::string>{"2026-03-07T14:00:00Z"});
  EXPECT_EQ(Fired(all.id),
            (std::vector<std::string>{"2026-03-07T11:00:00Z", "2026-03-07T12:00:00Z",
                                      "2026-03-07T13:00:00Z", "2026-03-07T14:00:00Z"}));
  EXPECT_TRUE(Fired(none.id).empty());
  // On time (within the grace), catch_up none fires too.
  SetClock(At("2026-03-07T15:00:30Z"));
  EXPECT_EQ(runner_.RunOnce().fired, 3);
  EXPECT_EQ(Fired(none.id), std::vector<std::string>{"2026-03-07T15:00:00Z"});
}

TEST_F(ScheduleRunnerTest, DisabledAndDeletedSchedulesDoNotFire) {
  Schedule paused = Add("0 * * * *");
  paused.enabled = false;
  ASSERT_TRUE(schedules_.Update(paused).ok());
  const Schedule deleted = Add("0 * * * *");
  ASSERT_TRUE(schedules_.Delete(deleted.id).ok());
  SetClock(At("2026-03-07T11:00:00Z"));
  const ScheduleRunStats stats = runner_.RunOnce();
  EXPECT_EQ(stats.fired, 0);
  EXPECT_EQ(stats.failed, 0);
  EXPECT_FALSE(stats.next);
  EXPECT_TRUE(Fired(paused.id).empty());
  EXPECT_TRUE(Fired(deleted.id).empty());
}

// A slot that already has a task (another instance fired it) is skipped silently, and not
// tried again.
TEST_F(ScheduleRunnerTest, ASlotFiredElsewhereIsSkipped) {
  const Schedule s = Add("0 * * * *");
  SetClock(At("2026-03-07T11:00:00Z"));
  tasks_.OnScheduleRun(nullptr);  // the other instance's run, not yet seen in the schedule
  ASSERT_TRUE(Fire(*schedules_.Get(s.id), At("2026-03-07T11:00:00Z"), {}).ok());
  ScheduleRunStats stats = runner_.RunOnce();
  EXPECT_EQ(stats.fired, 0);
  EXPECT_EQ(stats.skipped, 1);
  EXPECT_EQ(stats.failed, 0);
  EXPECT_EQ(runner_.RunOnce().skipped, 0);
  EXPECT_EQ(Fired(s.id), std::vector<std::string>{"2026-03-07T11:00:00Z"});
}

// A failed firing (the owner's quota, say) leaves the slot unfired: the next run fires it.
TEST_F(ScheduleRunnerTest, AFailedSlotIsRetriedNextRun) {
  const Schedule s = Add("0 * * * *");
  SetClock(At("2026-03-07T11:00:00Z"));
  fail_with_ = Status(StatusCode::kResourceExhausted, "quota");
  EXPECT_EQ(runner_.RunOnce().failed, 1);
  EXPECT_TRUE(Fired(s.id).empty());
  fail_with_ = Status::Ok();
  clock_.Advance(seconds(30));
  EXPECT_EQ(runner_.RunOnce().fired, 1);
  EXPECT_EQ(Fired(s.id), std::vector<std::string>{"2026-03-07T11:00:00Z"});
}

// America/Los_Angeles: 02:30 does not exist on 2026-03-08 (fires once, at 03:00 PDT); 01:30
// occurs twice on 2026-11-01 (fires once, at the first, PDT).
TEST_F(ScheduleRunnerTest, DstDaysInLosAngeles) {
  const Schedule spring = Add("30 2 * * *", CatchUp::kAll, "America/Los_Angeles");
  for (TimePoint t = At("2026-03-07T11:00:00Z"); t <= At("2026-03-09T12:00:00Z");
       t += minutes(15)) {
    SetClock(t);
    runner_.RunOnce();
  }
  EXPECT_EQ(Fired(spring.id),
            (std::vector<std::string>{"2026-03-08T10:00:00Z", "2026-03-09T09:30:00Z"}));

  SetClock(At("2026-10-31T12:00:00Z"));
  const Schedule fall = Add("30 1 * * *", CatchUp::kAll, "America/Los_Angeles");
  ASSERT_TRUE(schedules_.Delete(spring.id).ok());
  for (TimePoint t = At("2026-10-31T12:00:00Z"); t <= At("2026-11-02T12:00:00Z");
       t += minutes(15)) {
    SetClock(t);
    runner_.RunOnce();
  }
  EXPECT_EQ(Fired(fall.id),
            (std::vector<std::string>{"2026-11-01T08:30:00Z", "2026-11-02T09:30:00Z"}));
}

// A daily template fired for the spring-forward slot: until is that day's local midnight.
TEST_F(ScheduleRunnerTest, DailyTemplateGetsUntilOfTheSlotsDay) {
  Schedule s = Add("30 2 * * *", CatchUp::kLatest, "America/Los_Angeles");
  s.request.request.export_type = ExportType::kDaily;
  ASSERT_TRUE(schedules_.Update(s).ok());
  SetClock(At("2026-03-08T10:00:00Z"));
  ASSERT_EQ(runner_.RunOnce().fired, 1);
  Result<Schedule> stored = schedules_.Get(s.id);
  ASSERT_TRUE(stored.ok() && stored->last_run);
  Result<Task> task = tasks_.Get(stored->last_run->task_id);
  ASSERT_TRUE(task.ok());
  EXPECT_EQ(task->request.until, At("2026-03-08T08:00:00Z"));
  EXPECT_EQ(task->tag, "schedule=s1;slot=2026-03-08T10:00:00Z");
}

// A manual run takes its own instant: the cron slot at the same second still fires, once.
TEST_F(ScheduleRunnerTest, AManualRunDoesNotTakeACronSlot) {
  ScheduleService service(
      schedules_, zones_, clock_, [](const CreateExportArgs&) { return Status::Ok(); },
      ScheduleHooks{nullptr, [this](const Schedule& s, TimePoint slot, const EventOrigin& o) {
                      return Fire(s, slot, o);
                    }});
  const Schedule s = Add("0 * * * *");
  SetClock(At("2026-03-07T11:00:00Z"));
  Result<Task> manual = service.Run(Principal{"alice", false, ""}, s.id);
  ASSERT_TRUE(manual.ok()) << manual.status().ToString();
  EXPECT_EQ(manual->schedule_slot, At("2026-03-07T11:00:00.001Z"));
  EXPECT_EQ(manual->tag, "schedule=s1;slot=2026-03-07T11:00:00.001Z");
  EXPECT_EQ(runner_.RunOnce().fired, 1);
  EXPECT_EQ(runner_.RunOnce().fired, 0);
  // A second manual run within the same millisecond takes the next one.
  Result<Task> again = service.Run(Principal{"alice", false, ""}, s.id);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->schedule_slot, At("2026-03-07T11:00:00.002Z"));
  // Other principals: as a missing schedule.
  EXPECT_EQ(service.Run(Principal{"bob", false, ""}, s.id).status().code(), StatusCode::kNotFound);
  // After a manual run as the last run, the next cron slot fires once.
  SetClock(At("2026-03-07T12:00:00Z"));
  EXPECT_EQ(runner_.RunOnce().fired, 1);
  EXPECT_EQ(runner_.RunOnce().fired, 0);
}

TEST_F(ScheduleRunnerTest, StartsStopsAndWakes) {
  runner_.Start();
  runner_.Wake();
  runner_.Stop();
  runner_.Stop();
}

}  // namespace
}  // namespace exportd
