// WatermarkStore: the durable home of watermarks (core/watermark.h). Implemented by the task
// stores in storage/, because a Succeeded incremental task moves its watermarks in the same
// transaction as its transition (TaskRecords::Transition).
#ifndef EXPORTD_CORE_WATERMARK_STORE_H_
#define EXPORTD_CORE_WATERMARK_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/task.h"
#include "core/watermark.h"

namespace exportd {

// Thread-safe. Every method is atomic; a returned OK means the change is durable.
class WatermarkStore {
 public:
  virtual ~WatermarkStore() = default;

  // The watermarks of `dataset`, by partition.
  virtual Result<std::vector<Watermark>> ListWatermarks(const std::string& dataset) = 0;
  // Sets a partition's watermark by hand (re-baselining): the stored watermark has no task, and
  // a "watermark" event (no task; actor and remote from `origin`) is recorded with it.
  virtual Result<Watermark> PutWatermark(const std::string& dataset, const std::string& partition,
                                         TimePoint watermark, TimePoint now,
                                         const EventOrigin& origin) = 0;
  // Removes a partition's watermark with a "watermark" event; its next incremental export starts
  // as if it never had one. kNotFound if it has none.
  virtual Status DeleteWatermark(const std::string& dataset, const std::string& partition,
                                 TimePoint now, const EventOrigin& origin) = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_WATERMARK_STORE_H_
