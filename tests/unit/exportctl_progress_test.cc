// exportctl's progress line: counts, durations, the bar, the plain line, rows/s.
#include <gtest/gtest.h>

#include "server/exportctl/progress_bar.h"

namespace exportd::ctl {
namespace {

using Json = nlohmann::json;

TEST(ExportctlProgressTest, Counts) {
  EXPECT_EQ(FormatCount(0), "0");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(1000), "1,000");
  EXPECT_EQ(FormatCount(1234567), "1,234,567");
  EXPECT_EQ(FormatCount(-12345), "-12,345");
}

TEST(ExportctlProgressTest, Durations) {
  EXPECT_EQ(FormatDuration(0), "0:00");
  EXPECT_EQ(FormatDuration(7), "0:07");
  EXPECT_EQ(FormatDuration(723), "12:03");
  EXPECT_EQ(FormatDuration(3723), "1:02:03");
  EXPECT_EQ(FormatDuration(-5), "0:00");
}

ProgressView Processing() {
  ProgressView v;
  v.status = "Processing";
  v.rows = 35000;
  v.rows_total = 100000;
  v.percent = 35;
  v.rows_per_second = 12000.4;
  v.eta_seconds = 5;
  return v;
}

TEST(ExportctlProgressTest, TheBarOnAWideTerminal) {
  EXPECT_EQ(FormatProgressBar(Processing(), 100),
            "Processing [##########--------------------]  35%  35,000/100,000 rows  "
            "12,000 rows/s  ETA 0:05");
}

TEST(ExportctlProgressTest, TheBarKeepsItsWidthWhileTheTextChanges) {
  ProgressView a = Processing();
  ProgressView b = Processing();
  b.rows_per_second.reset();
  b.eta_seconds.reset();
  const std::string la = FormatProgressBar(a, 90);
  const std::string lb = FormatProgressBar(b, 90);
  EXPECT_EQ(la.find(']'), lb.find(']'));
}

TEST(ExportctlProgressTest, NarrowTerminalsDropTheBarAndCutTheLine) {
  const std::string line = FormatProgressBar(Processing(), 60);
  EXPECT_EQ(line.find('['), std::string::npos) << line;
  EXPECT_LE(line.size(), 60U);
  EXPECT_EQ(line.rfind("Processing  35%  35,000/100,000 rows", 0), 0U) << line;
  EXPECT_LE(FormatProgressBar(Processing(), 20).size(), 20U);
}

TEST(ExportctlProgressTest, NoPercentNoBar) {
  ProgressView v;
  v.status = "Pending";
  EXPECT_EQ(FormatProgressBar(v, 100), "Pending  0 rows");
  EXPECT_EQ(FormatProgressText(v), "Pending 0 rows");
}

TEST(ExportctlProgressTest, TheBarIsFullAtTheEnd) {
  const ProgressView v = ViewOfTask(
      Json::parse(R"({"status": "Succeeded", "progress": {"rows": 500, "rows_total": null,
                      "percent": null, "eta_seconds": null}})"),
      250.0);
  EXPECT_EQ(FormatProgressBar(v, 100),
            "Succeeded [##############################] 100%  500/500 rows");
  EXPECT_EQ(FormatProgressText(v), "Succeeded 100% 500/500 rows");
}

TEST(ExportctlProgressTest, PlainLine) {
  EXPECT_EQ(FormatProgressText(Processing()),
            "Processing 35% 35000/100000 rows 12000 rows/s ETA 0:05");
}

TEST(ExportctlProgressTest, ViewOfATask) {
  const Json task = Json::parse(R"({"status": "Processing", "progress": {"rows": 250,
      "rows_total": 1000, "bytes": 10, "percent": null, "eta_seconds": null}})");
  ProgressView v = ViewOfTask(task, 50.0);
  EXPECT_EQ(v.rows, 250);
  EXPECT_EQ(v.rows_total, 1000);
  ASSERT_TRUE(v.percent.has_value());
  EXPECT_DOUBLE_EQ(*v.percent, 25.0);  // from the rows when the server gave no percent
  EXPECT_EQ(v.eta_seconds, 15);        // 750 rows at 50 rows/s
  v = ViewOfTask(Json::parse(R"({"status": "Processing", "progress": {"rows": 250,
      "rows_total": 1000, "percent": 24.9, "eta_seconds": 40}})"),
                 50.0);
  EXPECT_DOUBLE_EQ(*v.percent, 24.9);  // the server's figures win
  EXPECT_EQ(v.eta_seconds, 40);
  v = ViewOfTask(Json::parse(R"({"status": "Failed", "progress": {"rows": 3}})"), std::nullopt);
  EXPECT_EQ(v.status, "Failed");
  EXPECT_FALSE(v.percent.has_value());
}

TEST(ExportctlProgressTest, RateOverTheWindow) {
  RateMeter meter(10);
  EXPECT_FALSE(meter.RowsPerSecond().has_value());
  meter.Add(0, 0);
  EXPECT_FALSE(meter.RowsPerSecond().has_value());
  meter.Add(1, 1000);
  EXPECT_DOUBLE_EQ(*meter.RowsPerSecond(), 1000);
  meter.Add(2, 3000);
  EXPECT_DOUBLE_EQ(*meter.RowsPerSecond(), 1500);
  meter.Add(20, 4000);  // the old samples leave the window
  EXPECT_DOUBLE_EQ(*meter.RowsPerSecond(), 1000.0 / 18);
  meter.Add(21, 100);  // fewer rows: a retry started over
  EXPECT_FALSE(meter.RowsPerSecond().has_value());
}

}  // namespace
}  // namespace exportd::ctl
