// The watermarks table (migration 010) read and written inside a task store's transaction.
// Not thread-safe: the caller holds the store's lock and, for writes, an open transaction.
#ifndef EXPORTD_STORAGE_SQLITE_WATERMARK_SQL_H_
#define EXPORTD_STORAGE_SQLITE_WATERMARK_SQL_H_

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/watermark.h"
#include "storage/sqlite/statement_cache.h"

namespace exportd {

// The watermarks of `dataset`, by partition.
Result<std::vector<Watermark>> SelectWatermarks(StatementCache& statements,
                                                const std::string& dataset);
Result<std::optional<Watermark>> SelectWatermark(StatementCache& statements,
                                                 const std::string& dataset,
                                                 const std::string& partition);
// Inserts or replaces the row of (watermark.dataset, watermark.partition).
Status UpsertWatermark(StatementCache& statements, const Watermark& watermark);
// Removes the row; false when there was none.
Result<bool> DeleteWatermarkRow(StatementCache& statements, const std::string& dataset,
                                const std::string& partition);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_WATERMARK_SQL_H_
