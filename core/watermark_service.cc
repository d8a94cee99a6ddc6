#include "core/watermark_service.h"

namespace exportd {
namespace {

Status RequireAdmin(const Principal& who, std::string_view action) {
  if (who.admin) return Status::Ok();
  return Status(StatusCode::kPermissionDenied,
                std::string(action) + " a watermark needs an admin key");
}

}  // namespace

Result<const Dataset*> WatermarkService::FindDataset(const std::string& name) const {
  const DatasetCatalog::Entry* entry = datasets_.Find(name);
  if (entry == nullptr) return NotFound("no dataset '" + name + "'");
  return entry->dataset.get();
}

Result<std::vector<Watermark>> WatermarkService::List(const Principal& who,
                                                      const std::string& dataset) {
  (void)who;  // every principal may read them: they say how far exports got, not what they hold
  RETURN_IF_ERROR(FindDataset(dataset).status());
  return store_.ListWatermarks(dataset);
}

Result<Watermark> WatermarkService::Put(const Principal& who, const std::string& dataset,
                                        const std::string& partition, TimePoint watermark) {
  RETURN_IF_ERROR(RequireAdmin(who, "setting"));
  ASSIGN_OR_RETURN(const Dataset* found, FindDataset(dataset));
  if (!found->spec().time_field || !found->spec().partition_field) {
    return InvalidArgument("dataset '" + dataset +
                           "' has no time and partition field, so no incremental exports and no "
                           "watermarks");
  }
  if (partition.empty() || partition.size() > kMaxPartitionNameBytes) {
    return InvalidArgument("a partition name has 1 to " + std::to_string(kMaxPartitionNameBytes) +
                           " bytes");
  }
  return store_.PutWatermark(dataset, partition, watermark, clock_.Now(), OriginOf(who));
}

Status WatermarkService::Delete(const Principal& who, const std::string& dataset,
                                const std::string& partition) {
  RETURN_IF_ERROR(RequireAdmin(who, "deleting"));
  RETURN_IF_ERROR(FindDataset(dataset).status());
  return store_.DeleteWatermark(dataset, partition, clock_.Now(), OriginOf(who));
}

}  // namespace exportd
