// SqliteTaskStore as a WatermarkStore: the watermarks table (migration 010) and its events.
#include "core/time_format.h"
#include "storage/sqlite/sqlite_task_store.h"
#include "storage/sqlite/watermark_sql.h"

namespace exportd {

Result<std::vector<Watermark>> SqliteTaskStore::ListWatermarks(const std::string& dataset) {
  std::lock_guard<std::mutex> lock(mu_);
  return SelectWatermarks(statements_, dataset);
}

Result<Watermark> SqliteTaskStore::PutWatermark(const std::string& dataset,
                                                const std::string& partition, TimePoint watermark,
                                                TimePoint now, const EventOrigin& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  ASSIGN_OR_RETURN(std::optional<Watermark> previous,
                   SelectWatermark(statements_, dataset, partition));
  const Watermark next{.dataset = dataset,
                       .partition = partition,
                       .watermark = FromUnixMillis(ToUnixMillis(watermark)),
                       .task_id = std::nullopt,
                       .updated_at = FromUnixMillis(ToUnixMillis(now))};
  RETURN_IF_ERROR(UpsertWatermark(statements_, next));
  RETURN_IF_ERROR(InsertEventLocked(ManualWatermarkEvent(
      dataset, partition, previous ? std::optional<TimePoint>(previous->watermark) : std::nullopt,
      next.watermark, now, origin)));
  RETURN_IF_ERROR(tx.Commit());
  return next;
}

Status SqliteTaskStore::DeleteWatermark(const std::string& dataset, const std::string& partition,
                                        TimePoint now, const EventOrigin& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  ASSIGN_OR_RETURN(std::optional<Watermark> previous,
                   SelectWatermark(statements_, dataset, partition));
  if (!previous) {
    return NotFound("dataset '" + dataset + "' has no watermark for partition '" + partition + "'");
  }
  ASSIGN_OR_RETURN(bool deleted, DeleteWatermarkRow(statements_, dataset, partition));
  if (!deleted) return Internal("watermark row vanished inside a transaction");
  RETURN_IF_ERROR(InsertEventLocked(
      ManualWatermarkEvent(dataset, partition, previous->watermark, std::nullopt, now, origin)));
  return tx.Commit();
}

}  // namespace exportd
