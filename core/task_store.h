// TaskStore: durable home of tasks and their events. Implemented in storage/ (SQLite now,
// PostgreSQL later, possibly shared by several instances).
//
// One object that implements every concern of the store, each its own small interface so that a
// consumer takes only the ones it uses and a fake or a wrapper overrides only those:
//   TaskRecords        the tasks: create, read, list, transitions, cancel requests, files
//   WorkQueue          FIFO claims, leases, committed files, progress
//   FileRetention      the objects due for deletion
//   NotificationOutbox the deliveries owed for finished tasks
//   AuditLog           the events, per task and across tasks
//   StoreHealth        readiness
// A new concern of the store is one more such interface, added to this list. The rules that
// decide what each change does are in core/task.h and core/task_rules.h, shared by every store;
// tests/unit/task_store_contract.h is the suite every store passes.
#ifndef EXPORTD_CORE_TASK_STORE_H_
#define EXPORTD_CORE_TASK_STORE_H_

#include "core/audit_log.h"
#include "core/file_retention.h"
#include "core/notification_outbox.h"
#include "core/store_health.h"
#include "core/task_records.h"
#include "core/work_queue.h"

namespace exportd {

// Thread-safe. Every method is atomic; a returned OK means the change is durable. Changes made
// through one interface are seen at once through the others (one store, one transaction each).
class TaskStore : public TaskRecords,
                  public WorkQueue,
                  public FileRetention,
                  public NotificationOutbox,
                  public AuditLog,
                  public StoreHealth {
 public:
  ~TaskStore() override = default;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_TASK_STORE_H_
