#include "api/metrics.h"

#include <cmath>
#include <cstdio>

namespace exportd::api {

void Metrics::Record(int http_status, double seconds) {
  if (http_status < kFirstStatus || http_status > kLastStatus) return;
  // Relaxed: the counters are independent of each other and of any other memory.
  requests_by_status_[static_cast<size_t>(http_status - kFirstStatus)].fetch_add(
      1, std::memory_order_relaxed);
  size_t bucket = 0;
  while (bucket < kBucketBounds.size() && seconds > kBucketBounds[bucket]) ++bucket;
  by_bucket_[bucket].fetch_add(1, std::memory_order_relaxed);
  const double nanoseconds = std::round(seconds * 1e9);
  nanoseconds_sum_.fetch_add(nanoseconds > 0 ? static_cast<uint64_t>(nanoseconds) : 0,
                             std::memory_order_relaxed);
}

std::string Metrics::Render(const Gauges& gauges) const {
  std::string out;
  out += "# HELP exportd_http_requests_total HTTP requests answered, by status code.\n";
  out += "# TYPE exportd_http_requests_total counter\n";
  for (size_t i = 0; i < requests_by_status_.size(); ++i) {
    const uint64_t n = requests_by_status_[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    out += "exportd_http_requests_total{code=\"" +
           std::to_string(kFirstStatus + static_cast<int>(i)) + "\"} " + std::to_string(n) + "\n";
  }
  char buf[64];
  out += "# HELP exportd_http_request_duration_seconds Time spent answering HTTP requests.\n";
  out += "# TYPE exportd_http_request_duration_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < by_bucket_.size(); ++i) {
    cumulative += by_bucket_[i].load(std::memory_order_relaxed);
    std::string le = "+Inf";
    if (i < kBucketBounds.size()) {
      std::snprintf(buf, sizeof buf, "%g", kBucketBounds[i]);
      le = buf;
    }
    out += "exportd_http_request_duration_seconds_bucket{le=\"" + le + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  std::snprintf(buf, sizeof buf, "%.6f",
                static_cast<double>(nanoseconds_sum_.load(std::memory_order_relaxed)) / 1e9);
  out += "exportd_http_request_duration_seconds_sum " + std::string(buf) + "\n";
  // The +Inf bucket's total, so that _count and the buckets agree within one scrape.
  out += "exportd_http_request_duration_seconds_count " + std::to_string(cumulative) + "\n";
  out += "# HELP exportd_exports_running Exports running in this process.\n";
  out += "# TYPE exportd_exports_running gauge\n";
  out += "exportd_exports_running " + std::to_string(gauges.running_exports) + "\n";
  out += "# HELP exportd_rows_exported_total Rows written by exports that succeeded.\n";
  out += "# TYPE exportd_rows_exported_total counter\n";
  out += "exportd_rows_exported_total " + std::to_string(gauges.rows_exported) + "\n";
  out += "# HELP exportd_tasks Tasks in the task store, by state.\n";
  out += "# TYPE exportd_tasks gauge\n";
  for (TaskState s : {TaskState::kPending, TaskState::kProcessing, TaskState::kPaused,
                      TaskState::kSucceeded, TaskState::kFailed, TaskState::kCancelled}) {
    auto it = gauges.tasks_by_state.find(s);
    out += "exportd_tasks{state=\"" + std::string(TaskStateName(s)) + "\"} " +
           std::to_string(it == gauges.tasks_by_state.end() ? 0 : it->second) + "\n";
  }
  return out;
}

}  // namespace exportd::api
