#include "storage/sqlite/sqlite_task_store.h"

#include <utility>
#include <variant>

#include "core/export_window.h"
#include "core/task_rules.h"
#include "core/time_format.h"
#include "storage/sqlite/migrations.h"
#include "storage/sqlite/schedule_run_sql.h"
#include "storage/sqlite/task_codec.h"
#include "storage/sqlite/watermark_sql.h"

namespace exportd {
namespace {

constexpr std::string_view kInsertTask =
    "INSERT INTO tasks (id, seq, principal, state, dataset, query_hash, idempotency_key,"
    " created_at, updated_at, not_before, body, kind)"
    " VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM tasks), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
    " ?10, ?11)";
constexpr std::string_view kUpdateTask =
    "UPDATE tasks SET state = ?2, dataset = ?3, query_hash = ?4, updated_at = ?5,"
    " not_before = ?6, body = ?7, lease_owner = ?8, lease_expires_at = ?9,"
    " idempotency_key = ?10, purge_at = ?11, revision = revision + 1 WHERE id = ?1"
    " RETURNING revision";
// A change to a task's notification deliveries (which have their own table) is a change to it.
constexpr std::string_view kBumpRevision = "UPDATE tasks SET revision = revision + 1 WHERE id = ?1";
// Every statement that ReadTask steps selects the body and the revision, in this order.
constexpr std::string_view kSelectTask = "SELECT body, revision FROM tasks WHERE id = ?1";
constexpr std::string_view kSelectRevision = "SELECT principal, revision FROM tasks WHERE id = ?1";
constexpr std::string_view kTaskExists = "SELECT 1 FROM tasks WHERE id = ?1";
constexpr std::string_view kSelectByIdempotencyKey =
    "SELECT body, revision FROM tasks WHERE principal = ?1 AND idempotency_key = ?2";
// Both select the columns ReadTask decodes (body, revision).
constexpr std::string_view kSelectReadyInOrder =
    "SELECT body, revision FROM tasks WHERE state = ?1 AND (not_before IS NULL OR not_before <= ?2)"
    " ORDER BY seq";
constexpr std::string_view kSelectEarlierActive =
    "SELECT body, revision FROM tasks WHERE dataset = ?1 AND state IN (?2, ?3, ?5)"
    " AND seq < (SELECT seq FROM tasks WHERE id = ?4)";
constexpr std::string_view kSelectWakeup =
    "SELECT MIN(t) FROM ("
    " SELECT MIN(not_before) AS t FROM tasks WHERE state = ?1 AND not_before > ?3"
    " UNION ALL"
    " SELECT MIN(lease_expires_at) FROM tasks WHERE state = ?2 AND lease_expires_at > ?3)";
// The tasks an instance recovers at start: its own, and those of a version without leases.
constexpr std::string_view kSelectRecoverable =
    "SELECT id FROM tasks WHERE state = ?1 AND (lease_owner = ?2 OR lease_owner IS NULL)"
    " ORDER BY seq";
// The order of expiry does not matter for FIFO: a requeued task keeps its seq.
constexpr std::string_view kSelectExpired =
    "SELECT id FROM tasks WHERE state = ?1 AND lease_expires_at <= ?2 ORDER BY lease_expires_at";
// Served by the partial index tasks_purge_at (migration 003).
constexpr std::string_view kSelectPurgeable =
    "SELECT id FROM tasks WHERE purge_at IS NOT NULL AND purge_at <= ?1"
    " ORDER BY purge_at LIMIT ?2";
constexpr std::string_view kInsertEvent =
    "INSERT INTO task_events (task_id, at, type, from_state, to_state, detail, actor, remote,"
    " file, bytes, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
// Both select the columns ReadEvent decodes, in its order.
constexpr std::string_view kSelectEvents =
    "SELECT seq, task_id, at, type, from_state, to_state, detail, actor, remote, file, bytes,"
    " outcome FROM task_events WHERE task_id = ?1 ORDER BY seq";
// ListEvents appends its filters, the order and the limit.
constexpr std::string_view kSelectEventsPrefix =
    "SELECT seq, task_id, at, type, from_state, to_state, detail, actor, remote, file, bytes,"
    " outcome FROM task_events";
constexpr std::string_view kInsertNotification =
    "INSERT INTO notifications (task_id, hook, channel, target, status, attempts,"
    " last_attempt_at, last_error, delivered_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr std::string_view kUpdateNotification =
    "UPDATE notifications SET status = ?3, attempts = ?4, last_attempt_at = ?5,"
    " last_error = ?6, delivered_at = ?7 WHERE task_id = ?1 AND hook = ?2";
constexpr std::string_view kSelectNotifications =
    "SELECT hook, channel, target, status, attempts, last_attempt_at, last_error, delivered_at"
    " FROM notifications WHERE task_id = ?1 ORDER BY hook";
constexpr std::string_view kClaimNotification =
    "UPDATE notifications SET claimed_by = ?3, claim_expires_at = ?5"
    " WHERE task_id = ?1 AND hook = ?2 AND status = 'pending'"
    " AND (claimed_by IS NULL OR claimed_by = ?3 OR claim_expires_at <= ?4)"
    " RETURNING hook, channel, target, status, attempts, last_attempt_at, last_error,"
    " delivered_at";
constexpr std::string_view kNotificationExists =
    "SELECT 1 FROM notifications WHERE task_id = ?1 AND hook = ?2";
// Served by the partial index notifications_pending (migration 004).
constexpr std::string_view kSelectPendingNotifications =
    "SELECT DISTINCT task_id FROM notifications WHERE status = 'pending' AND task_id > ?1"
    " ORDER BY task_id LIMIT ?2";
constexpr std::string_view kHeartbeat =
    "INSERT INTO store_heartbeat (id, at)"
    " VALUES (1, CAST(strftime('%s', 'now') AS INTEGER) * 1000)"
    " ON CONFLICT (id) DO UPDATE SET at = excluded.at";

// Ids from a statement whose column 0 is a task id.
Result<std::vector<std::string>> ReadIds(Statement& stmt) {
  std::vector<std::string> ids;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    ids.push_back(stmt.ColumnText(0));
  }
  return ids;
}

std::optional<int64_t> OptMillis(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return ToUnixMillis(*t);
}

std::optional<std::string> OptStateName(const std::optional<TaskState>& s) {
  if (!s) return std::nullopt;
  return std::string(TaskStateName(*s));
}

Result<std::optional<TaskState>> OptState(const std::optional<std::string>& name) {
  if (!name) return std::optional<TaskState>();
  std::optional<TaskState> state = ParseTaskState(*name);
  if (!state) return DataLoss("stored event has unknown state '" + *name + "'");
  return std::optional<TaskState>(state);
}

// The audit columns hold NULL, not '', for "none" (and rows older than migration 006 have NULL).
std::optional<std::string> NullIfEmpty(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text;
}

// Decodes the current row of a statement selecting the event columns (kSelectEvents order).
Result<TaskEvent> ReadEvent(Statement& stmt) {
  TaskEvent event;
  event.seq = stmt.ColumnInt(0);
  event.task_id = stmt.ColumnText(1);
  event.at = FromUnixMillis(stmt.ColumnInt(2));
  event.type = stmt.ColumnText(3);
  ASSIGN_OR_RETURN(event.from, OptState(stmt.ColumnOptText(4)));
  ASSIGN_OR_RETURN(event.to, OptState(stmt.ColumnOptText(5)));
  event.detail = stmt.ColumnText(6);
  event.actor = stmt.ColumnOptText(7).value_or("");
  event.remote = stmt.ColumnOptText(8).value_or("");
  event.file = stmt.ColumnOptText(9).value_or("");
  event.bytes = stmt.ColumnOptInt(10);
  event.outcome = stmt.ColumnOptText(11).value_or("");
  return event;
}

// Steps `stmt` once and decodes column 0 as a task body and column 1 as its revision; nullopt
// when there is no row.
Result<std::optional<Task>> ReadTask(Statement& stmt) {
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<Task>();
  ASSIGN_OR_RETURN(Task task, DecodeTask(stmt.ColumnText(0)));
  task.revision = stmt.ColumnInt(1);
  return std::optional<Task>(std::move(task));
}

Status TaskNotFound(const std::string& id) { return NotFound("task " + id + " not found"); }

// The tasks.purge_at column: when the retention janitor has objects of this task to delete.
std::optional<int64_t> PurgeAt(const Task& task) { return OptMillis(FilesDueAt(task)); }

}  // namespace

Result<std::unique_ptr<SqliteTaskStore>> SqliteTaskStore::Open(const std::string& path) {
  ASSIGN_OR_RETURN(Database db, OpenStoreDatabase(path));
  return std::unique_ptr<SqliteTaskStore>(new SqliteTaskStore(std::move(db)));
}

Result<Task> SqliteTaskStore::LoadLocked(const std::string& id) {
  std::optional<Task> task;
  {
    ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectTask));
    stmt->Bind(1, AsText(id));
    ASSIGN_OR_RETURN(task, ReadTask(*stmt));
  }
  if (!task) return TaskNotFound(id);
  RETURN_IF_ERROR(FillNotificationsLocked(*task));
  return std::move(*task);
}

namespace {

// The delivery in the current row of a statement whose columns are those of
// kSelectNotifications.
Result<HookDelivery> ReadDelivery(Statement& stmt, const std::string& task_id) {
  HookDelivery d;
  d.hook = static_cast<int>(stmt.ColumnInt(0));
  d.channel = stmt.ColumnText(1);
  d.target = stmt.ColumnText(2);
  std::optional<DeliveryStatus> status = ParseDeliveryStatus(stmt.ColumnText(3));
  if (!status) return DataLoss("task " + task_id + ": unknown notification status");
  d.status = *status;
  d.attempts = static_cast<int>(stmt.ColumnInt(4));
  if (auto t = stmt.ColumnOptInt(5)) d.last_attempt_at = FromUnixMillis(*t);
  d.last_error = stmt.ColumnOptText(6);
  if (auto t = stmt.ColumnOptInt(7)) d.delivered_at = FromUnixMillis(*t);
  return d;
}

}  // namespace

Status SqliteTaskStore::FillNotificationsLocked(Task& task) {
  task.notifications.clear();
  // Only terminal tasks with hooks have rows: the others cost no query.
  if (!IsTerminal(task.state) || !HasHooks(task.notify)) return Status::Ok();
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectNotifications));
  stmt->Bind(1, AsText(task.id));
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    ASSIGN_OR_RETURN(HookDelivery d, ReadDelivery(*stmt, task.id));
    task.notifications.push_back(std::move(d));
  }
  return Status::Ok();
}

Status SqliteTaskStore::SaveNotificationLocked(const std::string& task_id, const HookDelivery& d,
                                               bool insert) {
  ASSIGN_OR_RETURN(CachedStatement stmt,
                   statements_.Get(insert ? kInsertNotification : kUpdateNotification));
  stmt->Bind(1, AsText(task_id)).Bind(2, int64_t{d.hook});
  int next = 3;
  if (insert) {
    stmt->Bind(3, AsText(d.channel)).Bind(4, AsText(d.target));
    next = 5;
  }
  stmt->Bind(next, DeliveryStatusName(d.status))
      .Bind(next + 1, int64_t{d.attempts})
      .Bind(next + 2, OptMillis(d.last_attempt_at))
      .Bind(next + 3, d.last_error)
      .Bind(next + 4, OptMillis(d.delivered_at));
  RETURN_IF_ERROR(stmt->Run().WithContext("notification of task " + task_id));
  if (sqlite3_changes(db_.get()) != 1) {
    return NotFound("task " + task_id + " has no hook " + std::to_string(d.hook));
  }
  // Rows are inserted only by TransitionLocked, in the transaction whose SaveLocked has just
  // moved the revision: the task it returns must carry that revision.
  if (insert) return Status::Ok();
  ASSIGN_OR_RETURN(CachedStatement bump, statements_.Get(kBumpRevision));
  bump->Bind(1, AsText(task_id));
  return bump->Run().WithContext("revision of task " + task_id);
}

Result<bool> SqliteTaskStore::ExistsLocked(const std::string& id) {
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kTaskExists));
  stmt->Bind(1, AsText(id));
  return stmt->Step();
}

Result<Task> SqliteTaskStore::SaveLocked(const Task& task) {
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kUpdateTask));
  stmt->Bind(1, AsText(task.id))
      .Bind(2, TaskStateName(task.state))
      .Bind(3, AsText(task.request.dataset))
      .Bind(4, AsText(task.query_hash))
      .Bind(5, ToUnixMillis(task.updated_at))
      .Bind(6, OptMillis(task.not_before))
      .Bind(7, AsText(EncodeTask(task)))
      .Bind(8, task.lease ? std::optional<std::string>(task.lease->owner) : std::nullopt)
      .Bind(9, task.lease ? std::optional<int64_t>(ToUnixMillis(task.lease->expires_at))
                          : std::nullopt)
      .Bind(10, task.idempotency_key)
      .Bind(11, PurgeAt(task));
  // RETURNING: SQLite makes the whole change in this first step.
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status().WithContext("save task " + task.id);
  if (!*row) return TaskNotFound(task.id);
  Task saved = TruncateTimes(task);
  saved.revision = stmt->ColumnInt(0);
  return saved;
}

Status SqliteTaskStore::InsertEventLocked(const TaskEvent& event) {
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kInsertEvent));
  // NULL for an event of no task (a watermark set by hand).
  stmt->Bind(1, NullIfEmpty(event.task_id))
      .Bind(2, ToUnixMillis(event.at))
      .Bind(3, AsText(event.type))
      .Bind(4, OptStateName(event.from))
      .Bind(5, OptStateName(event.to))
      .Bind(6, AsText(event.detail))
      .Bind(7, NullIfEmpty(event.actor))
      .Bind(8, NullIfEmpty(event.remote))
      .Bind(9, NullIfEmpty(event.file))
      .Bind(10, event.bytes)
      .Bind(11, NullIfEmpty(event.outcome));
  return stmt->Run().WithContext("event of task " + event.task_id);
}

Result<Task> SqliteTaskStore::CommitChangeLocked(Transaction& tx, Task task,
                                                 const std::optional<Transitioned>& change) {
  if (!change) return task;
  ASSIGN_OR_RETURN(Task saved, SaveLocked(change->task));
  RETURN_IF_ERROR(InsertEventLocked(change->event));
  RETURN_IF_ERROR(tx.Commit());
  return saved;
}

Result<Task> SqliteTaskStore::TransitionLocked(const std::string& id, const TransitionArgs& args) {
  ASSIGN_OR_RETURN(Task task, LoadLocked(id));
  return TransitionLocked(task, args);
}

Result<Task> SqliteTaskStore::TransitionLocked(const Task& task, const TransitionArgs& args) {
  ASSIGN_OR_RETURN(Transitioned next, ApplyTransition(task, args));
  ASSIGN_OR_RETURN(Task saved, SaveLocked(next.task));
  RETURN_IF_ERROR(InsertEventLocked(next.event));
  RETURN_IF_ERROR(MoveWatermarksLocked(task, saved, args));
  // The hooks become owed deliveries in this same transaction: a crash right after the commit
  // cannot lose them (NotificationDispatcher::Start re-queues them).
  std::vector<HookDelivery> owed = DeliveriesOwed(task, saved);
  if (owed.empty()) return saved;
  saved.notifications = std::move(owed);
  for (const HookDelivery& d : saved.notifications) {
    RETURN_IF_ERROR(SaveNotificationLocked(saved.id, d, /*insert=*/true));
  }
  return saved;
}

Status SqliteTaskStore::CreateLocked(const Task& task, const EventOrigin& origin) {
  ASSIGN_OR_RETURN(Transitioned created, ApplyCreate(task, origin));
  // Checked before inserting so that the caller learns which key collided; the unique
  // constraints stay as the backstop.
  ASSIGN_OR_RETURN(bool exists, ExistsLocked(task.id));
  if (exists) return Status(StatusCode::kAlreadyExists, "task " + task.id + " already exists");
  if (task.idempotency_key) {
    ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectByIdempotencyKey));
    stmt->Bind(1, AsText(task.principal)).Bind(2, AsText(*task.idempotency_key));
    ASSIGN_OR_RETURN(bool taken, stmt->Step());
    if (taken) {
      return Status(StatusCode::kAlreadyExists,
                    "idempotency key already used by principal " + task.principal);
    }
  }
  {
    ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kInsertTask));
    stmt->Bind(1, AsText(task.id))
        .Bind(2, AsText(task.principal))
        .Bind(3, TaskStateName(task.state))
        .Bind(4, AsText(task.request.dataset))
        .Bind(5, AsText(task.query_hash))
        .Bind(6, task.idempotency_key)
        .Bind(7, ToUnixMillis(task.created_at))
        .Bind(8, ToUnixMillis(task.updated_at))
        .Bind(9, OptMillis(task.not_before))
        .Bind(10, AsText(EncodeTask(task)))
        .Bind(11, TaskKindName(task.kind));
    RETURN_IF_ERROR(stmt->Run().WithContext("create task " + task.id));
  }
  RETURN_IF_ERROR(RecordScheduleRun(statements_, task));
  return InsertEventLocked(created.event);
}

struct SqliteTaskStore::PendingCreate {
  const Task& task;
  const EventOrigin& origin;
  Status result;
  bool done = false;  // guarded by group_mu_
};

Status SqliteTaskStore::Create(const Task& task, const EventOrigin& origin) {
  PendingCreate me{task, origin, Status::Ok()};
  std::unique_lock<std::mutex> lock(group_mu_);
  create_queue_.push_back(&me);
  group_done_.wait(lock, [&] { return me.done || !create_leader_; });
  if (me.done) return me.result;
  // No commit under way and this call still queued: lead the group of everything queued.
  create_leader_ = true;
  std::vector<PendingCreate*> group;
  group.swap(create_queue_);
  lock.unlock();
  CommitCreates(group);
  lock.lock();
  for (PendingCreate* p : group) p->done = true;
  create_leader_ = false;
  group_done_.notify_all();
  return me.result;
}

void SqliteTaskStore::CommitCreates(const std::vector<PendingCreate*>& group) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  if (!tx.status().ok()) {
    for (PendingCreate* p : group) p->result = tx.status();
    return;
  }
  bool any_created = false;
  for (PendingCreate* p : group) {
    // A failing task must leave nothing behind in the shared transaction.
    p->result = db_.Exec("SAVEPOINT create_task");
    if (!p->result.ok()) continue;
    p->result = CreateLocked(p->task, p->origin);
    if (!p->result.ok()) (void)db_.Exec("ROLLBACK TO create_task");
    Status released = db_.Exec("RELEASE create_task");
    if (p->result.ok()) p->result = released;
    any_created = any_created || p->result.ok();
  }
  if (!any_created) return;  // the transaction rolls back, empty
  Status committed = tx.Commit();
  if (committed.ok()) return;
  for (PendingCreate* p : group) {
    if (p->result.ok()) p->result = committed;
  }
}

Status SqliteTaskStore::CreateTakingKey(const Task& task, const std::string& previous_id,
                                        const EventOrigin& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  ASSIGN_OR_RETURN(Task previous, LoadLocked(previous_id));
  ASSIGN_OR_RETURN(Transitioned released, ApplyKeyRelease(previous, task, origin));
  RETURN_IF_ERROR(SaveLocked(released.task).status());
  RETURN_IF_ERROR(InsertEventLocked(released.event));
  RETURN_IF_ERROR(CreateLocked(task, origin));
  return tx.Commit();
}

Result<Task> SqliteTaskStore::Get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadLocked(id);
}

Result<TaskRevision> SqliteTaskStore::Revision(const std::string& id) {
  if (std::optional<TaskRevision> kept = revisions_.Find(id)) return *std::move(kept);
  const auto stamp = revisions_.StampBeforeRead();
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectRevision));
  stmt->Bind(1, AsText(id));
  ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return TaskNotFound(id);
  TaskRevision revision{stmt->ColumnText(0), stmt->ColumnInt(1)};
  if (stamp) revisions_.Put(*stamp, id, revision);
  return revision;
}

Result<std::optional<Task>> SqliteTaskStore::FindByIdempotencyKey(const std::string& principal,
                                                                  const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectByIdempotencyKey));
  stmt->Bind(1, AsText(principal)).Bind(2, AsText(key));
  ASSIGN_OR_RETURN(std::optional<Task> task, ReadTask(*stmt));
  if (task) RETURN_IF_ERROR(FillNotificationsLocked(*task));
  return task;
}

Result<TaskPage> SqliteTaskStore::List(const TaskListQuery& query) {
  if (query.limit < 1) return InvalidArgument("limit must be at least 1", "/limit");
  // One statement per combination of filters (at most 64), each cached like the fixed ones.
  std::string sql = "SELECT body, revision FROM tasks";
  std::vector<std::string> args;
  auto add = [&](const char* column, const char* op, std::string value) {
    sql += args.empty() ? " WHERE " : " AND ";
    sql += column;
    sql += op;
    args.push_back(std::move(value));
    sql.append("?").append(std::to_string(args.size()));
  };
  if (query.principal) add("principal", " = ", *query.principal);
  if (query.kind) add("kind", " = ", std::string(TaskKindName(*query.kind)));
  if (query.state) add("state", " = ", std::string(TaskStateName(*query.state)));
  if (query.dataset) add("dataset", " = ", *query.dataset);
  if (query.query_hash) add("query_hash", " = ", *query.query_hash);
  if (query.before_id) add("id", " < ", *query.before_id);
  sql += " ORDER BY id DESC LIMIT ?" + std::to_string(args.size() + 1);

  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(sql));
  for (size_t i = 0; i < args.size(); ++i) {
    stmt->Bind(static_cast<int>(i) + 1, AsText(args[i]));
  }
  // One row more than asked tells whether another page exists.
  stmt->Bind(static_cast<int>(args.size()) + 1, int64_t{query.limit} + 1);
  TaskPage page;
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<Task> task, ReadTask(*stmt));
    if (!task) break;
    if (page.items.size() == static_cast<size_t>(query.limit)) {
      page.next_cursor = page.items.back().id;
      break;
    }
    page.items.push_back(std::move(*task));
  }
  // After the scan: the statement above must be done before another one runs.
  for (Task& task : page.items) RETURN_IF_ERROR(FillNotificationsLocked(task));
  return page;
}

Result<Task> SqliteTaskStore::Transition(const std::string& id, const TransitionArgs& args) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  ASSIGN_OR_RETURN(Task task, TransitionLocked(id, args));
  RETURN_IF_ERROR(tx.Commit());
  return task;
}

Result<std::vector<Task>> SqliteTaskStore::EarlierActiveLocked(const Task& task) {
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectEarlierActive));
  stmt->Bind(1, AsText(task.request.dataset))
      .Bind(2, TaskStateName(TaskState::kPending))
      .Bind(3, TaskStateName(TaskState::kProcessing))
      .Bind(4, AsText(task.id))
      .Bind(5, TaskStateName(TaskState::kPaused));
  std::vector<Task> earlier;
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<Task> next, ReadTask(*stmt));
    if (!next) break;
    earlier.push_back(std::move(*next));
  }
  return earlier;
}

Result<std::optional<Task>> SqliteTaskStore::ClaimNext(TimePoint now, const std::string& owner,
                                                       Millis lease) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  std::string id;
  {
    // Ready tasks in FIFO order; almost always the first one is taken. An incremental export
    // that must wait for an earlier one of an overlapping scope is passed over, in its place.
    ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectReadyInOrder));
    stmt->Bind(1, TaskStateName(TaskState::kPending)).Bind(2, ToUnixMillis(now));
    for (;;) {
      ASSIGN_OR_RETURN(std::optional<Task> candidate, ReadTask(*stmt));
      if (!candidate) return std::optional<Task>();
      if (candidate->request.incremental) {
        ASSIGN_OR_RETURN(std::vector<Task> earlier, EarlierActiveLocked(*candidate));
        if (MustWaitForEarlierExport(*candidate, earlier)) continue;
      }
      id = candidate->id;
      break;
    }
  }
  ASSIGN_OR_RETURN(Task task, TransitionLocked(id, ClaimArgs(now, owner, lease)));
  RETURN_IF_ERROR(tx.Commit());
  return std::optional<Task>(std::move(task));
}

Result<std::optional<TimePoint>> SqliteTaskStore::NextWakeup(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectWakeup));
  stmt->Bind(1, TaskStateName(TaskState::kPending))
      .Bind(2, TaskStateName(TaskState::kProcessing))
      .Bind(3, ToUnixMillis(now));
  ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row || stmt->ColumnIsNull(0)) return std::optional<TimePoint>();
  return std::optional<TimePoint>(FromUnixMillis(stmt->ColumnInt(0)));
}

Result<Task> SqliteTaskStore::Heartbeat(const std::string& id, const LeaseKey& key,
                                        const std::optional<Progress>& progress, TimePoint now,
                                        Millis lease) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  ASSIGN_OR_RETURN(Task task, LoadLocked(id));
  ASSIGN_OR_RETURN(Task renewed, ApplyHeartbeat(task, key, progress, now, lease));
  ASSIGN_OR_RETURN(Task saved, SaveLocked(renewed));
  RETURN_IF_ERROR(tx.Commit());
  return saved;
}

Result<Task> SqliteTaskStore::CommitFile(const std::string& id, const LeaseKey& key,
                                         const FileInfo& file, const Checkpoint& next,
                                         TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  ASSIGN_OR_RETURN(Task task, LoadLocked(id));
  ASSIGN_OR_RETURN(Transitioned next_task, ApplyCheckpoint(task, key, file, next, now));
  ASSIGN_OR_RETURN(Task saved, SaveLocked(next_task.task));
  RETURN_IF_ERROR(InsertEventLocked(next_task.event));
  RETURN_IF_ERROR(tx.Commit());
  return saved;
}

Result<std::vector<std::string>> SqliteTaskStore::ExpireLeases(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  // Read first, outside a write transaction: the common case (nothing expired) then never
  // takes the write lock. The ids are checked again under it.
  std::vector<std::string> candidates;
  {
    ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectExpired));
    stmt->Bind(1, TaskStateName(TaskState::kProcessing)).Bind(2, ToUnixMillis(now));
    ASSIGN_OR_RETURN(candidates, ReadIds(*stmt));
  }
  if (candidates.empty()) return candidates;
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  std::vector<std::string> ids;
  {
    ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectExpired));
    stmt->Bind(1, TaskStateName(TaskState::kProcessing)).Bind(2, ToUnixMillis(now));
    ASSIGN_OR_RETURN(ids, ReadIds(*stmt));
  }
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(Task task, LoadLocked(id));
    RETURN_IF_ERROR(TransitionLocked(task, LeaseExpiryArgs(task, now)).status());
  }
  RETURN_IF_ERROR(tx.Commit());
  return ids;
}

Result<std::vector<std::string>> SqliteTaskStore::RecoverProcessing(TimePoint now,
                                                                    const std::string& owner) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  std::vector<std::string> ids;
  {
    ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectRecoverable));
    stmt->Bind(1, TaskStateName(TaskState::kProcessing)).Bind(2, AsText(owner));
    ASSIGN_OR_RETURN(ids, ReadIds(*stmt));
  }
  const TransitionArgs args = RecoverArgs(now, owner);
  for (const std::string& id : ids) RETURN_IF_ERROR(TransitionLocked(id, args).status());
  RETURN_IF_ERROR(tx.Commit());
  return ids;
}

Status SqliteTaskStore::UpdateProgress(const std::string& id, const Progress& progress,
                                       TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  ASSIGN_OR_RETURN(Task task, LoadLocked(id));
  std::optional<Task> next = ApplyProgress(task, progress, now);
  if (!next) return Status::Ok();
  RETURN_IF_ERROR(SaveLocked(*next).status());
  return tx.Commit();
}

Result<Task> SqliteTaskStore::RequestCancel(const std::string& id, TimePoint now,
                                            const EventOrigin& origin) {
  return ApplyRequest(id, now, origin, &ApplyCancelRequest);
}

Result<Task> SqliteTaskStore::RequestPause(const std::string& id, TimePoint now,
                                           const EventOrigin& origin) {
  return ApplyRequest(id, now, origin, &ApplyPauseRequest);
}

Result<Task> SqliteTaskStore::ApplyRequest(const std::string& id, TimePoint now,
                                           const EventOrigin& origin, RequestRule rule) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  ASSIGN_OR_RETURN(Task task, LoadLocked(id));
  ASSIGN_OR_RETURN(std::optional<Transitioned> next, rule(task, now, origin));
  return CommitChangeLocked(tx, std::move(task), next);
}

Result<Task> SqliteTaskStore::ReplaceFiles(const std::string& id, std::vector<FileInfo> files,
                                           const std::string& event_type, TimePoint now,
                                           const EventOrigin& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  ASSIGN_OR_RETURN(Task task, LoadLocked(id));
  // Decided inside the transaction: a DELETE and the retention janitor that both remove a task's
  // files record one event between them, whichever commits first.
  ASSIGN_OR_RETURN(std::optional<Transitioned> next,
                   ApplyFileReplacement(task, std::move(files), event_type, now, origin));
  return CommitChangeLocked(tx, std::move(task), next);
}

Status SqliteTaskStore::FilesRemoved(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  ASSIGN_OR_RETURN(Task task, LoadLocked(id));
  std::optional<Task> next = ApplyFilesRemoved(task);
  if (!next) return Status::Ok();
  RETURN_IF_ERROR(SaveLocked(*next).status());
  return tx.Commit();
}

Result<std::vector<std::string>> SqliteTaskStore::ListExpiredFiles(TimePoint now, int limit) {
  if (limit < 1) return InvalidArgument("limit must be at least 1");
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectPurgeable));
  stmt->Bind(1, ToUnixMillis(now)).Bind(2, int64_t{limit});
  return ReadIds(*stmt);
}

Status SqliteTaskStore::RecordNotificationAttempt(const std::string& task_id,
                                                  const HookDelivery& delivery,
                                                  const TaskEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  RETURN_IF_ERROR(SaveNotificationLocked(task_id, delivery, /*insert=*/false));
  TaskEvent stored = event;
  stored.task_id = task_id;
  RETURN_IF_ERROR(InsertEventLocked(stored));
  return tx.Commit();
}

Result<std::optional<HookDelivery>> SqliteTaskStore::ClaimNotification(const std::string& task_id,
                                                                       int hook,
                                                                       const std::string& owner,
                                                                       TimePoint now,
                                                                       TimePoint until) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  std::optional<HookDelivery> claimed;
  {
    ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kClaimNotification));
    stmt->Bind(1, AsText(task_id))
        .Bind(2, int64_t{hook})
        .Bind(3, AsText(owner))
        .Bind(4, ToUnixMillis(now))
        .Bind(5, ToUnixMillis(until));
    ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (row) {
      ASSIGN_OR_RETURN(claimed, ReadDelivery(*stmt, task_id));
      ASSIGN_OR_RETURN(bool more, stmt->Step());
      (void)more;  // (task_id, hook) is the key: one row at most
    }
  }
  if (!claimed) {
    ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kNotificationExists));
    stmt->Bind(1, AsText(task_id)).Bind(2, int64_t{hook});
    ASSIGN_OR_RETURN(bool exists, stmt->Step());
    if (!exists) return NotFound("task " + task_id + " has no hook " + std::to_string(hook));
  }
  RETURN_IF_ERROR(tx.Commit());
  return claimed;
}

Result<std::vector<Task>> SqliteTaskStore::PendingNotifications(int limit,
                                                                const std::string& after_id) {
  if (limit < 1) return InvalidArgument("limit must be at least 1");
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> ids;
  {
    ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectPendingNotifications));
    stmt->Bind(1, AsText(after_id)).Bind(2, int64_t{limit});
    ASSIGN_OR_RETURN(ids, ReadIds(*stmt));
  }
  std::vector<Task> tasks;
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(Task task, LoadLocked(id));
    tasks.push_back(std::move(task));
  }
  return tasks;
}

Status SqliteTaskStore::AppendEvent(const TaskEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  ASSIGN_OR_RETURN(bool exists, ExistsLocked(event.task_id));
  if (!exists) return TaskNotFound(event.task_id);
  RETURN_IF_ERROR(InsertEventLocked(event));
  return tx.Commit();
}

Result<std::vector<TaskEvent>> SqliteTaskStore::Events(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TaskEvent> events;
  {
    ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectEvents));
    stmt->Bind(1, AsText(id));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      ASSIGN_OR_RETURN(TaskEvent event, ReadEvent(*stmt));
      events.push_back(std::move(event));
    }
  }
  // Every task has its "created" event, so no rows means no task (tasks are never deleted).
  if (events.empty()) {
    ASSIGN_OR_RETURN(bool exists, ExistsLocked(id));
    if (!exists) return TaskNotFound(id);
  }
  return events;
}

Result<EventPage> SqliteTaskStore::ListEvents(const EventQuery& query) {
  if (query.limit < 1) return InvalidArgument("limit must be at least 1", "/limit");
  // Built like List: one cached statement per combination of filters (and count of types).
  std::string sql(kSelectEventsPrefix);
  std::vector<std::variant<std::string, int64_t>> args;
  auto next_param = [&](std::variant<std::string, int64_t> value) {
    args.push_back(std::move(value));
    return std::string("?").append(std::to_string(args.size()));
  };
  bool first = true;
  auto where = [&](const std::string& condition) {
    sql += first ? " WHERE " : " AND ";
    sql += condition;
    first = false;
  };
  if (query.actor) where("actor = " + next_param(*query.actor));
  if (query.task_id) where("task_id = " + next_param(*query.task_id));
  if (!query.types.empty()) {
    std::string in;
    for (const std::string& type : query.types) in += (in.empty() ? "" : ", ") + next_param(type);
    where("type IN (" + in + ")");
  }
  if (query.since) where("at >= " + next_param(ToUnixMillis(*query.since)));
  if (query.until) where("at < " + next_param(ToUnixMillis(*query.until)));
  if (query.remote) where("remote = " + next_param(*query.remote));
  if (query.file) where("file = " + next_param(*query.file));
  if (query.outcome) where("outcome = " + next_param(*query.outcome));
  if (query.before_seq) where("seq < " + next_param(*query.before_seq));
  // One row more than asked tells whether another page exists.
  sql += " ORDER BY seq DESC LIMIT " + next_param(int64_t{query.limit} + 1);

  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(sql));
  for (size_t i = 0; i < args.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    if (const auto* text = std::get_if<std::string>(&args[i])) {
      stmt->Bind(index, AsText(*text));
    } else {
      stmt->Bind(index, std::get<int64_t>(args[i]));
    }
  }
  EventPage page;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    if (page.items.size() == static_cast<size_t>(query.limit)) {
      page.next_cursor = page.items.back().seq;
      break;
    }
    ASSIGN_OR_RETURN(TaskEvent event, ReadEvent(*stmt));
    page.items.push_back(std::move(event));
  }
  return page;
}

Result<std::map<TaskState, int64_t>> SqliteTaskStore::CountByState() {
  static constexpr std::string_view kCountByState =
      "SELECT state, COUNT(*) FROM tasks GROUP BY state";
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kCountByState));
  std::map<TaskState, int64_t> counts;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    std::optional<TaskState> state = ParseTaskState(stmt->ColumnText(0));
    if (state) counts[*state] = stmt->ColumnInt(1);
  }
  return counts;
}

Result<int64_t> SqliteTaskStore::CountActive(const std::string& principal) {
  static constexpr std::string_view kCountActive =
      "SELECT COUNT(*) FROM tasks WHERE principal = ?1 AND state IN (?2, ?3, ?4)";
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kCountActive));
  stmt->Bind(1, AsText(principal))
      .Bind(2, TaskStateName(TaskState::kPending))
      .Bind(3, TaskStateName(TaskState::kProcessing))
      .Bind(4, TaskStateName(TaskState::kPaused));
  ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row ? stmt->ColumnInt(0) : int64_t{0};
}

Status SqliteTaskStore::QuickCheck() {
  std::lock_guard<std::mutex> lock(mu_);
  // At most 10 findings: enough to say what is damaged, short enough for a log line.
  std::string findings;
  Status status;
  Result<Statement> stmt = db_.Prepare("PRAGMA quick_check(10)");
  if (!stmt.ok()) {
    status = stmt.status();
  } else {
    for (;;) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) {
        status = row.status();
        break;
      }
      if (!*row) break;
      const std::string line = stmt->ColumnText(0);
      if (line == "ok") continue;
      findings += (findings.empty() ? "" : "; ") + line;
    }
  }
  // Findings, or corruption the check stumbled on (SQLITE_CORRUPT: kDataLoss), mean damage and
  // stay reported; a check that could not run (e.g. an I/O error) is only returned.
  if (!findings.empty()) status = DataLoss(findings);
  if (status.ok()) return status;
  status = Status(status.code(),
                  "the task store failed its integrity check (PRAGMA quick_check) at start: " +
                      status.message() +
                      "; stop exportd and restore the task store from a backup (docs/backup.md)");
  if (status.code() == StatusCode::kDataLoss) integrity_ = status;
  return status;
}

Status SqliteTaskStore::CheckWritable() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!integrity_.ok()) return integrity_;
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kHeartbeat));
  return stmt->Run().WithContext("heartbeat");
}

Result<Task> SqliteTaskStore::FixWindow(const std::string& id, const LeaseKey& key,
                                        const TaskWindow& window, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.status());
  ASSIGN_OR_RETURN(Task task, LoadLocked(id));
  ASSIGN_OR_RETURN(std::optional<Transitioned> fixed, ApplyWindow(task, key, window, now));
  if (!fixed) return task;
  ASSIGN_OR_RETURN(Task saved, SaveLocked(fixed->task));
  RETURN_IF_ERROR(InsertEventLocked(fixed->event));
  RETURN_IF_ERROR(tx.Commit());
  return saved;
}

Status SqliteTaskStore::MoveWatermarksLocked(const Task& before, const Task& after,
                                             const TransitionArgs& args) {
  const std::optional<std::string> dataset = WatermarksMovedBy(before, after);
  if (!dataset) return Status::Ok();
  WatermarkMap current;
  ASSIGN_OR_RETURN(std::vector<Watermark> stored, SelectWatermarks(statements_, *dataset));
  for (const Watermark& w : stored) current[w.partition] = w.watermark;
  for (const WatermarkChange& change :
       AdvanceWatermarks(before, after, current, args.now, args.origin)) {
    RETURN_IF_ERROR(UpsertWatermark(statements_, change.watermark));
    RETURN_IF_ERROR(InsertEventLocked(change.event));
  }
  return Status::Ok();
}

}  // namespace exportd
