#include "api/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace exportd::api {
namespace {

// The value of the exposition line that starts with `name` followed by a space, or "<none>".
std::string Sample(const std::string& text, const std::string& name) {
  const std::string prefix = name + " ";
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (text.compare(at, prefix.size(), prefix) == 0) {
      return text.substr(at + prefix.size(), end - at - prefix.size());
    }
    at = end + 1;
  }
  return "<none>";
}

TEST(MetricsTest, CountsRequestsByStatusAndSumsTheirTime) {
  Metrics metrics;
  metrics.Record(200, 0.25);
  metrics.Record(200, 0.5);
  metrics.Record(404, 0.125);
  metrics.Record(99, 1.0);   // not an HTTP status: not counted
  metrics.Record(600, 1.0);  // nor this
  const std::string text = metrics.Render({});
  EXPECT_EQ(Sample(text, "exportd_http_requests_total{code=\"200\"}"), "2");
  EXPECT_EQ(Sample(text, "exportd_http_requests_total{code=\"404\"}"), "1");
  EXPECT_EQ(Sample(text, "exportd_http_requests_total{code=\"500\"}"), "<none>")
      << "a code never answered has no line";
  EXPECT_EQ(Sample(text, "exportd_http_request_duration_seconds_sum"), "0.875000");
  EXPECT_EQ(Sample(text, "exportd_http_request_duration_seconds_count"), "3");
  EXPECT_LT(text.find("code=\"200\""), text.find("code=\"404\"")) << "codes in ascending order";
}

TEST(MetricsTest, LatencyHistogramBucketsAreCumulativeAndAgreeWithTheCount) {
  Metrics metrics;
  metrics.Record(200, 0.0001);  // <= 0.0005
  metrics.Record(200, 0.0005);  // on a bound: counted in that bucket (le is "less or equal")
  metrics.Record(200, 0.003);   // (0.0025, 0.005]
  metrics.Record(500, 30.0);    // above every bound: +Inf only
  const std::string text = metrics.Render({});
  const std::string b = "exportd_http_request_duration_seconds_bucket";
  EXPECT_NE(text.find("# TYPE exportd_http_request_duration_seconds histogram\n"),
            std::string::npos);
  EXPECT_EQ(Sample(text, b + "{le=\"0.0005\"}"), "2");
  EXPECT_EQ(Sample(text, b + "{le=\"0.0025\"}"), "2");
  EXPECT_EQ(Sample(text, b + "{le=\"0.005\"}"), "3");
  EXPECT_EQ(Sample(text, b + "{le=\"10\"}"), "3");
  EXPECT_EQ(Sample(text, b + "{le=\"+Inf\"}"), "4");
  EXPECT_EQ(Sample(text, "exportd_http_request_duration_seconds_count"), "4");
}

TEST(MetricsTest, RendersTheGaugesItIsGiven) {
  Metrics metrics;
  Metrics::Gauges gauges;
  gauges.running_exports = 2;
  gauges.rows_exported = 12345;
  gauges.tasks_by_state[TaskState::kSucceeded] = 7;
  const std::string text = metrics.Render(gauges);
  EXPECT_EQ(Sample(text, "exportd_exports_running"), "2");
  EXPECT_EQ(Sample(text, "exportd_rows_exported_total"), "12345");
  EXPECT_EQ(Sample(text, "exportd_tasks{state=\"Succeeded\"}"), "7");
  EXPECT_EQ(Sample(text, "exportd_tasks{state=\"Pending\"}"), "0") << "every state has a line";
}

// Every HTTP thread records here at once: no count may be lost.
TEST(MetricsTest, RecordsFromManyThreadsAtOnceLoseNothing) {
  Metrics metrics;
  constexpr int kThreads = 8;
  constexpr int kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kEach; ++i) metrics.Record(t % 2 == 0 ? 200 : 304, 0.001);
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::string text = metrics.Render({});
  EXPECT_EQ(Sample(text, "exportd_http_requests_total{code=\"200\"}"),
            std::to_string(kThreads / 2 * kEach));
  EXPECT_EQ(Sample(text, "exportd_http_requests_total{code=\"304\"}"),
            std::to_string(kThreads / 2 * kEach));
  EXPECT_EQ(Sample(text, "exportd_http_request_duration_seconds_count"),
            std::to_string(kThreads * kEach));
  EXPECT_EQ(Sample(text, "exportd_http_request_duration_seconds_sum"), "160.000000");
}

}  // namespace
}  // namespace exportd::api
