#include "storage/sqlite/schedule_run_sql.h"

#include <string>
#include <string_view>

#include "core/time_format.h"

namespace exportd {
namespace {

// The primary key (schedule_id, slot) decides: no row comes back when the pair is taken.
constexpr std::string_view kInsertRun =
    "INSERT INTO schedule_runs (schedule_id, slot, task_id) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (schedule_id, slot) DO NOTHING RETURNING 1";
constexpr std::string_view kUpdateLastRun =
    "UPDATE schedules SET last_slot = ?2, last_task_id = ?3, last_run_at = ?4 WHERE id = ?1";

}  // namespace

Status RecordScheduleRun(StatementCache& statements, const Task& task) {
  if (!task.schedule_id || !task.schedule_slot) return Status::Ok();
  const int64_t slot = ToUnixMillis(*task.schedule_slot);
  {
    ASSIGN_OR_RETURN(CachedStatement stmt, statements.Get(kInsertRun));
    stmt->Bind(1, AsText(*task.schedule_id)).Bind(2, slot).Bind(3, AsText(task.id));
    ASSIGN_OR_RETURN(bool inserted, stmt->Step());
    if (!inserted) {
      return Status(StatusCode::kAlreadyExists, "schedule " + *task.schedule_id +
                                                    " already fired slot " +
                                                    FormatRfc3339(*task.schedule_slot));
    }
  }
  ASSIGN_OR_RETURN(CachedStatement stmt, statements.Get(kUpdateLastRun));
  stmt->Bind(1, AsText(*task.schedule_id))
      .Bind(2, slot)
      .Bind(3, AsText(task.id))
      .Bind(4, ToUnixMillis(task.created_at));
  return stmt->Run().WithContext("record the run of schedule " + *task.schedule_id);
}

}  // namespace exportd
