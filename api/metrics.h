// Request counters and the request latency histogram for /metrics.
#ifndef EXPORTD_API_METRICS_H_
#define EXPORTD_API_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>

#include "core/task.h"

namespace exportd::api {

// Thread-safe and lock-free: every request records here, and a mutex held by a thread the
// scheduler preempts would stall every other request behind it (docs/perf/history.md). Each
// counter is exact; a Render running beside Records may see one counter a request ahead of
// another, as a scrape of any live counters may.
class Metrics {
 public:
  // Codes outside 100..599 are not HTTP status codes and are not counted.
  void Record(int http_status, double seconds);

  // What /metrics shows beside the counters, read by the caller.
  struct Gauges {
    int running_exports = 0;
    int64_t rows_exported = 0;
    std::map<TaskState, int64_t> tasks_by_state;
  };
  // The Prometheus text exposition of the counters and `gauges`.
  std::string Render(const Gauges& gauges) const;

 private:
  static constexpr int kFirstStatus = 100;
  static constexpr int kLastStatus = 599;

  // Upper bounds in seconds of the latency histogram's buckets (+Inf is implied), chosen
  // around the API's targets: most answers take well under a millisecond, a p99 of 5 ms
  // matters, and anything past a second is an outage.
  static constexpr std::array<double, 14> kBucketBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  std::array<std::atomic<uint64_t>, kLastStatus - kFirstStatus + 1> requests_by_status_{};
  // Not cumulative: bucket i counts the requests in (bound[i-1], bound[i]]; the last one those
  // above every bound. Render accumulates.
  std::array<std::atomic<uint64_t>, kBucketBounds.size() + 1> by_bucket_{};
  std::atomic<uint64_t> nanoseconds_sum_{0};
};

}  // namespace exportd::api

#endif  // EXPORTD_API_METRICS_H_
