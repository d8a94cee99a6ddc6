// What /metrics shows: the HTTP request latency histogram (by method, route template and code),
// the counters core reports through Telemetry, and the gauges read at scrape time; rendered in
// the Prometheus text exposition format 0.0.4 (docs/metrics.md lists every metric).
#ifndef EXPORTD_API_METRICS_H_
#define EXPORTD_API_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/clock.h"
#include "core/store_stats.h"
#include "core/task.h"
#include "core/telemetry.h"

namespace exportd::api {

// Thread-safe. Every HTTP request records here, so RecordRequest takes no lock another request
// may hold: each thread counts into its own shard (its mutex is taken only by that thread and
// by a scrape), and a scrape adds the shards up. A mutex held by a thread the scheduler
// preempts would otherwise stall every other request behind it (docs/perf/history.md). The
// counters of Telemetry change a few times per export and share one mutex.
class Metrics final : public Telemetry {
 public:
  Metrics();
  ~Metrics() override;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One answered request. `route` is the route template ("/v1/exports/{id}"), empty for a
  // request no route matched. Methods other than the HTTP ones are counted as "other"; codes
  // outside 100..599 are not HTTP status codes and are not counted.
  void RecordRequest(std::string_view method, std::string_view route, int http_status,
                     double seconds);

  // Telemetry.
  void ExportRunEnded(std::string_view dataset, std::string_view outcome, double seconds) override;
  void ExportSucceeded(std::string_view dataset, int64_t rows, int64_t bytes) override;
  void RetryScheduled(std::string_view code) override;
  void LeasesExpired(int64_t count) override;
  void TasksRecovered(std::string_view reason, int64_t count) override;
  void NotificationAttempted(std::string_view channel, std::string_view outcome) override;
  void ScheduleFired(std::string_view dataset, std::string_view outcome) override;

  // What the caller read for this scrape. A figure it could not read is left unset and has no
  // line.
  struct Gauges {
    TimePoint now;
    std::optional<int> running_exports;
    std::optional<std::map<TaskState, int64_t>> tasks_by_state;
    std::optional<PendingSummary> pending;
    std::optional<std::map<std::string, TimePoint>> oldest_watermarks;
    std::optional<int64_t> notifications_queued;
  };
  // The exposition of everything, families in a fixed order, series sorted by labels.
  std::string Render(const Gauges& gauges) const;

  // Upper bounds in seconds of the request latency buckets (+Inf is implied), chosen around the
  // API's targets: most answers take well under a millisecond, a p99 of 5 ms matters, and
  // anything past a second is an outage.
  static constexpr std::array<double, 14> kRequestBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  // Of an export run: a small export takes a fraction of a second, the largest tens of minutes.
  static constexpr std::array<double, 14> kExportBuckets = {0.05, 0.1, 0.25, 0.5, 1,   2.5,  5,
                                                            10,   30,  60,   300, 900, 1800, 3600};

 private:
  // Not cumulative: bucket i counts the observations in (bound[i-1], bound[i]]; the last one
  // those above every bound. Rendering accumulates.
  template <size_t N>
  struct Histogram {
    std::array<uint64_t, N + 1> buckets{};
    double sum = 0;
    void Observe(const std::array<double, N>& bounds, double value);
    void Add(const Histogram& other);
  };
  using RequestHistogram = Histogram<kRequestBuckets.size()>;
  using ExportHistogram = Histogram<kExportBuckets.size()>;

  // (method, route, code), compared with views so that a lookup allocates nothing.
  struct RequestKey {
    std::string method;
    std::string route;
    int code = 0;
  };
  struct RequestKeyLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::tuple<std::string_view, std::string_view, int>(a.method, a.route, a.code) <
             std::tuple<std::string_view, std::string_view, int>(b.method, b.route, b.code);
    }
  };
  struct Shard {
    std::mutex mu;
    std::map<RequestKey, RequestHistogram, RequestKeyLess> series;  // guarded by mu
  };
  // The calling thread's shard of this Metrics, made on its first request.
  Shard& LocalShard();

  // Telemetry's counters; label values as reported.
  using Labels2 = std::pair<std::string, std::string>;
  struct Counters {
    std::map<Labels2, ExportHistogram> export_runs;  // (dataset, outcome)
    std::map<std::string, int64_t> rows_by_dataset;
    std::map<std::string, int64_t> bytes_by_dataset;
    std::map<std::string, int64_t> succeeded_by_dataset;
    std::map<std::string, int64_t> retries_by_code;
    int64_t lease_expiries = 0;
    std::map<std::string, int64_t> recoveries_by_reason;
    std::map<Labels2, int64_t> notifications;     // (channel, outcome)
    std::map<Labels2, int64_t> schedule_firings;  // (dataset, outcome)
  };

  const uint64_t id_;  // tells this Metrics' shards from another's in a thread's shard list
  mutable std::mutex shards_mu_;
  std::vector<std::unique_ptr<Shard>> shards_;  // guarded by shards_mu_; never shrinks
  mutable std::mutex counters_mu_;
  Counters counters_;  // guarded by counters_mu_
};

}  // namespace exportd::api

#endif  // EXPORTD_API_METRICS_H_
