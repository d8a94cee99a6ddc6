// Telemetry: the events core counts for /metrics, reported as they happen, without knowing how
// they are kept or shown (api/metrics.h keeps and renders them). Figures that live in the store
// (tasks by state, the queue, watermarks) are not reported here: they are read at scrape time
// (core/store_stats.h).
#ifndef EXPORTD_CORE_TELEMETRY_H_
#define EXPORTD_CORE_TELEMETRY_H_

#include <cstdint>
#include <string_view>

namespace exportd {

// Thread-safe. Called on worker threads: every method must be quick and must not throw. The
// defaults do nothing, so an implementation overrides only what it keeps.
class Telemetry {
 public:
  virtual ~Telemetry() = default;

  // One run of an export ended after `seconds` (from its claim to its recorded end). `outcome`
  // is how: "succeeded", "failed", "retry", "cancelled", "paused", "interrupted" (drained at
  // shutdown) or "lease_lost".
  virtual void ExportRunEnded(std::string_view /*dataset*/, std::string_view /*outcome*/,
                              double /*seconds*/) {}
  // An export of `dataset` succeeded with `rows` rows in data files of `bytes` bytes in all.
  virtual void ExportSucceeded(std::string_view /*dataset*/, int64_t /*rows*/, int64_t /*bytes*/) {}
  // A failed run was scheduled for a retry; `code` is its error code (StatusCodeName).
  virtual void RetryScheduled(std::string_view /*code*/) {}
  // `count` tasks whose lease had expired were put back in the queue.
  virtual void LeasesExpired(int64_t /*count*/) {}
  // `count` interrupted runs were put back in the queue: `reason` "restart" (found Processing at
  // start) or "shutdown" (drained).
  virtual void TasksRecovered(std::string_view /*reason*/, int64_t /*count*/) {}
  // One delivery attempt of a notification ended: `outcome` "delivered", "retry" (failed, will
  // be tried again) or "failed" (failed, attempts spent).
  virtual void NotificationAttempted(std::string_view /*channel*/, std::string_view /*outcome*/) {}
  // A schedule's slot fired for `dataset`: `outcome` "created" (a task), "already_fired" (the
  // slot had its task) or "error" (to be fired again by the next run).
  virtual void ScheduleFired(std::string_view /*dataset*/, std::string_view /*outcome*/) {}
};

// Counts nothing; the default where no Telemetry is given.
inline Telemetry& NoTelemetry() {
  static Telemetry none;
  return none;
}

}  // namespace exportd

#endif  // EXPORTD_CORE_TELEMETRY_H_
