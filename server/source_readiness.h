// /readyz's check of the datasets' PostgreSQL sources.
#ifndef EXPORTD_SERVER_SOURCE_READINESS_H_
#define EXPORTD_SERVER_SOURCE_READINESS_H_

#include <chrono>
#include <memory>
#include <vector>

#include "core/cached_check.h"
#include "core/clock.h"
#include "core/dataset.h"
#include "core/status.h"

namespace exportd {

class PgSource;

// A connection to each PostgreSQL source with one quick attempt (2 s connect timeout), at most
// every kTtl, the last answer in between. SQLite sources are files checked at start-up and by
// each export; they are not probed. `clock` outlives it.
class SourceReadiness {
 public:
  static constexpr std::chrono::seconds kTtl{5};

  SourceReadiness(const DatasetCatalog& datasets, const Clock& clock);

  // Whether there is a source to probe.
  bool empty() const { return sources_.empty(); }
  // OK, or the first unreachable source's error prefixed with its dataset.
  Status Check();

 private:
  Status Probe() const;

  std::vector<std::shared_ptr<PgSource>> sources_;
  CachedCheck cached_;
};

}  // namespace exportd

#endif  // EXPORTD_SERVER_SOURCE_READINESS_H_
