#include "core/export_window.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "storage/tz/date_time_zone_db.h"

namespace exportd {
namespace {

TimePoint At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

class ExportWindowTest : public ::testing::Test {
 protected:
  const TimeZone& Zone(const char* name) {
    auto zone = zones_.Find(name);
    EXPECT_TRUE(zone.ok()) << name;
    held_.push_back(*zone);
    return *held_.back();
  }

  DateTimeZoneDb zones_;
  std::vector<std::shared_ptr<const TimeZone>> held_;
};

TEST_F(ExportWindowTest, DefaultUntilByExportType) {
  const TimePoint now = At("2026-03-29T10:17:42.250Z");
  const TimeZone& berlin = Zone("Europe/Berlin");
  EXPECT_EQ(DefaultUntil(ExportType::kInstant, now, std::chrono::seconds(0), berlin), now);
  EXPECT_EQ(DefaultUntil(ExportType::kInstant, now, std::chrono::seconds(300), berlin),
            At("2026-03-29T10:12:42.250Z"));
  EXPECT_EQ(DefaultUntil(ExportType::kHourly, now, std::chrono::seconds(300), berlin),
            At("2026-03-29T10:00:00Z"));
  // 2026-03-29 is Berlin's 23-hour day: it began at 23:00Z the day before (CET).
  EXPECT_EQ(DefaultUntil(ExportType::kDaily, now, std::chrono::seconds(0), berlin),
            At("2026-03-28T23:00:00Z"));
  EXPECT_EQ(DefaultUntil(ExportType::kDaily, now, std::chrono::seconds(0), Zone("UTC")),
            At("2026-03-29T00:00:00Z"));
}

TEST_F(ExportWindowTest, DefaultSinceIsOneLocalDayOrOneHourBeforeUntil) {
  const TimeZone& la = Zone("America/Los_Angeles");
  // The day before 2026-03-09 00:00 PDT is 23 hours long; the day before 2026-11-02, 25.
  EXPECT_EQ(DefaultSince(ExportType::kDaily, At("2026-03-09T07:00:00Z"), la),
            std::optional<TimePoint>(At("2026-03-08T08:00:00Z")));
  EXPECT_EQ(DefaultSince(ExportType::kDaily, At("2026-11-02T08:00:00Z"), la),
            std::optional<TimePoint>(At("2026-11-01T07:00:00Z")));
  EXPECT_EQ(DefaultSince(ExportType::kHourly, At("2026-11-01T09:00:00Z"), la),
            std::optional<TimePoint>(At("2026-11-01T08:00:00Z")));
  EXPECT_EQ(DefaultSince(ExportType::kInstant, At("2026-11-01T09:00:00Z"), la), std::nullopt);
}

TEST_F(ExportWindowTest, TheScopeIsTheRequestsPartitionsOrEveryKnownOne) {
  ExportRequest request;
  const WatermarkMap marks = {{"gone", At("2026-01-01T00:00:00Z")}};
  EXPECT_EQ(IncrementalScope(request, {"b", "a"}, marks),
            (std::vector<std::string>{"a", "b", "gone"}));
  request.partitions = {"z", "a"};
  EXPECT_EQ(IncrementalScope(request, {"b", "a"}, marks), (std::vector<std::string>{"a", "z"}));
}

TEST_F(ExportWindowTest, EachPartitionStartsAtItsWatermarkElseSinceElseTheDefault) {
  const TimeZone& utc = Zone("UTC");
  ExportRequest request;
  request.incremental = true;
  request.export_type = ExportType::kDaily;
  const TimePoint until = At("2026-01-10T00:00:00Z");
  const WatermarkMap marks = {{"a", At("2026-01-05T00:00:00Z")},
                              {"late", At("2026-01-12T00:00:00Z")}};
  TaskWindow window = IncrementalWindow(request, until, {"a", "b", "late"}, marks, utc);
  EXPECT_EQ(window.until, until);
  ASSERT_EQ(window.partitions.size(), 3u);
  EXPECT_EQ(window.partitions[0], (PartitionWindow{"a", At("2026-01-05T00:00:00Z"), until}));
  EXPECT_EQ(window.partitions[1], (PartitionWindow{"b", At("2026-01-09T00:00:00Z"), until}));
  // A watermark after `until`: listed as is, so it exports nothing and is not moved back.
  EXPECT_EQ(window.partitions[2], (PartitionWindow{"late", At("2026-01-12T00:00:00Z"), until}));
  request.since = At("2025-12-01T00:00:00Z");
  window = IncrementalWindow(request, until, {"a", "b"}, marks, utc);
  EXPECT_EQ(window.partitions[1].since, request.since);
}

TEST_F(ExportWindowTest, OverlapAndTheClaimOrderRule) {
  ExportRequest a;
  a.dataset = "d";
  a.incremental = true;
  a.partitions = {"p1", "p2"};
  ExportRequest b = a;
  b.partitions = {"p3"};
  EXPECT_FALSE(IncrementalScopesOverlap(a, b));
  b.partitions = {"p2", "p9"};
  EXPECT_TRUE(IncrementalScopesOverlap(a, b));
  b.partitions.clear();  // every partition
  EXPECT_TRUE(IncrementalScopesOverlap(a, b));
  b.dataset = "other";
  EXPECT_FALSE(IncrementalScopesOverlap(a, b));
  b.dataset = "d";
  b.incremental = false;
  EXPECT_FALSE(IncrementalScopesOverlap(a, b));

  Task earlier;
  earlier.id = "1";
  earlier.request = a;
  Task candidate;
  candidate.id = "2";
  candidate.request = a;
  EXPECT_TRUE(MustWaitForEarlierExport(candidate, {earlier}));
  earlier.state = TaskState::kFailed;
  EXPECT_FALSE(MustWaitForEarlierExport(candidate, {earlier}));
  earlier.state = TaskState::kPending;  // a retry waiting for its backoff still counts
  EXPECT_TRUE(MustWaitForEarlierExport(candidate, {earlier}));
  candidate.request.incremental = false;
  EXPECT_FALSE(MustWaitForEarlierExport(candidate, {earlier}));
}

TEST_F(ExportWindowTest, WhichExportsFixAWindow) {
  ExportRequest r;
  EXPECT_FALSE(NeedsWindow(r));  // a plain export: no window, no upper bound (as always)
  r.export_type = ExportType::kDaily;
  EXPECT_TRUE(NeedsWindow(r));
  r.until = At("2026-01-01T00:00:00Z");
  EXPECT_FALSE(NeedsWindow(r));
  r.incremental = true;
  EXPECT_TRUE(NeedsWindow(r));
}

}  // namespace
}  // namespace exportd
