// Request counters for /metrics.
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
// scheduler preempts would stall every other request behind it (bench/README.md, round 8). Each
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

  std::array<std::atomic<uint64_t>, kLastStatus - kFirstStatus + 1> requests_by_status_{};
  std::atomic<uint64_t> nanoseconds_sum_{0};
  std::atomic<uint64_t> count_{0};
};

}  // namespace exportd::api

#endif  // EXPORTD_API_METRICS_H_
