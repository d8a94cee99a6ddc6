#include "storage/sqlite/watermark_sql.h"

#include <sqlite3.h>

#include "core/time_format.h"

namespace exportd {
namespace {

constexpr std::string_view kSelectAllWatermarks =
    "SELECT dataset, partition, watermark, task_id, updated_at FROM watermarks"
    " WHERE dataset = ?1 ORDER BY partition";
constexpr std::string_view kSelectOne =
    "SELECT dataset, partition, watermark, task_id, updated_at FROM watermarks"
    " WHERE dataset = ?1 AND partition = ?2";
constexpr std::string_view kUpsert =
    "INSERT INTO watermarks (dataset, partition, watermark, task_id, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (dataset, partition) DO UPDATE SET"
    " watermark = excluded.watermark, task_id = excluded.task_id,"
    " updated_at = excluded.updated_at";
constexpr std::string_view kDelete =
    "DELETE FROM watermarks WHERE dataset = ?1 AND partition = ?2 RETURNING 1";

// Decodes the current row of kSelectAllWatermarks / kSelectOne.
Watermark ReadWatermark(Statement& stmt) {
  Watermark w;
  w.dataset = stmt.ColumnText(0);
  w.partition = stmt.ColumnText(1);
  w.watermark = FromUnixMillis(stmt.ColumnInt(2));
  w.task_id = stmt.ColumnOptText(3);
  w.updated_at = FromUnixMillis(stmt.ColumnInt(4));
  return w;
}

}  // namespace

Result<std::vector<Watermark>> SelectWatermarks(StatementCache& statements,
                                                const std::string& dataset) {
  ASSIGN_OR_RETURN(CachedStatement stmt, statements.Get(kSelectAllWatermarks));
  stmt->Bind(1, AsText(dataset));
  std::vector<Watermark> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadWatermark(*stmt));
  }
  return out;
}

Result<std::optional<Watermark>> SelectWatermark(StatementCache& statements,
                                                 const std::string& dataset,
                                                 const std::string& partition) {
  ASSIGN_OR_RETURN(CachedStatement stmt, statements.Get(kSelectOne));
  stmt->Bind(1, AsText(dataset)).Bind(2, AsText(partition));
  ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::optional<Watermark>();
  return std::optional<Watermark>(ReadWatermark(*stmt));
}

Status UpsertWatermark(StatementCache& statements, const Watermark& watermark) {
  ASSIGN_OR_RETURN(CachedStatement stmt, statements.Get(kUpsert));
  stmt->Bind(1, AsText(watermark.dataset))
      .Bind(2, AsText(watermark.partition))
      .Bind(3, ToUnixMillis(watermark.watermark))
      .Bind(4, watermark.task_id)
      .Bind(5, ToUnixMillis(watermark.updated_at));
  return stmt->Run().WithContext("watermark of " + watermark.dataset + "/" + watermark.partition);
}

Result<bool> DeleteWatermarkRow(StatementCache& statements, const std::string& dataset,
                                const std::string& partition) {
  ASSIGN_OR_RETURN(CachedStatement stmt, statements.Get(kDelete));
  stmt->Bind(1, AsText(dataset)).Bind(2, AsText(partition));
  return stmt->Step();
}

}  // namespace exportd
