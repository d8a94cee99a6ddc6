#include "storage/postgres/pg_schedule_store.h"

#include "core/time_format.h"
#include "storage/sqlite/schedule_codec.h"

namespace exportd {
namespace {

constexpr std::string_view kInsert =
    "INSERT INTO schedules (id, principal, body, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5)";
constexpr std::string_view kSelectOne =
    "SELECT id, principal, body, created_at, updated_at, last_slot, last_task_id, last_run_at"
    " FROM schedules WHERE id = $1";
constexpr std::string_view kSelectByPrincipal =
    "SELECT id, principal, body, created_at, updated_at, last_slot, last_task_id, last_run_at"
    " FROM schedules WHERE principal = $1 ORDER BY id";
constexpr std::string_view kSelectAllSchedules =
    "SELECT id, principal, body, created_at, updated_at, last_slot, last_task_id, last_run_at"
    " FROM schedules ORDER BY id";
constexpr std::string_view kUpdate =
    "UPDATE schedules SET body = $2, updated_at = $3 WHERE id = $1";
constexpr std::string_view kDelete = "DELETE FROM schedules WHERE id = $1";

Result<Schedule> ReadSchedule(const PgResult& r, int row) {
  Schedule schedule;
  schedule.id = r.Text(row, 0);
  schedule.principal = r.Text(row, 1);
  RETURN_IF_ERROR(DecodeScheduleBody(r.Text(row, 2), schedule).WithContext(schedule.id));
  schedule.created_at = FromUnixMillis(r.Int(row, 3));
  schedule.updated_at = FromUnixMillis(r.Int(row, 4));
  std::optional<int64_t> slot = r.OptInt(row, 5);
  std::optional<std::string> task_id = r.OptText(row, 6);
  std::optional<int64_t> at = r.OptInt(row, 7);
  if (slot && task_id && at) {
    schedule.last_run = ScheduleRun{FromUnixMillis(*slot), *task_id, FromUnixMillis(*at)};
  }
  return schedule;
}

}  // namespace

Status PgScheduleStore::Create(const Schedule& schedule) {
  return pool_->Run([&](PgConnection& c) {
    // The primary key is the only constraint that can fail: kAlreadyExists.
    return c
        .Exec(kInsert, PgParams()
                           .Text(schedule.id)
                           .Text(schedule.principal)
                           .Text(EncodeScheduleBody(schedule))
                           .Int(ToUnixMillis(schedule.created_at))
                           .Int(ToUnixMillis(schedule.updated_at)))
        .status()
        .WithContext("insert schedule " + schedule.id);
  });
}

Result<Schedule> PgScheduleStore::Get(const std::string& id) {
  std::optional<Schedule> out;
  RETURN_IF_ERROR(pool_->Run([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kSelectOne, PgParams().Text(id)));
    if (r.rows() == 0) return NotFound("no schedule " + id);
    ASSIGN_OR_RETURN(out, ReadSchedule(r, 0));
    return Status::Ok();
  }));
  return std::move(*out);
}

Result<std::vector<Schedule>> PgScheduleStore::List(const std::optional<std::string>& principal) {
  std::vector<Schedule> schedules;
  RETURN_IF_ERROR(pool_->Run([&](PgConnection& c) -> Status {
    PgParams params;
    if (principal) params.Text(*principal);
    ASSIGN_OR_RETURN(PgResult r,
                     c.Exec(principal ? kSelectByPrincipal : kSelectAllSchedules, params));
    schedules.clear();
    for (int i = 0; i < r.rows(); ++i) {
      ASSIGN_OR_RETURN(Schedule s, ReadSchedule(r, i));
      schedules.push_back(std::move(s));
    }
    return Status::Ok();
  }));
  return schedules;
}

Status PgScheduleStore::Update(const Schedule& schedule) {
  return pool_->Run([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kUpdate, PgParams()
                                                     .Text(schedule.id)
                                                     .Text(EncodeScheduleBody(schedule))
                                                     .Int(ToUnixMillis(schedule.updated_at))));
    if (r.affected() != 1) return NotFound("no schedule " + schedule.id);
    return Status::Ok();
  });
}

Status PgScheduleStore::Delete(const std::string& id) {
  return pool_->Run([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kDelete, PgParams().Text(id)));
    if (r.affected() != 1) return NotFound("no schedule " + id);
    return Status::Ok();
  });
}

}  // namespace exportd
