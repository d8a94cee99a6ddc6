#include "server/source_readiness.h"

#include "core/source.h"
#include "storage/postgres_source/pg_source.h"

namespace exportd {

SourceReadiness::SourceReadiness(const DatasetCatalog& datasets, const Clock& clock)
    : cached_([this] { return Probe(); }, kTtl, clock) {
  for (const DatasetCatalog::Entry* entry : datasets.List()) {
    if (auto pg = std::dynamic_pointer_cast<PgSource>(entry->source)) sources_.push_back(pg);
  }
}

Status SourceReadiness::Check() { return cached_.Get(); }

Status SourceReadiness::Probe() const {
  for (const std::shared_ptr<PgSource>& source : sources_) {
    Status reachable = source->CheckReachable();
    if (!reachable.ok()) {
      return Status(reachable.code(),
                    "dataset '" + source->dataset().name() +
                        "': PostgreSQL source is not reachable: " + reachable.message());
    }
  }
  return Status::Ok();
}

}  // namespace exportd
