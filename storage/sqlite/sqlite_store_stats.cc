// SqliteTaskStore as a StoreStats: what /metrics reads at scrape time, one indexed query each.
#include "core/task.h"
#include "core/time_format.h"
#include "storage/sqlite/sqlite_task_store.h"

namespace exportd {
namespace {

// The count walks tasks_state_not_before; the oldest is the first Pending task of
// tasks_state_seq (creation order), whose row gives its created_at.
constexpr std::string_view kSummarizePending =
    "SELECT"
    " (SELECT COUNT(*) FROM tasks WHERE state = ?1 AND (not_before IS NULL OR not_before <= ?2)),"
    " (SELECT created_at FROM tasks WHERE state = ?1 ORDER BY seq LIMIT 1)";
// The primary key (dataset, partition) serves the grouping.
constexpr std::string_view kOldestWatermarks =
    "SELECT dataset, MIN(watermark) FROM watermarks GROUP BY dataset";

}  // namespace

Result<PendingSummary> SqliteTaskStore::SummarizePending(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSummarizePending));
  stmt->Bind(1, TaskStateName(TaskState::kPending)).Bind(2, ToUnixMillis(now));
  ASSIGN_OR_RETURN(bool row, stmt->Step());
  PendingSummary summary;
  if (!row) return summary;
  summary.ready = stmt->ColumnInt(0);
  if (!stmt->ColumnIsNull(1)) summary.oldest_created_at = FromUnixMillis(stmt->ColumnInt(1));
  return summary;
}

Result<std::map<std::string, TimePoint>> SqliteTaskStore::OldestWatermarks() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kOldestWatermarks));
  std::map<std::string, TimePoint> oldest;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    oldest.emplace(stmt->ColumnText(0), FromUnixMillis(stmt->ColumnInt(1)));
  }
  return oldest;
}

}  // namespace exportd
