// WatermarkService: the watermark routes' operations, free of HTTP (GET, PUT and DELETE
// /v1/datasets/{name}/watermarks...).
#ifndef EXPORTD_CORE_WATERMARK_SERVICE_H_
#define EXPORTD_CORE_WATERMARK_SERVICE_H_

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/dataset.h"
#include "core/principal.h"
#include "core/status.h"
#include "core/watermark.h"
#include "core/watermark_store.h"

namespace exportd {

// The longest partition name a watermark may be set for by hand (values found in data have no
// limit of their own).
inline constexpr size_t kMaxPartitionNameBytes = 1024;

// Thread-safe. The referenced objects must outlive the service.
class WatermarkService {
 public:
  WatermarkService(WatermarkStore& store, const DatasetCatalog& datasets, const Clock& clock)
      : store_(store), datasets_(datasets), clock_(clock) {}

  // Any principal. kNotFound for an unknown dataset.
  Result<std::vector<Watermark>> List(const Principal& who, const std::string& dataset);
  // Admins only (kPermissionDenied). kNotFound for an unknown dataset; kInvalidArgument for a
  // dataset without a time and a partition field (it has no incremental exports), or an empty
  // or overlong partition name.
  Result<Watermark> Put(const Principal& who, const std::string& dataset,
                        const std::string& partition, TimePoint watermark);
  // Admins only. kNotFound for an unknown dataset or a partition without a watermark.
  Status Delete(const Principal& who, const std::string& dataset, const std::string& partition);

 private:
  Result<const Dataset*> FindDataset(const std::string& name) const;

  WatermarkStore& store_;
  const DatasetCatalog& datasets_;
  const Clock& clock_;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_WATERMARK_SERVICE_H_
