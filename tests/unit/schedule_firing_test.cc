#include "core/schedule_firing.h"

#include <gtest/gtest.h>

#include <memory>

#include "core/time_format.h"
#include "storage/tz/date_time_zone_db.h"

namespace exportd {
namespace {

TimePoint At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

Schedule Hourly() {
  Schedule s;
  s.id = "sch_01";
  s.principal = "alice";
  s.name = "hourly";
  s.cron = "0 * * * *";
  s.time_zone = "America/Los_Angeles";
  s.request.request.dataset = "samples";
  return s;
}

class ScheduleFiringTest : public ::testing::Test {
 protected:
  const TimeZone& LosAngeles() {
    if (!zone_) zone_ = *zones_.Find("America/Los_Angeles");
    return *zone_;
  }

  DateTimeZoneDb zones_;
  std::shared_ptr<const TimeZone> zone_;
};

TEST_F(ScheduleFiringTest, TheTemplatesRequestWithScheduleSlotAndTag) {
  Schedule s = Hourly();
  s.request.request.fields = {"id"};
  s.request.retention = std::chrono::seconds(3600);
  const TimePoint slot = At("2026-03-08T10:00:00Z");
  const CreateExportArgs args = FiringArgs(s, LosAngeles(), slot);
  EXPECT_EQ(args.request, s.request.request);  // instant: no until added
  EXPECT_EQ(args.retention, s.request.retention);
  EXPECT_EQ(args.tag, "schedule=hourly;slot=2026-03-08T10:00:00Z");
  EXPECT_EQ(args.schedule_id, "sch_01");
  EXPECT_EQ(args.schedule_slot, slot);
  EXPECT_FALSE(args.idempotency_key);
}

TEST_F(ScheduleFiringTest, TheTemplatesOwnTagWins) {
  Schedule s = Hourly();
  s.request.tag = "mine";
  EXPECT_EQ(FiringArgs(s, LosAngeles(), At("2026-03-08T10:00:00Z")).tag, "mine");
}

// Daily and hourly: `until` is the start of the slot's day or hour in the schedule's zone.
TEST_F(ScheduleFiringTest, DailyAndHourlyGetUntilFromTheSlot) {
  Schedule s = Hourly();
  s.request.request.export_type = ExportType::kDaily;
  // 2026-03-08 is the spring-forward day in Los Angeles: its midnight is still PST (-8).
  EXPECT_EQ(FiringArgs(s, LosAngeles(), At("2026-03-08T10:00:00Z")).request.until,
            At("2026-03-08T08:00:00Z"));
  s.request.request.export_type = ExportType::kHourly;
  EXPECT_EQ(FiringArgs(s, LosAngeles(), At("2026-03-08T10:00:00Z")).request.until,
            At("2026-03-08T10:00:00Z"));
  // A manual run's slot within the hour: the start of that hour.
  EXPECT_EQ(FiringArgs(s, LosAngeles(), At("2026-03-08T10:17:03.250Z")).request.until,
            At("2026-03-08T10:00:00Z"));
  // The template's own until stays.
  s.request.request.until = At("2026-01-01T00:00:00Z");
  EXPECT_EQ(FiringArgs(s, LosAngeles(), At("2026-03-08T10:00:00Z")).request.until,
            At("2026-01-01T00:00:00Z"));
}

TEST_F(ScheduleFiringTest, ManualRunSlotsAreNeverWholeSeconds) {
  EXPECT_EQ(ManualRunSlot(At("2026-03-08T10:17:03.250Z")), At("2026-03-08T10:17:03.250Z"));
  EXPECT_EQ(ManualRunSlot(At("2026-03-08T10:17:03.250Z") + std::chrono::microseconds(700)),
            At("2026-03-08T10:17:03.250Z"));
  // Exactly a cron slot's instant: one millisecond later.
  EXPECT_EQ(ManualRunSlot(At("2026-03-08T10:00:00Z")), At("2026-03-08T10:00:00.001Z"));
  EXPECT_TRUE(IsManualRunSlot(At("2026-03-08T10:00:00.001Z")));
  EXPECT_FALSE(IsManualRunSlot(At("2026-03-08T10:00:00Z")));
  Schedule s = Hourly();
  EXPECT_EQ(FiringTag(s, At("2026-03-08T10:00:00.001Z")),
            "schedule=hourly;slot=2026-03-08T10:00:00.001Z");
}

}  // namespace
}  // namespace exportd

namespace exportd {
namespace {

// Counts "dataset outcome" of each firing reported for /metrics.
class FiringTelemetry final : public Telemetry {
 public:
  void ScheduleFired(std::string_view dataset, std::string_view outcome) override {
    fired.push_back(std::string(dataset) + " " + std::string(outcome));
  }
  std::vector<std::string> fired;
};

TEST(CountedFiringTest, CountsEachFiringByItsOutcomeAndPassesItsResultOn) {
  std::vector<Result<Task>> script = {Task{}, Status(StatusCode::kAlreadyExists, "slot taken"),
                                      Status(StatusCode::kResourceExhausted, "quota")};
  size_t calls = 0;
  FireFn fire = [&](const Schedule&, TimePoint, const EventOrigin&) -> Result<Task> {
    return script[calls++];
  };
  FiringTelemetry telemetry;
  FireFn counted = CountedFiring(fire, telemetry);
  EXPECT_TRUE(counted(Hourly(), TimePoint{}, {}).ok());
  EXPECT_EQ(counted(Hourly(), TimePoint{}, {}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(counted(Hourly(), TimePoint{}, {}).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(calls, 3u);
  EXPECT_EQ(telemetry.fired, (std::vector<std::string>{"samples created", "samples already_fired",
                                                       "samples error"}));
}

}  // namespace
}  // namespace exportd
