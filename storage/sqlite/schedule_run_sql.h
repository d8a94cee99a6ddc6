// The schedule_runs table (migration 010) and the last run of a schedule, written inside a task
// store's transaction when it creates a schedule's task.
// Not thread-safe: the caller holds the store's lock and an open transaction.
#ifndef EXPORTD_STORAGE_SQLITE_SCHEDULE_RUN_SQL_H_
#define EXPORTD_STORAGE_SQLITE_SCHEDULE_RUN_SQL_H_

#include "core/status.h"
#include "core/task.h"
#include "storage/sqlite/statement_cache.h"

namespace exportd {

// For a task with schedule_id and schedule_slot: records (schedule, slot) -> task in
// schedule_runs and makes it the schedule's last run (a deleted schedule has no row to update;
// its run is still recorded). kAlreadyExists when the pair already has a task: the caller rolls
// back, so nothing is stored. A task of no schedule records nothing.
// REQUIRES: the task's row is already inserted (schedule_runs.task_id references it).
Status RecordScheduleRun(StatementCache& statements, const Task& task);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_SCHEDULE_RUN_SQL_H_
