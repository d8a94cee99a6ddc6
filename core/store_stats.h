// StoreStats: the few figures /metrics reads from a store at scrape time. Implemented by the
// task stores in storage/ (beside TaskRecords::CountByState), each a single indexed query.
#ifndef EXPORTD_CORE_STORE_STATS_H_
#define EXPORTD_CORE_STORE_STATS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/status.h"

namespace exportd {

struct PendingSummary {
  // Pending tasks whose not_before has passed at `now`: waiting for a worker (tasks waiting for
  // a retry's backoff are not counted).
  int64_t ready = 0;
  // The creation time of the oldest Pending task (ready or not); nullopt when none is Pending.
  std::optional<TimePoint> oldest_created_at;
};

// Thread-safe. Read-only.
class StoreStats {
 public:
  virtual ~StoreStats() = default;

  virtual Result<PendingSummary> SummarizePending(TimePoint now) = 0;
  // For each dataset with watermarks, the earliest of them (its least advanced partition).
  virtual Result<std::map<std::string, TimePoint>> OldestWatermarks() = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_STORE_STATS_H_
