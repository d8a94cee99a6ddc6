#include "core/schedule_service.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/time_format.h"
#include "storage/tz/date_time_zone_db.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_schedule_store.h"

namespace exportd {
namespace {

TimePoint At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

std::vector<std::string> Format(const std::vector<SysSeconds>& runs) {
  std::vector<std::string> out;
  for (SysSeconds t : runs) out.push_back(FormatRfc3339Seconds(t));
  return out;
}

ScheduleSpec Nightly() {
  ScheduleSpec spec;
  spec.name = "nightly";
  spec.cron = "0 10 * * *";
  spec.time_zone = "America/Los_Angeles";
  spec.request.request.dataset = "samples";
  return spec;
}

class ScheduleServiceTest : public ::testing::Test {
 protected:
  // Stands in for ExportService::Check: only dataset "samples" exists, and its pointer is the
  // create-export body's.
  static Status CheckTemplate(const CreateExportArgs& args) {
    if (args.request.dataset != "samples") {
      return InvalidArgument("unknown dataset '" + args.request.dataset + "'", "/dataset");
    }
    return Status::Ok();
  }

  fakes::FakeClock clock_{At("2026-03-07T12:00:00Z")};
  fakes::MemoryScheduleStore store_;
  DateTimeZoneDb zones_;
  ScheduleService service_{store_, zones_, clock_, &CheckTemplate};
  Principal alice_{"alice", false, ""};
  Principal bob_{"bob", false, ""};
  Principal admin_{"root", true, ""};
};

TEST_F(ScheduleServiceTest, CreateStoresAndShowsTheNextRuns) {
  Result<ScheduleView> created = service_.Create(alice_, Nightly());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const Schedule& s = created->schedule;
  EXPECT_TRUE(IsScheduleId(s.id));
  EXPECT_EQ(s.principal, "alice");
  EXPECT_EQ(s.created_at, clock_.Now());
  EXPECT_EQ(s.updated_at, clock_.Now());
  EXPECT_EQ(s.enabled_at, clock_.Now());
  EXPECT_FALSE(s.last_run);
  // 10:00 in Los Angeles: PST (-8) until the change on 2026-03-08, PDT (-7) from then.
  EXPECT_EQ(Format(created->next_runs),
            (std::vector<std::string>{"2026-03-07T18:00:00Z", "2026-03-08T17:00:00Z",
                                      "2026-03-09T17:00:00Z", "2026-03-10T17:00:00Z",
                                      "2026-03-11T17:00:00Z"}));
  Result<Schedule> stored = store_.Get(s.id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, s);
}

TEST_F(ScheduleServiceTest, ZoneIsStoredAsTheDatabaseSpellsIt) {
  ScheduleSpec spec = Nightly();
  spec.time_zone = "UTC";
  Result<ScheduleView> created = service_.Create(alice_, spec);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->schedule.time_zone, "UTC");
}

TEST_F(ScheduleServiceTest, EveryBadMemberIsRefusedWithItsPointerAndNothingIsStored) {
  struct Case {
    const char* what;
    void (*change)(ScheduleSpec&);
    const char* pointer;
  };
  const Case cases[] = {
      {"empty name", [](ScheduleSpec& s) { s.name = ""; }, "/name"},
      {"long name", [](ScheduleSpec& s) { s.name = std::string(201, 'x'); }, "/name"},
      {"bad cron", [](ScheduleSpec& s) { s.cron = "61 * * * *"; }, "/cron"},
      {"six fields", [](ScheduleSpec& s) { s.cron = "0 0 * * * *"; }, "/cron"},
      {"unknown zone", [](ScheduleSpec& s) { s.time_zone = "Mars/Olympus"; }, "/time_zone"},
      {"bad template", [](ScheduleSpec& s) { s.request.request.dataset = "nope"; },
       "/request/dataset"},
  };
  for (const Case& c : cases) {
    ScheduleSpec spec = Nightly();
    c.change(spec);
    Result<ScheduleView> created = service_.Create(alice_, spec);
    ASSERT_FALSE(created.ok()) << c.what;
    EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_EQ(created.status().pointer(), c.pointer) << c.what;
  }
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(ScheduleServiceTest, OthersSchedulesAreNotFoundAndAdminsSeeAll) {
  Result<ScheduleView> a = service_.Create(alice_, Nightly());
  Result<ScheduleView> b = service_.Create(bob_, Nightly());
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string id = a->schedule.id;

  EXPECT_TRUE(service_.Get(alice_, id).ok());
  EXPECT_EQ(service_.Get(bob_, id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_.Update(bob_, id, SchedulePatch{.enabled = false}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_.Delete(bob_, id).code(), StatusCode::kNotFound);
  EXPECT_EQ(service_.Get(alice_, "sch_nonsense").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_.Get(alice_, NewScheduleId(clock_.Now())).status().code(),
            StatusCode::kNotFound);

  Result<std::vector<ScheduleView>> mine = service_.List(alice_);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].schedule.id, id);
  Result<std::vector<ScheduleView>> all = service_.List(admin_);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  EXPECT_TRUE(service_.Get(admin_, id).ok());
  EXPECT_TRUE(service_.Delete(admin_, id).ok());
  EXPECT_EQ(service_.Get(alice_, id).status().code(), StatusCode::kNotFound);
}

TEST_F(ScheduleServiceTest, UpdateChangesOnlyWhatIsGiven) {
  Result<ScheduleView> created = service_.Create(alice_, Nightly());
  ASSERT_TRUE(created.ok());
  clock_.Advance(std::chrono::minutes(1));

  SchedulePatch patch;
  patch.enabled = false;
  patch.catch_up = CatchUp::kAll;
  Result<ScheduleView> paused = service_.Update(alice_, created->schedule.id, patch);
  ASSERT_TRUE(paused.ok()) << paused.status().ToString();
  EXPECT_FALSE(paused->schedule.enabled);
  EXPECT_EQ(paused->schedule.catch_up, CatchUp::kAll);
  EXPECT_EQ(paused->schedule.name, "nightly");
  EXPECT_EQ(paused->schedule.cron, "0 10 * * *");
  EXPECT_EQ(paused->schedule.created_at, created->schedule.created_at);
  EXPECT_EQ(paused->schedule.updated_at, clock_.Now());
  // A paused schedule fires at no instant.
  EXPECT_TRUE(paused->next_runs.empty());
  EXPECT_TRUE(service_.Get(alice_, created->schedule.id)->next_runs.empty());

  SchedulePatch resume;
  resume.enabled = true;
  resume.cron = "30 2 * * *";
  Result<ScheduleView> resumed = service_.Update(alice_, created->schedule.id, resume);
  ASSERT_TRUE(resumed.ok());
  // 02:30 on 2026-03-08 does not exist in Los Angeles: it fires when the gap ends (03:00 PDT).
  EXPECT_EQ(Format(resumed->next_runs)[0], "2026-03-08T10:00:00Z");
}

// Firing fires no slot at or before enabled_at: it moves when the slots before it are not
// missed ones (resumed, or another timing), and only then.
TEST_F(ScheduleServiceTest, EnabledAtMovesOnResumeAndOnNewTiming) {
  Result<ScheduleView> created = service_.Create(alice_, Nightly());
  ASSERT_TRUE(created.ok());
  const std::string id = created->schedule.id;
  const TimePoint created_at = clock_.Now();
  auto update = [&](SchedulePatch patch) {
    clock_.Advance(std::chrono::minutes(1));
    Result<ScheduleView> updated = service_.Update(alice_, id, std::move(patch));
    EXPECT_TRUE(updated.ok()) << updated.status().ToString();
    return updated.ok() ? updated->schedule.enabled_at : TimePoint{};
  };
  EXPECT_EQ(update(SchedulePatch{.name = "renamed"}), created_at);
  EXPECT_EQ(update(SchedulePatch{.catch_up = CatchUp::kAll}), created_at);
  EXPECT_EQ(update(SchedulePatch{.enabled = true}), created_at);  // already enabled
  EXPECT_EQ(update(SchedulePatch{.enabled = false}), created_at);
  {
    const TimePoint moved = update(SchedulePatch{.enabled = true});
    EXPECT_EQ(moved, clock_.Now());
  }
  {
    const TimePoint moved = update(SchedulePatch{.cron = "0 11 * * *"});
    EXPECT_EQ(moved, clock_.Now());
  }
  {
    const TimePoint moved = update(SchedulePatch{.time_zone = "Europe/Berlin"});
    EXPECT_EQ(moved, clock_.Now());
  }
  const TimePoint last = clock_.Now();
  EXPECT_EQ(update(SchedulePatch{.cron = "0 11 * * *"}), last);  // the same cron again
  EXPECT_EQ(store_.Get(id)->enabled_at, last);
}

TEST_F(ScheduleServiceTest, BadUpdateStoresNothing) {
  Result<ScheduleView> created = service_.Create(alice_, Nightly());
  ASSERT_TRUE(created.ok());
  SchedulePatch patch;
  patch.name = "renamed";
  patch.time_zone = "Nowhere/Land";
  Result<ScheduleView> updated = service_.Update(alice_, created->schedule.id, patch);
  EXPECT_EQ(updated.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(updated.status().pointer(), "/time_zone");
  EXPECT_EQ(*store_.Get(created->schedule.id), created->schedule);

  ScheduleTemplate bad = created->schedule.request;
  bad.request.dataset = "gone";
  updated = service_.Update(alice_, created->schedule.id, SchedulePatch{.request = bad});
  EXPECT_EQ(updated.status().pointer(), "/request/dataset");
  EXPECT_EQ(*store_.Get(created->schedule.id), created->schedule);
}

TEST_F(ScheduleServiceTest, PreviewIsStrictlyAfterFrom) {
  Result<std::vector<SysSeconds>> runs =
      service_.Preview("0 * * * *", "UTC", At("2026-03-07T10:00:00Z"), 3);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  EXPECT_EQ(Format(*runs), (std::vector<std::string>{"2026-03-07T11:00:00Z", "2026-03-07T12:00:00Z",
                                                     "2026-03-07T13:00:00Z"}));
  // A fraction of a second after a firing instant: that instant is not after `from`.
  runs = service_.Preview("0 * * * *", "UTC", At("2026-03-07T10:59:59.500Z"), 1);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(Format(*runs), std::vector<std::string>{"2026-03-07T11:00:00Z"});

  // Over the fold in Berlin (2026-10-25 03:00 CEST -> 02:00 CET): 02:30 fires once.
  runs = service_.Preview("30 2 * * *", "Europe/Berlin", At("2026-10-24T12:00:00Z"), 2);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(Format(*runs),
            (std::vector<std::string>{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}));
}

TEST_F(ScheduleServiceTest, PreviewRefusesBadInput) {
  const TimePoint from = clock_.Now();
  EXPECT_EQ(service_.Preview("* * *", "UTC", from, 5).status().pointer(), "/cron");
  EXPECT_EQ(service_.Preview("* * * * *", "Nowhere/Land", from, 5).status().pointer(),
            "/time_zone");
  EXPECT_EQ(service_.Preview("* * * * *", "UTC", from, 0).status().pointer(), "/count");
  EXPECT_EQ(service_.Preview("* * * * *", "UTC", from, 101).status().pointer(), "/count");
  Result<std::vector<SysSeconds>> hundred = service_.Preview("* * * * *", "UTC", from, 100);
  ASSERT_TRUE(hundred.ok());
  EXPECT_EQ(hundred->size(), 100u);
}

TEST(ScheduleTemplateTest, ToCreateExportArgsCarriesEveryPart) {
  ScheduleTemplate t;
  t.request.dataset = "samples";
  t.tag = "nightly";
  t.notify.email = {"a@example.org"};
  t.retention = std::chrono::seconds(3600);
  t.escape_formulas = true;
  CreateExportArgs args = ToCreateExportArgs(t);
  EXPECT_EQ(args.request, t.request);
  EXPECT_EQ(args.tag, t.tag);
  EXPECT_EQ(args.notify, t.notify);
  EXPECT_EQ(args.retention, t.retention);
  EXPECT_EQ(args.escape_formulas, t.escape_formulas);
  EXPECT_FALSE(args.idempotency_key);
}

}  // namespace
}  // namespace exportd
