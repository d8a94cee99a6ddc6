#include "storage/sqlite/sqlite_schedule_store.h"

#include <utility>

#include "core/time_format.h"
#include "storage/sqlite/migrations.h"
#include "storage/sqlite/schedule_codec.h"

namespace exportd {
namespace {

constexpr std::string_view kInsert =
    "INSERT INTO schedules (id, principal, body, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr std::string_view kSelectOne =
    "SELECT id, principal, body, created_at, updated_at, last_slot, last_task_id, last_run_at"
    " FROM schedules WHERE id = ?1";
constexpr std::string_view kSelectByPrincipal =
    "SELECT id, principal, body, created_at, updated_at, last_slot, last_task_id, last_run_at"
    " FROM schedules WHERE principal = ?1 ORDER BY id";
constexpr std::string_view kSelectAllSchedules =
    "SELECT id, principal, body, created_at, updated_at, last_slot, last_task_id, last_run_at"
    " FROM schedules ORDER BY id";
constexpr std::string_view kUpdate =
    "UPDATE schedules SET body = ?2, updated_at = ?3 WHERE id = ?1";
constexpr std::string_view kDelete = "DELETE FROM schedules WHERE id = ?1";

// REQUIRES: the current row is (id, principal, body, created_at, updated_at, last_slot,
// last_task_id, last_run_at).
Result<Schedule> ReadSchedule(const Statement& stmt) {
  Schedule schedule;
  schedule.id = stmt.ColumnText(0);
  schedule.principal = stmt.ColumnText(1);
  RETURN_IF_ERROR(DecodeScheduleBody(stmt.ColumnText(2), schedule).WithContext(schedule.id));
  schedule.created_at = FromUnixMillis(stmt.ColumnInt(3));
  schedule.updated_at = FromUnixMillis(stmt.ColumnInt(4));
  std::optional<int64_t> slot = stmt.ColumnOptInt(5);
  std::optional<std::string> task_id = stmt.ColumnOptText(6);
  std::optional<int64_t> at = stmt.ColumnOptInt(7);
  if (slot && task_id && at) {
    schedule.last_run = ScheduleRun{FromUnixMillis(*slot), *task_id, FromUnixMillis(*at)};
  }
  return schedule;
}

}  // namespace

Result<std::unique_ptr<SqliteScheduleStore>> SqliteScheduleStore::Open(const std::string& path) {
  ASSIGN_OR_RETURN(Database db, OpenStoreDatabase(path));
  return std::unique_ptr<SqliteScheduleStore>(new SqliteScheduleStore(std::move(db)));
}

Status SqliteScheduleStore::Create(const Schedule& schedule) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kInsert));
  stmt->Bind(1, AsText(schedule.id))
      .Bind(2, AsText(schedule.principal))
      .Bind(3, AsText(EncodeScheduleBody(schedule)))
      .Bind(4, ToUnixMillis(schedule.created_at))
      .Bind(5, ToUnixMillis(schedule.updated_at));
  // The primary key is the only constraint that can fail: kAlreadyExists.
  return stmt->Run().WithContext("insert schedule " + schedule.id);
}

Result<Schedule> SqliteScheduleStore::Get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectOne));
  stmt->Bind(1, AsText(id));
  ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotFound("no schedule " + id);
  return ReadSchedule(*stmt);
}

Result<std::vector<Schedule>> SqliteScheduleStore::List(
    const std::optional<std::string>& principal) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt,
                   statements_.Get(principal ? kSelectByPrincipal : kSelectAllSchedules));
  if (principal) stmt->Bind(1, AsText(*principal));
  std::vector<Schedule> schedules;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    ASSIGN_OR_RETURN(Schedule schedule, ReadSchedule(*stmt));
    schedules.push_back(std::move(schedule));
  }
  return schedules;
}

Status SqliteScheduleStore::Update(const Schedule& schedule) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kUpdate));
  stmt->Bind(1, AsText(schedule.id))
      .Bind(2, AsText(EncodeScheduleBody(schedule)))
      .Bind(3, ToUnixMillis(schedule.updated_at));
  RETURN_IF_ERROR(stmt->Run().WithContext("update schedule " + schedule.id));
  if (sqlite3_changes(db_.get()) != 1) return NotFound("no schedule " + schedule.id);
  return Status::Ok();
}

Status SqliteScheduleStore::Delete(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kDelete));
  stmt->Bind(1, AsText(id));
  RETURN_IF_ERROR(stmt->Run().WithContext("delete schedule " + id));
  if (sqlite3_changes(db_.get()) != 1) return NotFound("no schedule " + id);
  return Status::Ok();
}

}  // namespace exportd
