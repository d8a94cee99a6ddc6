#include "api/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "tests/support/prometheus_text.h"

namespace exportd::api {
namespace {

using exportd::testing::ParsePromText;
using exportd::testing::PromText;

const TimePoint kNow = TimePoint{} + std::chrono::seconds(1'700'000'000);

PromText Scrape(const Metrics& metrics, const Metrics::Gauges& gauges = {}) {
  PromText text = ParsePromText(metrics.Render(gauges));
  for (const std::string& p : text.problems) ADD_FAILURE() << p;
  return text;
}

TEST(MetricsTest, RequestLatencyIsAHistogramByMethodRouteAndCode) {
  Metrics metrics;
  metrics.RecordRequest("GET", "/v1/exports/{id}", 200, 0.25);
  metrics.RecordRequest("GET", "/v1/exports/{id}", 200, 0.5);
  metrics.RecordRequest("GET", "/v1/exports/{id}", 404, 0.125);
  metrics.RecordRequest("POST", "/v1/exports", 202, 0.001);
  metrics.RecordRequest("BREW", "", 404, 0.001);       // no route, no known method
  metrics.RecordRequest("GET", "/healthz", 99, 1.0);   // not an HTTP status: not counted
  metrics.RecordRequest("GET", "/healthz", 600, 1.0);  // nor this
  const PromText text = Scrape(metrics);
  const std::string h = "exportd_http_request_duration_seconds";
  ASSERT_NE(text.Find(h), nullptr);
  EXPECT_EQ(text.Find(h)->type, "histogram");
  EXPECT_EQ(text.Value(h + "_count", {{"route", "/v1/exports/{id}"}, {"code", "200"}}), 2);
  EXPECT_EQ(text.Value(h + "_sum", {{"route", "/v1/exports/{id}"}, {"code", "200"}}), 0.75);
  EXPECT_EQ(text.Value(h + "_count", {{"route", "/v1/exports/{id}"}, {"code", "404"}}), 1);
  EXPECT_EQ(text.Value(h + "_count", {{"method", "POST"}, {"route", "/v1/exports"}}), 1);
  EXPECT_EQ(text.Value(h + "_count", {{"method", "other"}, {"route", "unmatched"}}), 1);
  EXPECT_EQ(text.Sum(h + "_count"), 5) << "codes outside 100..599 are not counted";
  EXPECT_EQ(text.Value("exportd_http_requests_total",
                       {{"method", "GET"}, {"route", "/v1/exports/{id}"}, {"code", "200"}}),
            2);
  EXPECT_EQ(text.Sum("exportd_http_requests_total"), 5);
}

TEST(MetricsTest, LatencyBucketsAreCumulativeAndAgreeWithTheCount) {
  Metrics metrics;
  metrics.RecordRequest("GET", "/healthz", 200, 0.0001);  // <= 0.0005
  metrics.RecordRequest("GET", "/healthz", 200, 0.0005);  // on a bound: in that bucket (le)
  metrics.RecordRequest("GET", "/healthz", 200, 0.003);   // (0.0025, 0.005]
  metrics.RecordRequest("GET", "/healthz", 200, 30.0);    // above every bound: +Inf only
  const PromText text = Scrape(metrics);
  const std::string b = "exportd_http_request_duration_seconds_bucket";
  EXPECT_EQ(text.Value(b, {{"le", "0.0005"}}), 2);
  EXPECT_EQ(text.Value(b, {{"le", "0.0025"}}), 2);
  EXPECT_EQ(text.Value(b, {{"le", "0.005"}}), 3);
  EXPECT_EQ(text.Value(b, {{"le", "10"}}), 3);
  EXPECT_EQ(text.Value(b, {{"le", "+Inf"}}), 4);
  EXPECT_EQ(text.Value("exportd_http_request_duration_seconds_count"), 4);
}

TEST(MetricsTest, RendersTheGaugesItIsGivenAndOmitsThoseItIsNot) {
  Metrics metrics;
  Metrics::Gauges gauges;
  gauges.now = kNow;
  gauges.running_exports = 2;
  gauges.tasks_by_state = std::map<TaskState, int64_t>{{TaskState::kSucceeded, 7}};
  gauges.pending = PendingSummary{3, kNow - std::chrono::milliseconds(90'500)};
  gauges.oldest_watermarks = std::map<std::string, TimePoint>{
      {"samples", kNow - std::chrono::hours(25)}, {"future", kNow + std::chrono::hours(1)}};
  gauges.notifications_queued = 4;
  PromText text = Scrape(metrics, gauges);
  EXPECT_EQ(text.Value("exportd_exports_running"), 2);
  EXPECT_EQ(text.Value("exportd_tasks", {{"state", "Succeeded"}}), 7);
  EXPECT_EQ(text.Value("exportd_tasks", {{"state", "Pending"}}), 0) << "every state has a line";
  EXPECT_EQ(text.Value("exportd_queue_depth"), 3);
  EXPECT_EQ(text.Value("exportd_oldest_pending_task_age_seconds"), 90.5);
  EXPECT_EQ(text.Value("exportd_watermark_lag_seconds", {{"dataset", "samples"}}), 25 * 3600);
  EXPECT_EQ(text.Value("exportd_watermark_lag_seconds", {{"dataset", "future"}}), 0)
      << "a watermark ahead of the clock is no lag";
  EXPECT_EQ(text.Value("exportd_notifications_queued"), 4);

  gauges.pending = PendingSummary{0, std::nullopt};
  text = Scrape(metrics, gauges);
  EXPECT_EQ(text.Value("exportd_oldest_pending_task_age_seconds"), 0) << "none Pending";

  text = Scrape(metrics, Metrics::Gauges{});
  EXPECT_EQ(text.Find("exportd_tasks"), nullptr) << "a store that cannot answer: no line";
  EXPECT_EQ(text.Find("exportd_queue_depth"), nullptr);
  EXPECT_NE(text.Find("exportd_export_duration_seconds"), nullptr) << "counters always declared";
}

TEST(MetricsTest, CountsWhatCoreReports) {
  Metrics metrics;
  Telemetry& t = metrics;
  t.ExportRunEnded("samples", "succeeded", 2.0);
  t.ExportRunEnded("samples", "succeeded", 0.2);
  t.ExportRunEnded("samples", "retry", 7000);
  t.ExportSucceeded("samples", 100, 2048);
  t.ExportSucceeded("samples", 50, 1024);
  t.ExportSucceeded("other", 1, 10);
  t.RetryScheduled("unavailable");
  t.RetryScheduled("unavailable");
  t.RetryScheduled("deadline_exceeded");
  t.LeasesExpired(2);
  t.TasksRecovered("restart", 3);
  t.TasksRecovered("shutdown", 1);
  t.NotificationAttempted("webhook", "retry");
  t.NotificationAttempted("webhook", "delivered");
  t.NotificationAttempted("email", "failed");
  t.ScheduleFired("samples", "created");
  t.ScheduleFired("samples", "already_fired");
  const PromText text = Scrape(metrics);
  const std::string d = "exportd_export_duration_seconds";
  EXPECT_EQ(text.Value(d + "_count", {{"dataset", "samples"}, {"outcome", "succeeded"}}), 2);
  EXPECT_DOUBLE_EQ(*text.Value(d + "_sum", {{"outcome", "succeeded"}}), 2.2);
  EXPECT_EQ(text.Value(d + "_bucket", {{"outcome", "succeeded"}, {"le", "1"}}), 1);
  EXPECT_EQ(text.Value(d + "_bucket", {{"outcome", "retry"}, {"le", "3600"}}), 0);
  EXPECT_EQ(text.Value(d + "_bucket", {{"outcome", "retry"}, {"le", "+Inf"}}), 1);
  EXPECT_EQ(text.Value("exportd_rows_exported_total", {{"dataset", "samples"}}), 150);
  EXPECT_EQ(text.Value("exportd_bytes_exported_total", {{"dataset", "samples"}}), 3072);
  EXPECT_EQ(text.Value("exportd_rows_exported_total", {{"dataset", "other"}}), 1);
  EXPECT_EQ(text.Value("exportd_export_retries_total", {{"code", "unavailable"}}), 2);
  EXPECT_EQ(text.Value("exportd_export_retries_total", {{"code", "deadline_exceeded"}}), 1);
  EXPECT_EQ(text.Value("exportd_lease_expiries_total"), 2);
  EXPECT_EQ(text.Value("exportd_task_recoveries_total", {{"reason", "restart"}}), 3);
  EXPECT_EQ(text.Value("exportd_task_recoveries_total", {{"reason", "shutdown"}}), 1);
  EXPECT_EQ(
      text.Value("exportd_notifications_total", {{"channel", "webhook"}, {"outcome", "delivered"}}),
      1);
  EXPECT_EQ(text.Value("exportd_notifications_total", {{"channel", "email"}}), 1);
  EXPECT_EQ(text.Value("exportd_schedule_firings_total", {{"outcome", "created"}}), 1);
  EXPECT_EQ(text.Value("exportd_schedule_firings_total", {{"outcome", "already_fired"}}), 1);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Metrics metrics;
  metrics.ExportSucceeded("a\"b\\c\nd", 1, 1);
  const std::string raw = metrics.Render({});
  EXPECT_NE(raw.find(R"(dataset="a\"b\\c\nd")"), std::string::npos) << raw;
  EXPECT_EQ(Scrape(metrics).Value("exportd_rows_exported_total", {{"dataset", "a\"b\\c\nd"}}), 1);
}

// Every HTTP thread records here at once, also while scrapes run: no count may be lost.
TEST(MetricsTest, RecordsFromManyThreadsAtOnceLoseNothing) {
  Metrics metrics;
  constexpr int kThreads = 8;
  constexpr int kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kEach; ++i) {
        metrics.RecordRequest("GET", "/v1/exports/{id}", t % 2 == 0 ? 200 : 304, 0.001);
      }
    });
  }
  std::thread scraper([&metrics] {
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(ParsePromText(metrics.Render({})).problems.empty());
  });
  for (std::thread& thread : threads) thread.join();
  scraper.join();
  const PromText text = Scrape(metrics);
  const std::string c = "exportd_http_request_duration_seconds_count";
  EXPECT_EQ(text.Value(c, {{"code", "200"}}), kThreads / 2 * kEach);
  EXPECT_EQ(text.Value(c, {{"code", "304"}}), kThreads / 2 * kEach);
  EXPECT_NEAR(text.Sum("exportd_http_request_duration_seconds_sum"), kThreads * kEach * 0.001,
              1e-6);
}

// Two servers in one process (as in tests) keep their own counts.
TEST(MetricsTest, TwoMetricsOnOneThreadDoNotShareShards) {
  auto first = std::make_unique<Metrics>();
  first->RecordRequest("GET", "/healthz", 200, 0.001);
  first.reset();
  Metrics second;
  second.RecordRequest("GET", "/healthz", 200, 0.001);
  second.RecordRequest("GET", "/healthz", 200, 0.001);
  EXPECT_EQ(Scrape(second).Value("exportd_http_request_duration_seconds_count"), 2);
}

TEST(PromTextTest, TheCheckerRefusesWhatPrometheusWould) {
  auto problems = [](const std::string& text) { return ParsePromText(text).problems.size(); };
  EXPECT_EQ(problems("# HELP a_total x\n# TYPE a_total counter\na_total 1\n"), 0u);
  EXPECT_GT(problems("# HELP a x\n# TYPE a counter\na 1\n"), 0u) << "counter without _total";
  EXPECT_GT(problems("a_total 1\n"), 0u) << "no TYPE";
  EXPECT_GT(problems("# HELP a x\n# TYPE a gauge\na{l=\"1} 1\n"), 0u) << "unterminated";
  EXPECT_GT(problems("# HELP a x\n# TYPE a gauge\na 1\na 2\n"), 0u) << "duplicate series";
  EXPECT_GT(problems("# HELP a_ms x\n# TYPE a_ms gauge\na_ms 1\n"), 0u) << "not a base unit";
  EXPECT_GT(problems("# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
                     "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"),
            0u)
      << "decreasing buckets";
  EXPECT_GT(problems("# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\n"
                     "h_count 1\n"),
            0u)
      << "count differs from +Inf";
}

}  // namespace
}  // namespace exportd::api
