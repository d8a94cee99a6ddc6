#include "storage/postgres/pg_task_store.h"

#include <unordered_set>
#include <utility>

#include "core/export_window.h"
#include "core/notification.h"
#include "core/task_rules.h"
#include "core/time_format.h"
#include "core/watermark.h"
#include "storage/postgres/pg_migrations.h"
#include "storage/sqlite/task_codec.h"

namespace exportd {
namespace {

constexpr std::string_view kInsertTask =
    "INSERT INTO tasks (id, principal, state, dataset, query_hash, idempotency_key,"
    " created_at, updated_at, not_before, body, kind)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
constexpr std::string_view kUpdateTask =
    "UPDATE tasks SET state = $2, dataset = $3, query_hash = $4, updated_at = $5,"
    " not_before = $6, body = $7, lease_owner = $8, lease_expires_at = $9,"
    " idempotency_key = $10, purge_at = $11, revision = revision + 1 WHERE id = $1"
    " RETURNING revision";
constexpr std::string_view kBumpRevision = "UPDATE tasks SET revision = revision + 1 WHERE id = $1";
// Every statement that ReadTask decodes selects the body and the revision, in this order.
constexpr std::string_view kSelectTask = "SELECT body, revision FROM tasks WHERE id = $1";
constexpr std::string_view kSelectTaskForUpdate =
    "SELECT body, revision FROM tasks WHERE id = $1 FOR UPDATE";
constexpr std::string_view kSelectRevision = "SELECT principal, revision FROM tasks WHERE id = $1";
constexpr std::string_view kTaskExists = "SELECT 1 FROM tasks WHERE id = $1";
constexpr std::string_view kSelectByIdempotencyKey =
    "SELECT body, revision FROM tasks WHERE principal = $1 AND idempotency_key = $2";
// The next ready task after seq $2 in FIFO order that no other transaction holds: the claim.
// Served by the partial index tasks_pending_seq.
constexpr std::string_view kSelectNextReady =
    "SELECT body, revision, seq FROM tasks WHERE state = 'Pending'"
    " AND (not_before IS NULL OR not_before <= $1) AND seq > $2"
    " ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED";
// max_running_cluster: whoever holds this lock is the only one moving tasks to Processing (only
// a claim does), so the count it reads next stays true until its commit, which releases the
// lock after making the claim visible. The count is served by the partial index
// tasks_processing_lease.
constexpr std::string_view kLockClaims =
    "SELECT pg_advisory_xact_lock(hashtext('exportd claims ' || current_schema()))";
constexpr std::string_view kCountProcessing =
    "SELECT COUNT(*) FROM tasks WHERE state = 'Processing'";
// On the wake-up channel of migration 002; PgWakeListener hands the task id to its on_cancel.
constexpr std::string_view kNotifyCancel =
    "SELECT pg_notify('exportd_tasks_' || current_schema(), 'cancel ' || $1)";
constexpr std::string_view kSelectEarlierActive =
    "SELECT body, revision FROM tasks WHERE dataset = $1"
    " AND state IN ('Pending', 'Processing', 'Paused') AND seq < $2";
constexpr std::string_view kSelectWakeup =
    "SELECT LEAST("
    " (SELECT MIN(not_before) FROM tasks WHERE state = 'Pending' AND not_before > $1),"
    " (SELECT MIN(lease_expires_at) FROM tasks WHERE state = 'Processing'"
    "  AND lease_expires_at > $1))";
// The tasks an instance recovers at start: its own, and any without a lease.
constexpr std::string_view kSelectRecoverable =
    "SELECT id FROM tasks WHERE state = 'Processing' AND (lease_owner = $1 OR lease_owner IS NULL)"
    " ORDER BY seq FOR UPDATE";
// A task another instance is changing right now is left for the next round: its lease may be
// renewed by the very transaction that holds it.
constexpr std::string_view kSelectExpired =
    "SELECT id FROM tasks WHERE state = 'Processing' AND lease_expires_at <= $1"
    " ORDER BY lease_expires_at FOR UPDATE SKIP LOCKED";
constexpr std::string_view kAnyExpired =
    "SELECT 1 FROM tasks WHERE state = 'Processing' AND lease_expires_at <= $1 LIMIT 1";
constexpr std::string_view kSelectPurgeable =
    "SELECT id FROM tasks WHERE purge_at IS NOT NULL AND purge_at <= $1"
    " ORDER BY purge_at LIMIT $2";
constexpr std::string_view kInsertEvent =
    "INSERT INTO task_events (task_id, at, type, from_state, to_state, detail, actor, remote,"
    " file, bytes, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
constexpr std::string_view kEventColumns =
    "SELECT seq, task_id, at, type, from_state, to_state, detail, actor, remote, file, bytes,"
    " outcome FROM task_events";
constexpr std::string_view kSelectEvents =
    "SELECT seq, task_id, at, type, from_state, to_state, detail, actor, remote, file, bytes,"
    " outcome FROM task_events WHERE task_id = $1 ORDER BY seq";
constexpr std::string_view kInsertNotification =
    "INSERT INTO notifications (task_id, hook, channel, target, status, attempts,"
    " last_attempt_at, last_error, delivered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
constexpr std::string_view kUpdateNotification =
    "UPDATE notifications SET status = $3, attempts = $4, last_attempt_at = $5,"
    " last_error = $6, delivered_at = $7 WHERE task_id = $1 AND hook = $2";
constexpr std::string_view kSelectNotifications =
    "SELECT hook, channel, target, status, attempts, last_attempt_at, last_error, delivered_at"
    " FROM notifications WHERE task_id = $1 ORDER BY hook";
// One row update: under concurrent instances PostgreSQL re-checks the condition on the row it
// waited for, so exactly one claimant sees a row come back.
constexpr std::string_view kClaimNotification =
    "UPDATE notifications SET claimed_by = $3, claim_expires_at = $5"
    " WHERE task_id = $1 AND hook = $2 AND status = 'pending'"
    " AND (claimed_by IS NULL OR claimed_by = $3 OR claim_expires_at <= $4)"
    " RETURNING hook, channel, target, status, attempts, last_attempt_at, last_error,"
    " delivered_at";
constexpr std::string_view kNotificationExists =
    "SELECT 1 FROM notifications WHERE task_id = $1 AND hook = $2";
constexpr std::string_view kSelectPendingNotifications =
    "SELECT DISTINCT task_id FROM notifications WHERE status = 'pending' AND task_id > $1"
    " ORDER BY task_id LIMIT $2";
constexpr std::string_view kHeartbeat =
    "INSERT INTO store_heartbeat (id, at)"
    " VALUES (1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)"
    " ON CONFLICT (id) DO UPDATE SET at = excluded.at";
constexpr std::string_view kInsertScheduleRun =
    "INSERT INTO schedule_runs (schedule_id, slot, task_id) VALUES ($1, $2, $3)"
    " ON CONFLICT (schedule_id, slot) DO NOTHING RETURNING 1";
constexpr std::string_view kUpdateLastRun =
    "UPDATE schedules SET last_slot = $2, last_task_id = $3, last_run_at = $4 WHERE id = $1";
constexpr std::string_view kSelectWatermarks =
    "SELECT dataset, partition, watermark, task_id, updated_at FROM watermarks"
    " WHERE dataset = $1 ORDER BY partition";
constexpr std::string_view kSelectWatermark =
    "SELECT dataset, partition, watermark, task_id, updated_at FROM watermarks"
    " WHERE dataset = $1 AND partition = $2";
constexpr std::string_view kUpsertWatermark =
    "INSERT INTO watermarks (dataset, partition, watermark, task_id, updated_at)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dataset, partition) DO UPDATE SET"
    " watermark = excluded.watermark, task_id = excluded.task_id,"
    " updated_at = excluded.updated_at";
constexpr std::string_view kDeleteWatermark =
    "DELETE FROM watermarks WHERE dataset = $1 AND partition = $2";
// Serialises the changes to one dataset's watermarks (rows that do not exist yet cannot be
// locked): two transactions never both read the old value and each write theirs.
constexpr std::string_view kLockWatermarks =
    "SELECT pg_advisory_xact_lock(hashtext('exportd watermarks ' || $1))";

std::string StateName(TaskState s) { return std::string(TaskStateName(s)); }

std::optional<int64_t> OptMillis(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return ToUnixMillis(*t);
}

std::optional<std::string> OptStateName(const std::optional<TaskState>& s) {
  if (!s) return std::nullopt;
  return StateName(*s);
}

Result<std::optional<TaskState>> OptState(const std::optional<std::string>& name) {
  if (!name) return std::optional<TaskState>();
  std::optional<TaskState> state = ParseTaskState(*name);
  if (!state) return DataLoss("stored event has unknown state '" + *name + "'");
  return std::optional<TaskState>(state);
}

// The audit columns hold NULL, not '', for "none".
std::optional<std::string> NullIfEmpty(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text;
}

Status TaskNotFound(const std::string& id) { return NotFound("task " + id + " not found"); }

// Runs `body` in one transaction of `pool` and returns what it produced.
template <typename T, typename Body>
Result<T> InTransaction(PgPool& pool, Body&& body) {
  std::optional<T> out;
  Status status = pool.Transact([&](PgConnection& c) -> Status {
    Result<T> r = body(c);
    if (!r.ok()) return r.status();
    out = std::move(r).value();
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

// The same outside a transaction (reads).
template <typename T, typename Body>
Result<T> OnConnection(PgPool& pool, Body&& body) {
  std::optional<T> out;
  Status status = pool.Run([&](PgConnection& c) -> Status {
    Result<T> r = body(c);
    if (!r.ok()) return r.status();
    out = std::move(r).value();
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

// Decodes row `row` of a result selecting (body, revision, ...).
Result<Task> ReadTask(const PgResult& r, int row) {
  ASSIGN_OR_RETURN(Task task, DecodeTask(r.Text(row, 0)));
  task.revision = r.Int(row, 1);
  return task;
}

// Decodes row `row` of a result selecting the event columns (kEventColumns order).
Result<TaskEvent> ReadEvent(const PgResult& r, int row) {
  TaskEvent event;
  event.seq = r.Int(row, 0);
  event.task_id = r.OptText(row, 1).value_or("");
  event.at = FromUnixMillis(r.Int(row, 2));
  event.type = r.Text(row, 3);
  ASSIGN_OR_RETURN(event.from, OptState(r.OptText(row, 4)));
  ASSIGN_OR_RETURN(event.to, OptState(r.OptText(row, 5)));
  event.detail = r.Text(row, 6);
  event.actor = r.OptText(row, 7).value_or("");
  event.remote = r.OptText(row, 8).value_or("");
  event.file = r.OptText(row, 9).value_or("");
  event.bytes = r.OptInt(row, 10);
  event.outcome = r.OptText(row, 11).value_or("");
  return event;
}

Watermark ReadWatermark(const PgResult& r, int row) {
  Watermark w;
  w.dataset = r.Text(row, 0);
  w.partition = r.Text(row, 1);
  w.watermark = FromUnixMillis(r.Int(row, 2));
  w.task_id = r.OptText(row, 3);
  w.updated_at = FromUnixMillis(r.Int(row, 4));
  return w;
}

std::vector<std::string> IdsOf(const PgResult& r) {
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) ids.push_back(r.Text(i, 0));
  return ids;
}

// The delivery in row `i` of a result whose columns are those of kSelectNotifications.
Result<HookDelivery> ReadDelivery(const PgResult& r, int i, const std::string& task_id) {
  HookDelivery d;
  d.hook = static_cast<int>(r.Int(i, 0));
  d.channel = r.Text(i, 1);
  d.target = r.Text(i, 2);
  std::optional<DeliveryStatus> status = ParseDeliveryStatus(r.Text(i, 3));
  if (!status) return DataLoss("task " + task_id + ": unknown notification status");
  d.status = *status;
  d.attempts = static_cast<int>(r.Int(i, 4));
  if (auto t = r.OptInt(i, 5)) d.last_attempt_at = FromUnixMillis(*t);
  d.last_error = r.OptText(i, 6);
  if (auto t = r.OptInt(i, 7)) d.delivered_at = FromUnixMillis(*t);
  return d;
}

Status FillNotifications(PgConnection& c, Task& task) {
  task.notifications.clear();
  // Only terminal tasks with hooks have rows: the others cost no query.
  if (!IsTerminal(task.state) || !HasHooks(task.notify)) return Status::Ok();
  ASSIGN_OR_RETURN(PgResult r, c.Exec(kSelectNotifications, PgParams().Text(task.id)));
  for (int i = 0; i < r.rows(); ++i) {
    ASSIGN_OR_RETURN(HookDelivery d, ReadDelivery(r, i, task.id));
    task.notifications.push_back(std::move(d));
  }
  return Status::Ok();
}

// Loads a task with its deliveries; `for_update` also locks its row to the end of the
// transaction.
Result<Task> Load(PgConnection& c, const std::string& id, bool for_update) {
  ASSIGN_OR_RETURN(PgResult r,
                   c.Exec(for_update ? kSelectTaskForUpdate : kSelectTask, PgParams().Text(id)));
  if (r.rows() == 0) return TaskNotFound(id);
  ASSIGN_OR_RETURN(Task task, ReadTask(r, 0));
  RETURN_IF_ERROR(FillNotifications(c, task));
  return task;
}

Result<bool> Exists(PgConnection& c, const std::string& id) {
  ASSIGN_OR_RETURN(PgResult r, c.Exec(kTaskExists, PgParams().Text(id)));
  return r.rows() > 0;
}

// Rewrites the task's row; returns the task as stored.
Result<Task> Save(PgConnection& c, const Task& task) {
  PgParams p;
  p.Text(task.id)
      .Text(TaskStateName(task.state))
      .Text(task.request.dataset)
      .Text(task.query_hash)
      .Int(ToUnixMillis(task.updated_at))
      .OptInt(OptMillis(task.not_before))
      .Text(EncodeTask(task))
      .OptText(task.lease ? std::optional<std::string>(task.lease->owner) : std::nullopt)
      .OptInt(task.lease ? std::optional<int64_t>(ToUnixMillis(task.lease->expires_at))
                         : std::nullopt)
      .OptText(task.idempotency_key)
      .OptInt(OptMillis(FilesDueAt(task)));
  Result<PgResult> r = c.Exec(kUpdateTask, p);
  if (!r.ok()) return r.status().WithContext("save task " + task.id);
  if (r->rows() == 0) return TaskNotFound(task.id);
  Task saved = TruncateTimes(task);
  saved.revision = r->Int(0, 0);
  return saved;
}

Status InsertEvent(PgConnection& c, const TaskEvent& event) {
  PgParams p;
  // NULL for an event of no task (a watermark set by hand).
  p.OptText(NullIfEmpty(event.task_id))
      .Int(ToUnixMillis(event.at))
      .Text(event.type)
      .OptText(OptStateName(event.from))
      .OptText(OptStateName(event.to))
      .Text(event.detail)
      .OptText(NullIfEmpty(event.actor))
      .OptText(NullIfEmpty(event.remote))
      .OptText(NullIfEmpty(event.file))
      .OptInt(event.bytes)
      .OptText(NullIfEmpty(event.outcome));
  return c.Exec(kInsertEvent, p).status().WithContext("event of task " + event.task_id);
}

// Inserts a new delivery row or updates an existing one (kNotFound if there is none).
Status SaveNotification(PgConnection& c, const std::string& task_id, const HookDelivery& d,
                        bool insert) {
  PgParams p;
  p.Text(task_id).Int(d.hook);
  if (insert) p.Text(d.channel).Text(d.target);
  p.Text(DeliveryStatusName(d.status))
      .Int(d.attempts)
      .OptInt(OptMillis(d.last_attempt_at))
      .OptText(d.last_error)
      .OptInt(OptMillis(d.delivered_at));
  Result<PgResult> r = c.Exec(insert ? kInsertNotification : kUpdateNotification, p);
  if (!r.ok()) return r.status().WithContext("notification of task " + task_id);
  if (r->affected() != 1) {
    return NotFound("task " + task_id + " has no hook " + std::to_string(d.hook));
  }
  // Rows are inserted only by Transit, in the transaction whose Save has just moved the
  // revision: the task it returns carries that revision.
  if (insert) return Status::Ok();
  return c.Exec(kBumpRevision, PgParams().Text(task_id))
      .status()
      .WithContext("revision of task " + task_id);
}

// For a task with schedule_id and schedule_slot: records (schedule, slot) -> task and makes it
// the schedule's last run. kAlreadyExists when the pair already has a task.
Status RecordScheduleRun(PgConnection& c, const Task& task) {
  if (!task.schedule_id || !task.schedule_slot) return Status::Ok();
  const int64_t slot = ToUnixMillis(*task.schedule_slot);
  ASSIGN_OR_RETURN(
      PgResult inserted,
      c.Exec(kInsertScheduleRun, PgParams().Text(*task.schedule_id).Int(slot).Text(task.id)));
  if (inserted.rows() == 0) {
    return Status(StatusCode::kAlreadyExists, "schedule " + *task.schedule_id +
                                                  " already fired slot " +
                                                  FormatRfc3339(*task.schedule_slot));
  }
  return c
      .Exec(kUpdateLastRun, PgParams()
                                .Text(*task.schedule_id)
                                .Int(slot)
                                .Text(task.id)
                                .Int(ToUnixMillis(task.created_at)))
      .status()
      .WithContext("record the run of schedule " + *task.schedule_id);
}

// Inserts a new task and its "created" event. REQUIRES: a transaction is open.
Status CreateIn(PgConnection& c, const Task& task, const EventOrigin& origin) {
  ASSIGN_OR_RETURN(Transitioned created, ApplyCreate(task, origin));
  // Checked first so that the caller learns which key collided; the unique constraints stay
  // the backstop against a concurrent insert (then kAlreadyExists from the violation).
  ASSIGN_OR_RETURN(bool exists, Exists(c, task.id));
  if (exists) return Status(StatusCode::kAlreadyExists, "task " + task.id + " already exists");
  if (task.idempotency_key) {
    ASSIGN_OR_RETURN(PgResult taken,
                     c.Exec(kSelectByIdempotencyKey,
                            PgParams().Text(task.principal).Text(*task.idempotency_key)));
    if (taken.rows() > 0) {
      return Status(StatusCode::kAlreadyExists,
                    "idempotency key already used by principal " + task.principal);
    }
  }
  PgParams p;
  p.Text(task.id)
      .Text(task.principal)
      .Text(TaskStateName(task.state))
      .Text(task.request.dataset)
      .Text(task.query_hash)
      .OptText(task.idempotency_key)
      .Int(ToUnixMillis(task.created_at))
      .Int(ToUnixMillis(task.updated_at))
      .OptInt(OptMillis(task.not_before))
      .Text(EncodeTask(task))
      .Text(TaskKindName(task.kind));
  RETURN_IF_ERROR(c.Exec(kInsertTask, p).status().WithContext("create task " + task.id));
  RETURN_IF_ERROR(RecordScheduleRun(c, task));
  return InsertEvent(c, created.event);
}

// Creates many tasks, each with its "created" event, in one statement: the group commit's
// common case in one round trip instead of five per task. A task that collides with a stored one
// (its id, or its principal's idempotency key) or with an earlier task of the same batch is left
// out (ON CONFLICT DO NOTHING, which waits for a concurrent insert of the same key to commit or
// roll back) and the statement returns the ids it inserted. The rows go in in the order given,
// so their seq (the FIFO order) follows the order of the calls.
constexpr std::string_view kInsertTaskBatch =
    "WITH t AS (INSERT INTO tasks (id, principal, state, dataset, query_hash, idempotency_key,"
    " created_at, updated_at, not_before, body, kind)"
    " SELECT id, principal, state, dataset, query_hash, idempotency_key, created_at,"
    " updated_at, not_before, body, kind FROM unnest($1::text[], $2::text[], $3::text[],"
    " $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::text[],"
    " $11::text[]) WITH ORDINALITY AS i(id, principal, state, dataset, query_hash,"
    " idempotency_key, created_at, updated_at, not_before, body, kind, n) ORDER BY n"
    " ON CONFLICT DO NOTHING RETURNING id),"
    " e AS (INSERT INTO task_events (task_id, at, type, from_state, to_state, detail, actor,"
    " remote, file, bytes, outcome)"
    " SELECT task_id, at, type, from_state, to_state, detail, actor, remote, file, bytes,"
    " outcome FROM unnest($12::text[], $13::bigint[], $14::text[], $15::text[], $16::text[],"
    " $17::text[], $18::text[], $19::text[], $20::text[], $21::bigint[], $22::text[])"
    " WITH ORDINALITY AS v(task_id, at, type, from_state, to_state, detail, actor, remote, file,"
    " bytes, outcome, n) WHERE task_id IN (SELECT id FROM t) ORDER BY n)"
    " SELECT id FROM t";

// A PostgreSQL array literal ({"a","b",NULL}) built one element at a time, for a text[] or
// bigint[] parameter.
class ArrayLiteral {
 public:
  void Text(std::string_view value) {
    Next();
    out_ += '"';
    for (char ch : value) {
      if (ch == '"' || ch == '\\') out_ += '\\';
      out_ += ch;
    }
    out_ += '"';
  }
  void OptText(const std::optional<std::string>& value) {
    if (value) {
      Text(*value);
    } else {
      Null();
    }
  }
  void Int(int64_t value) {
    Next();
    out_ += std::to_string(value);
  }
  void OptInt(const std::optional<int64_t>& value) {
    if (value) {
      Int(*value);
    } else {
      Null();
    }
  }
  void Null() {
    Next();
    out_ += "NULL";
  }
  std::string Done() { return std::move(out_) + '}'; }

 private:
  void Next() {
    if (out_.size() > 1) out_ += ',';
  }
  std::string out_ = "{";
};

// The tasks given (with their "created" events) in one kInsertTaskBatch; returns the ids it
// inserted. REQUIRES: a transaction is open; no task has a schedule slot (RecordScheduleRun).
Result<std::vector<std::string>> InsertTaskBatch(
    PgConnection& c, const std::vector<std::pair<const Task*, const TaskEvent*>>& batch) {
  constexpr int kColumns = 22;
  std::vector<ArrayLiteral> cols(kColumns);
  for (const auto& [task, event] : batch) {
    cols[0].Text(task->id);
    cols[1].Text(task->principal);
    cols[2].Text(TaskStateName(task->state));
    cols[3].Text(task->request.dataset);
    cols[4].Text(task->query_hash);
    cols[5].OptText(task->idempotency_key);
    cols[6].Int(ToUnixMillis(task->created_at));
    cols[7].Int(ToUnixMillis(task->updated_at));
    cols[8].OptInt(OptMillis(task->not_before));
    cols[9].Text(EncodeTask(*task));
    cols[10].Text(TaskKindName(task->kind));
    // The columns of InsertEvent, with the same NULLs.
    cols[11].OptText(NullIfEmpty(event->task_id));
    cols[12].Int(ToUnixMillis(event->at));
    cols[13].Text(event->type);
    cols[14].OptText(OptStateName(event->from));
    cols[15].OptText(OptStateName(event->to));
    cols[16].Text(event->detail);
    cols[17].OptText(NullIfEmpty(event->actor));
    cols[18].OptText(NullIfEmpty(event->remote));
    cols[19].OptText(NullIfEmpty(event->file));
    cols[20].OptInt(event->bytes);
    cols[21].OptText(NullIfEmpty(event->outcome));
  }
  PgParams p;
  for (ArrayLiteral& col : cols) p.Text(col.Done());
  ASSIGN_OR_RETURN(PgResult r, c.Exec(kInsertTaskBatch, p));
  return IdsOf(r);
}

Result<std::vector<Watermark>> SelectWatermarks(PgConnection& c, const std::string& dataset) {
  ASSIGN_OR_RETURN(PgResult r, c.Exec(kSelectWatermarks, PgParams().Text(dataset)));
  std::vector<Watermark> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadWatermark(r, i));
  return out;
}

Status UpsertWatermark(PgConnection& c, const Watermark& w) {
  return c
      .Exec(kUpsertWatermark, PgParams()
                                  .Text(w.dataset)
                                  .Text(w.partition)
                                  .Int(ToUnixMillis(w.watermark))
                                  .OptText(w.task_id)
                                  .Int(ToUnixMillis(w.updated_at)))
      .status()
      .WithContext("watermark of " + w.dataset + "/" + w.partition);
}

// Moves the watermarks a transition from `before` to `after` moves, with their events.
Status MoveWatermarks(PgConnection& c, const Task& before, const Task& after,
                      const TransitionArgs& args) {
  const std::optional<std::string> dataset = WatermarksMovedBy(before, after);
  if (!dataset) return Status::Ok();
  RETURN_IF_ERROR(c.Exec(kLockWatermarks, PgParams().Text(*dataset)).status());
  WatermarkMap current;
  ASSIGN_OR_RETURN(std::vector<Watermark> stored, SelectWatermarks(c, *dataset));
  for (const Watermark& w : stored) current[w.partition] = w.watermark;
  for (const WatermarkChange& change :
       AdvanceWatermarks(before, after, current, args.now, args.origin)) {
    RETURN_IF_ERROR(UpsertWatermark(c, change.watermark));
    RETURN_IF_ERROR(InsertEvent(c, change.event));
  }
  return Status::Ok();
}

// ApplyTransition on a task loaded FOR UPDATE in the open transaction; saves it with its event,
// the watermarks it moves and the deliveries it makes owed.
Result<Task> Transit(PgConnection& c, const Task& task, const TransitionArgs& args) {
  ASSIGN_OR_RETURN(Transitioned next, ApplyTransition(task, args));
  ASSIGN_OR_RETURN(Task saved, Save(c, next.task));
  RETURN_IF_ERROR(InsertEvent(c, next.event));
  RETURN_IF_ERROR(MoveWatermarks(c, task, saved, args));
  std::vector<HookDelivery> owed = DeliveriesOwed(task, saved);
  if (owed.empty()) return saved;
  saved.notifications = std::move(owed);
  for (const HookDelivery& d : saved.notifications) {
    RETURN_IF_ERROR(SaveNotification(c, saved.id, d, /*insert=*/true));
  }
  return saved;
}

// Saves a rule's change and its event; without a change returns `task` as loaded.
Result<Task> SaveChange(PgConnection& c, Task task, const std::optional<Transitioned>& change) {
  if (!change) return task;
  ASSIGN_OR_RETURN(Task saved, Save(c, change->task));
  RETURN_IF_ERROR(InsertEvent(c, change->event));
  return saved;
}

}  // namespace

Result<std::unique_ptr<PgTaskStore>> PgTaskStore::Open(std::shared_ptr<PgPool> pool,
                                                       PgTaskStoreOptions options) {
  if (options.max_running && *options.max_running < 1) {
    return InvalidArgument("max_running must be at least 1");
  }
  {
    ASSIGN_OR_RETURN(PgPool::Lease conn, pool->Acquire());
    RETURN_IF_ERROR(ApplyPgMigrations(*conn, PgEmbeddedMigrations()));
  }
  return std::unique_ptr<PgTaskStore>(new PgTaskStore(std::move(pool), options));
}

struct PgTaskStore::PendingCreate {
  const Task& task;
  const EventOrigin& origin;
  Status result;
  std::condition_variable wake;       // done, or handed a group to lead
  std::vector<PendingCreate*> group;  // guarded by group_mu_: set when picked to lead
  bool done = false;                  // guarded by group_mu_
};

Status PgTaskStore::Create(const Task& task, const EventOrigin& origin) {
  PendingCreate me{task, origin, Status::Ok(), {}, {}, false};
  std::unique_lock<std::mutex> lock(group_mu_);
  if (create_leaders_ < max_create_groups_) {
    // A commit slot is free (so nothing waits in the queue): lead a group of this call.
    ++create_leaders_;
    me.group.swap(create_queue_);
    me.group.push_back(&me);
  } else {
    // Each waiter has a condition variable of its own and is woken once: when its group has
    // committed, or when it is handed the queue to lead (64 HTTP threads woken at every
    // commit cost more CPU than the creates themselves).
    create_queue_.push_back(&me);
    me.wake.wait(lock, [&] { return me.done || !me.group.empty(); });
    if (me.done) return me.result;
  }
  std::vector<PendingCreate*> group;
  group.swap(me.group);
  lock.unlock();
  CommitCreates(group);
  lock.lock();
  for (PendingCreate* p : group) {
    p->done = true;
    if (p != &me) p->wake.notify_one();
  }
  // The slot passes to the calls that queued meanwhile, as one group led by the oldest.
  if (create_queue_.empty()) {
    --create_leaders_;
  } else {
    PendingCreate* next = create_queue_.front();
    next->group.swap(create_queue_);
    next->wake.notify_one();
  }
  return me.result;
}

void PgTaskStore::CommitCreates(const std::vector<PendingCreate*>& group) {
  // First the whole group in one statement; the tasks it left out (a key already taken, a
  // schedule's slot to record) one by one after it, each under a savepoint so that one failing
  // leaves nothing behind in the shared transaction.
  bool batch_failed = false;
  Status committed = pool_->Transact([&](PgConnection& c) -> Status {
    // Transact runs this once more on a new connection if the first was lost: start afresh.
    std::vector<PendingCreate*> batched;
    std::vector<PendingCreate*> one_by_one;
    std::vector<Transitioned> created;
    created.reserve(group.size());
    // The statement names its inserted tasks by id, so an id may appear in it once: a second
    // call with the same id goes one by one after it (and is refused there, as it would be in
    // a group of its own).
    std::unordered_set<std::string> batched_ids;
    for (PendingCreate* p : group) {
      p->result = Status::Ok();
      if ((p->task.schedule_id && p->task.schedule_slot) ||
          !batched_ids.insert(p->task.id).second) {
        one_by_one.push_back(p);
        continue;
      }
      Result<Transitioned> made = ApplyCreate(p->task, p->origin);
      if (!made.ok()) {
        p->result = made.status();
        continue;
      }
      created.push_back(std::move(made).value());
      batched.push_back(p);
    }
    if (!batched.empty()) {
      std::vector<std::pair<const Task*, const TaskEvent*>> rows;
      rows.reserve(batched.size());
      for (size_t i = 0; i < batched.size(); ++i) {
        rows.emplace_back(&batched[i]->task, &created[i].event);
      }
      Result<std::vector<std::string>> inserted = InsertTaskBatch(c, rows);
      if (!inserted.ok()) {
        batch_failed = c.ok();  // not a lost connection: retried one by one below
        return inserted.status();
      }
      std::unordered_set<std::string> in(inserted->begin(), inserted->end());
      for (PendingCreate* p : batched) {
        if (in.count(p->task.id) == 0) one_by_one.push_back(p);
      }
    }
    return CreateOneByOne(c, one_by_one);
  });
  if (batch_failed) {
    // The statement failed as a whole (nothing of it stays): let each task meet its own error.
    committed = pool_->Transact([&](PgConnection& c) -> Status {
      std::vector<PendingCreate*> all;
      for (PendingCreate* p : group) {
        p->result = Status::Ok();
        all.push_back(p);
      }
      return CreateOneByOne(c, all);
    });
  }
  if (committed.ok()) return;
  // Nothing of the group was committed: the tasks that had gone in fail with the commit.
  for (PendingCreate* p : group) {
    if (p->result.ok()) p->result = committed;
  }
}

Status PgTaskStore::CreateOneByOne(PgConnection& c, const std::vector<PendingCreate*>& tasks) {
  for (PendingCreate* p : tasks) {
    p->result = c.ExecScript("SAVEPOINT create_task");
    if (!p->result.ok()) return p->result;
    p->result = CreateIn(c, p->task, p->origin);
    if (!p->result.ok()) RETURN_IF_ERROR(c.ExecScript("ROLLBACK TO SAVEPOINT create_task"));
    RETURN_IF_ERROR(c.ExecScript("RELEASE SAVEPOINT create_task"));
  }
  return Status::Ok();
}

Status PgTaskStore::CreateTakingKey(const Task& task, const std::string& previous_id,
                                    const EventOrigin& origin) {
  return pool_->Transact([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(Task previous, Load(c, previous_id, /*for_update=*/true));
    ASSIGN_OR_RETURN(Transitioned released, ApplyKeyRelease(previous, task, origin));
    RETURN_IF_ERROR(Save(c, released.task).status());
    RETURN_IF_ERROR(InsertEvent(c, released.event));
    return CreateIn(c, task, origin);
  });
}

Result<Task> PgTaskStore::Get(const std::string& id) {
  return OnConnection<Task>(*pool_, [&](PgConnection& c) { return Load(c, id, false); });
}

Result<TaskRevision> PgTaskStore::Revision(const std::string& id) {
  return OnConnection<TaskRevision>(*pool_, [&](PgConnection& c) -> Result<TaskRevision> {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kSelectRevision, PgParams().Text(id)));
    if (r.rows() == 0) return TaskNotFound(id);
    return TaskRevision{r.Text(0, 0), r.Int(0, 1)};
  });
}

Result<std::optional<Task>> PgTaskStore::FindByIdempotencyKey(const std::string& principal,
                                                              const std::string& key) {
  return OnConnection<std::optional<Task>>(
      *pool_, [&](PgConnection& c) -> Result<std::optional<Task>> {
        ASSIGN_OR_RETURN(PgResult r,
                         c.Exec(kSelectByIdempotencyKey, PgParams().Text(principal).Text(key)));
        if (r.rows() == 0) return std::optional<Task>();
        ASSIGN_OR_RETURN(Task task, ReadTask(r, 0));
        RETURN_IF_ERROR(FillNotifications(c, task));
        return std::optional<Task>(std::move(task));
      });
}

Result<TaskPage> PgTaskStore::List(const TaskListQuery& query) {
  if (query.limit < 1) return InvalidArgument("limit must be at least 1", "/limit");
  // One statement per combination of filters (at most 64), each prepared once per connection.
  std::string sql = "SELECT body, revision FROM tasks";
  PgParams params;
  int n = 0;
  auto add = [&](const char* condition, const std::string& value) {
    sql += n == 0 ? " WHERE " : " AND ";
    sql.append(condition).append("$").append(std::to_string(++n));
    params.Text(value);
  };
  if (query.principal) add("principal = ", *query.principal);
  if (query.state) add("state = ", StateName(*query.state));
  if (query.dataset) add("dataset = ", *query.dataset);
  if (query.kind) add("kind = ", std::string(TaskKindName(*query.kind)));
  if (query.query_hash) add("query_hash = ", *query.query_hash);
  if (query.before_id) add("id < ", *query.before_id);
  // One row more than asked tells whether another page exists.
  sql += " ORDER BY id DESC LIMIT $" + std::to_string(++n);
  params.Int(int64_t{query.limit} + 1);
  return OnConnection<TaskPage>(*pool_, [&](PgConnection& c) -> Result<TaskPage> {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, params));
    TaskPage page;
    for (int i = 0; i < r.rows(); ++i) {
      if (page.items.size() == static_cast<size_t>(query.limit)) {
        page.next_cursor = page.items.back().id;
        break;
      }
      ASSIGN_OR_RETURN(Task task, ReadTask(r, i));
      RETURN_IF_ERROR(FillNotifications(c, task));
      page.items.push_back(std::move(task));
    }
    return page;
  });
}

Result<Task> PgTaskStore::Transition(const std::string& id, const TransitionArgs& args) {
  return InTransaction<Task>(*pool_, [&](PgConnection& c) -> Result<Task> {
    ASSIGN_OR_RETURN(Task task, Load(c, id, /*for_update=*/true));
    return Transit(c, task, args);
  });
}

Result<Task> PgTaskStore::RequestCancel(const std::string& id, TimePoint now,
                                        const EventOrigin& origin) {
  return InTransaction<Task>(*pool_, [&](PgConnection& c) -> Result<Task> {
    ASSIGN_OR_RETURN(Task task, Load(c, id, /*for_update=*/true));
    ASSIGN_OR_RETURN(std::optional<Transitioned> next, ApplyCancelRequest(task, now, origin));
    ASSIGN_OR_RETURN(Task saved, SaveChange(c, std::move(task), next));
    // Sent at COMMIT: the instance running the task stops it at once instead of at its next
    // heartbeat (which would learn of the request too, should this notification be lost).
    if (next && saved.state == TaskState::kProcessing && saved.cancel_requested) {
      RETURN_IF_ERROR(c.Exec(kNotifyCancel, PgParams().Text(id)).status());
    }
    return saved;
  });
}

Result<Task> PgTaskStore::RequestPause(const std::string& id, TimePoint now,
                                       const EventOrigin& origin) {
  return ApplyRequest(id, now, origin, &ApplyPauseRequest);
}

Result<Task> PgTaskStore::ApplyRequest(const std::string& id, TimePoint now,
                                       const EventOrigin& origin, RequestRule rule) {
  return InTransaction<Task>(*pool_, [&](PgConnection& c) -> Result<Task> {
    ASSIGN_OR_RETURN(Task task, Load(c, id, /*for_update=*/true));
    ASSIGN_OR_RETURN(std::optional<Transitioned> next, rule(task, now, origin));
    return SaveChange(c, std::move(task), next);
  });
}

Result<Task> PgTaskStore::ReplaceFiles(const std::string& id, std::vector<FileInfo> files,
                                       const std::string& event_type, TimePoint now,
                                       const EventOrigin& origin) {
  return InTransaction<Task>(*pool_, [&](PgConnection& c) -> Result<Task> {
    ASSIGN_OR_RETURN(Task task, Load(c, id, /*for_update=*/true));
    // Decided under the row lock: a DELETE and the retention janitor that both remove a task's
    // files record one event between them, whichever commits first.
    ASSIGN_OR_RETURN(std::optional<Transitioned> next,
                     ApplyFileReplacement(task, files, event_type, now, origin));
    return SaveChange(c, std::move(task), next);
  });
}

Result<std::map<TaskState, int64_t>> PgTaskStore::CountByState() {
  using Counts = std::map<TaskState, int64_t>;
  return OnConnection<Counts>(*pool_, [&](PgConnection& c) -> Result<Counts> {
    ASSIGN_OR_RETURN(PgResult r, c.Exec("SELECT state, COUNT(*) FROM tasks GROUP BY state"));
    Counts counts;
    for (int i = 0; i < r.rows(); ++i) {
      if (std::optional<TaskState> s = ParseTaskState(r.Text(i, 0))) counts[*s] = r.Int(i, 1);
    }
    return counts;
  });
}

Result<int64_t> PgTaskStore::CountActive(const std::string& principal) {
  return OnConnection<int64_t>(*pool_, [&](PgConnection& c) -> Result<int64_t> {
    ASSIGN_OR_RETURN(PgResult r, c.Exec("SELECT COUNT(*) FROM tasks WHERE principal = $1"
                                        " AND state IN ('Pending', 'Processing', 'Paused')",
                                        PgParams().Text(principal)));
    return r.Int(0, 0);
  });
}

Result<std::optional<Task>> PgTaskStore::ClaimNext(TimePoint now, const std::string& owner,
                                                   Millis lease) {
  return InTransaction<std::optional<Task>>(
      *pool_, [&](PgConnection& c) -> Result<std::optional<Task>> {
        if (options_.max_running) {
          RETURN_IF_ERROR(c.Exec(kLockClaims).status().WithContext("claim lock"));
          ASSIGN_OR_RETURN(PgResult running, c.Exec(kCountProcessing));
          if (running.Int(0, 0) >= *options_.max_running) return std::optional<Task>();
        }
        // Ready tasks in FIFO order, skipping those another claimer holds; almost always the
        // first one is taken. An incremental export that must wait for an earlier one of an
        // overlapping scope is passed over, in its place. Its earlier ones are visible whatever
        // other transactions do: a task leaves Pending, Processing and Paused only by a commit.
        int64_t after = 0;
        for (;;) {
          ASSIGN_OR_RETURN(PgResult r,
                           c.Exec(kSelectNextReady, PgParams().Int(ToUnixMillis(now)).Int(after)));
          if (r.rows() == 0) return std::optional<Task>();
          ASSIGN_OR_RETURN(Task candidate, ReadTask(r, 0));
          after = r.Int(0, 2);
          if (candidate.request.incremental) {
            ASSIGN_OR_RETURN(PgResult earlier_rows,
                             c.Exec(kSelectEarlierActive,
                                    PgParams().Text(candidate.request.dataset).Int(after)));
            std::vector<Task> earlier;
            for (int i = 0; i < earlier_rows.rows(); ++i) {
              ASSIGN_OR_RETURN(Task t, ReadTask(earlier_rows, i));
              earlier.push_back(std::move(t));
            }
            if (MustWaitForEarlierExport(candidate, earlier)) continue;
          }
          RETURN_IF_ERROR(FillNotifications(c, candidate));
          ASSIGN_OR_RETURN(Task claimed, Transit(c, candidate, ClaimArgs(now, owner, lease)));
          return std::optional<Task>(std::move(claimed));
        }
      });
}

Result<std::optional<TimePoint>> PgTaskStore::NextWakeup(TimePoint now) {
  return OnConnection<std::optional<TimePoint>>(
      *pool_, [&](PgConnection& c) -> Result<std::optional<TimePoint>> {
        ASSIGN_OR_RETURN(PgResult r, c.Exec(kSelectWakeup, PgParams().Int(ToUnixMillis(now))));
        if (r.rows() == 0 || r.IsNull(0, 0)) return std::optional<TimePoint>();
        return std::optional<TimePoint>(FromUnixMillis(r.Int(0, 0)));
      });
}

Result<Task> PgTaskStore::Heartbeat(const std::string& id, const LeaseKey& key,
                                    const std::optional<Progress>& progress, TimePoint now,
                                    Millis lease) {
  return InTransaction<Task>(*pool_, [&](PgConnection& c) -> Result<Task> {
    ASSIGN_OR_RETURN(Task task, Load(c, id, /*for_update=*/true));
    ASSIGN_OR_RETURN(Task renewed, ApplyHeartbeat(task, key, progress, now, lease));
    return Save(c, renewed);
  });
}

Result<Task> PgTaskStore::CommitFile(const std::string& id, const LeaseKey& key,
                                     const FileInfo& file, const Checkpoint& next, TimePoint now) {
  return InTransaction<Task>(*pool_, [&](PgConnection& c) -> Result<Task> {
    ASSIGN_OR_RETURN(Task task, Load(c, id, /*for_update=*/true));
    ASSIGN_OR_RETURN(Transitioned next_task, ApplyCheckpoint(task, key, file, next, now));
    ASSIGN_OR_RETURN(Task saved, Save(c, next_task.task));
    RETURN_IF_ERROR(InsertEvent(c, next_task.event));
    return saved;
  });
}

Result<std::vector<std::string>> PgTaskStore::ExpireLeases(TimePoint now) {
  using Ids = std::vector<std::string>;
  // Every worker asks before each claim: the common answer (nothing expired) costs one read
  // outside a transaction. The rows are selected again, locked, inside it.
  ASSIGN_OR_RETURN(bool any, OnConnection<bool>(*pool_, [&](PgConnection& c) -> Result<bool> {
                     ASSIGN_OR_RETURN(PgResult r,
                                      c.Exec(kAnyExpired, PgParams().Int(ToUnixMillis(now))));
                     return r.rows() > 0;
                   }));
  if (!any) return Ids();
  return InTransaction<Ids>(*pool_, [&](PgConnection& c) -> Result<Ids> {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kSelectExpired, PgParams().Int(ToUnixMillis(now))));
    Ids ids = IdsOf(r);
    for (const std::string& id : ids) {
      ASSIGN_OR_RETURN(Task task, Load(c, id, /*for_update=*/true));
      RETURN_IF_ERROR(Transit(c, task, LeaseExpiryArgs(task, now)).status());
    }
    return ids;
  });
}

Result<std::vector<std::string>> PgTaskStore::RecoverProcessing(TimePoint now,
                                                                const std::string& owner) {
  using Ids = std::vector<std::string>;
  return InTransaction<Ids>(*pool_, [&](PgConnection& c) -> Result<Ids> {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kSelectRecoverable, PgParams().Text(owner)));
    Ids ids = IdsOf(r);
    const TransitionArgs args = RecoverArgs(now, owner);
    for (const std::string& id : ids) {
      ASSIGN_OR_RETURN(Task task, Load(c, id, /*for_update=*/true));
      RETURN_IF_ERROR(Transit(c, task, args).status());
    }
    return ids;
  });
}

Result<Task> PgTaskStore::FixWindow(const std::string& id, const LeaseKey& key,
                                    const TaskWindow& window, TimePoint now) {
  return InTransaction<Task>(*pool_, [&](PgConnection& c) -> Result<Task> {
    ASSIGN_OR_RETURN(Task task, Load(c, id, /*for_update=*/true));
    ASSIGN_OR_RETURN(std::optional<Transitioned> fixed, ApplyWindow(task, key, window, now));
    return SaveChange(c, std::move(task), fixed);
  });
}

Status PgTaskStore::UpdateProgress(const std::string& id, const Progress& progress, TimePoint now) {
  return pool_->Transact([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(Task task, Load(c, id, /*for_update=*/true));
    std::optional<Task> next = ApplyProgress(task, progress, now);
    if (!next) return Status::Ok();
    return Save(c, *next).status();
  });
}

Result<std::vector<std::string>> PgTaskStore::ListExpiredFiles(TimePoint now, int limit) {
  if (limit < 1) return InvalidArgument("limit must be at least 1");
  using Ids = std::vector<std::string>;
  return OnConnection<Ids>(*pool_, [&](PgConnection& c) -> Result<Ids> {
    ASSIGN_OR_RETURN(PgResult r,
                     c.Exec(kSelectPurgeable, PgParams().Int(ToUnixMillis(now)).Int(limit)));
    return IdsOf(r);
  });
}

Status PgTaskStore::FilesRemoved(const std::string& id) {
  return pool_->Transact([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(Task task, Load(c, id, /*for_update=*/true));
    std::optional<Task> next = ApplyFilesRemoved(task);
    if (!next) return Status::Ok();
    return Save(c, *next).status();
  });
}

Status PgTaskStore::RecordNotificationAttempt(const std::string& task_id,
                                              const HookDelivery& delivery,
                                              const TaskEvent& event) {
  return pool_->Transact([&](PgConnection& c) -> Status {
    RETURN_IF_ERROR(SaveNotification(c, task_id, delivery, /*insert=*/false));
    TaskEvent stored = event;
    stored.task_id = task_id;
    return InsertEvent(c, stored);
  });
}

Result<std::optional<HookDelivery>> PgTaskStore::ClaimNotification(const std::string& task_id,
                                                                   int hook,
                                                                   const std::string& owner,
                                                                   TimePoint now, TimePoint until) {
  using Claim = std::optional<HookDelivery>;
  return OnConnection<Claim>(*pool_, [&](PgConnection& c) -> Result<Claim> {
    PgParams p;
    p.Text(task_id).Int(hook).Text(owner).Int(ToUnixMillis(now)).Int(ToUnixMillis(until));
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kClaimNotification, p));
    if (r.rows() == 1) {
      ASSIGN_OR_RETURN(HookDelivery claimed, ReadDelivery(r, 0, task_id));
      return Claim(std::move(claimed));
    }
    ASSIGN_OR_RETURN(PgResult exists,
                     c.Exec(kNotificationExists, PgParams().Text(task_id).Int(hook)));
    if (exists.rows() == 0) {
      return NotFound("task " + task_id + " has no hook " + std::to_string(hook));
    }
    return Claim();
  });
}

Result<std::vector<Task>> PgTaskStore::PendingNotifications(int limit,
                                                            const std::string& after_id) {
  if (limit < 1) return InvalidArgument("limit must be at least 1");
  using Tasks = std::vector<Task>;
  return OnConnection<Tasks>(*pool_, [&](PgConnection& c) -> Result<Tasks> {
    ASSIGN_OR_RETURN(PgResult r,
                     c.Exec(kSelectPendingNotifications, PgParams().Text(after_id).Int(limit)));
    Tasks tasks;
    for (const std::string& id : IdsOf(r)) {
      ASSIGN_OR_RETURN(Task task, Load(c, id, /*for_update=*/false));
      tasks.push_back(std::move(task));
    }
    return tasks;
  });
}

Status PgTaskStore::AppendEvent(const TaskEvent& event) {
  return pool_->Run([&](PgConnection& c) -> Status {
    // Checked first for a clear kNotFound; the foreign key stays the backstop.
    ASSIGN_OR_RETURN(bool exists, Exists(c, event.task_id));
    if (!exists) return TaskNotFound(event.task_id);
    return InsertEvent(c, event);
  });
}

Result<std::vector<TaskEvent>> PgTaskStore::Events(const std::string& id) {
  using Events = std::vector<TaskEvent>;
  return OnConnection<Events>(*pool_, [&](PgConnection& c) -> Result<Events> {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kSelectEvents, PgParams().Text(id)));
    Events events;
    for (int i = 0; i < r.rows(); ++i) {
      ASSIGN_OR_RETURN(TaskEvent e, ReadEvent(r, i));
      events.push_back(std::move(e));
    }
    // Every task has its "created" event, so no rows means no task (tasks are never deleted).
    if (events.empty()) {
      ASSIGN_OR_RETURN(bool exists, Exists(c, id));
      if (!exists) return TaskNotFound(id);
    }
    return events;
  });
}

Result<EventPage> PgTaskStore::ListEvents(const EventQuery& query) {
  if (query.limit < 1) return InvalidArgument("limit must be at least 1", "/limit");
  std::string sql(kEventColumns);
  PgParams params;
  int n = 0;
  bool first = true;
  auto param = [&]() { return std::string("$").append(std::to_string(++n)); };
  auto where = [&](const std::string& condition) {
    sql += first ? " WHERE " : " AND ";
    sql += condition;
    first = false;
  };
  auto text = [&](const char* column, const std::string& value) {
    params.Text(value);
    where(std::string(column) + " = " + param());
  };
  if (query.actor) text("actor", *query.actor);
  if (query.task_id) text("task_id", *query.task_id);
  if (!query.types.empty()) {
    std::string in;
    for (const std::string& type : query.types) {
      params.Text(type);
      in += (in.empty() ? "" : ", ") + param();
    }
    where("type IN (" + in + ")");
  }
  if (query.since) {
    params.Int(ToUnixMillis(*query.since));
    where("at >= " + param());
  }
  if (query.until) {
    params.Int(ToUnixMillis(*query.until));
    where("at < " + param());
  }
  if (query.remote) text("remote", *query.remote);
  if (query.file) text("file", *query.file);
  if (query.outcome) text("outcome", *query.outcome);
  if (query.before_seq) {
    params.Int(*query.before_seq);
    where("seq < " + param());
  }
  params.Int(int64_t{query.limit} + 1);
  sql += " ORDER BY seq DESC LIMIT " + param();
  return OnConnection<EventPage>(*pool_, [&](PgConnection& c) -> Result<EventPage> {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, params));
    EventPage page;
    for (int i = 0; i < r.rows(); ++i) {
      if (page.items.size() == static_cast<size_t>(query.limit)) {
        page.next_cursor = page.items.back().seq;
        break;
      }
      ASSIGN_OR_RETURN(TaskEvent e, ReadEvent(r, i));
      page.items.push_back(std::move(e));
    }
    return page;
  });
}

Status PgTaskStore::CheckWritable() {
  return pool_->Run(
      [&](PgConnection& c) { return c.Exec(kHeartbeat).status().WithContext("heartbeat"); });
}

Result<std::vector<Watermark>> PgTaskStore::ListWatermarks(const std::string& dataset) {
  using Marks = std::vector<Watermark>;
  return OnConnection<Marks>(*pool_, [&](PgConnection& c) { return SelectWatermarks(c, dataset); });
}

Result<Watermark> PgTaskStore::PutWatermark(const std::string& dataset,
                                            const std::string& partition, TimePoint watermark,
                                            TimePoint now, const EventOrigin& origin) {
  return InTransaction<Watermark>(*pool_, [&](PgConnection& c) -> Result<Watermark> {
    RETURN_IF_ERROR(c.Exec(kLockWatermarks, PgParams().Text(dataset)).status());
    ASSIGN_OR_RETURN(PgResult prev,
                     c.Exec(kSelectWatermark, PgParams().Text(dataset).Text(partition)));
    std::optional<TimePoint> previous;
    if (prev.rows() > 0) previous = ReadWatermark(prev, 0).watermark;
    const Watermark next{.dataset = dataset,
                         .partition = partition,
                         .watermark = FromUnixMillis(ToUnixMillis(watermark)),
                         .task_id = std::nullopt,
                         .updated_at = FromUnixMillis(ToUnixMillis(now))};
    RETURN_IF_ERROR(UpsertWatermark(c, next));
    RETURN_IF_ERROR(InsertEvent(
        c, ManualWatermarkEvent(dataset, partition, previous, next.watermark, now, origin)));
    return next;
  });
}

Status PgTaskStore::DeleteWatermark(const std::string& dataset, const std::string& partition,
                                    TimePoint now, const EventOrigin& origin) {
  return pool_->Transact([&](PgConnection& c) -> Status {
    RETURN_IF_ERROR(c.Exec(kLockWatermarks, PgParams().Text(dataset)).status());
    ASSIGN_OR_RETURN(PgResult prev,
                     c.Exec(kSelectWatermark, PgParams().Text(dataset).Text(partition)));
    if (prev.rows() == 0) {
      return NotFound("dataset '" + dataset + "' has no watermark for partition '" + partition +
                      "'");
    }
    const TimePoint previous = ReadWatermark(prev, 0).watermark;
    RETURN_IF_ERROR(c.Exec(kDeleteWatermark, PgParams().Text(dataset).Text(partition)).status());
    return InsertEvent(
        c, ManualWatermarkEvent(dataset, partition, previous, std::nullopt, now, origin));
  });
}

Status PgTaskStore::Announce(const InstanceInfo& self) {
  static constexpr std::string_view kUpsert =
      "INSERT INTO instances (id, host, started_at, heartbeat_at) VALUES ($1, $2, $3, $4)"
      " ON CONFLICT (id) DO UPDATE SET host = excluded.host, started_at = excluded.started_at,"
      " heartbeat_at = excluded.heartbeat_at";
  static constexpr std::string_view kForget = "DELETE FROM instances WHERE heartbeat_at < $1";
  constexpr int64_t kWeekMillis = int64_t{7} * 24 * 3600 * 1000;
  return pool_->Transact([&](PgConnection& c) -> Status {
    RETURN_IF_ERROR(
        c.Exec(kForget, PgParams().Int(ToUnixMillis(self.heartbeat_at) - kWeekMillis)).status());
    return c
        .Exec(kUpsert, PgParams()
                           .Text(self.id)
                           .Text(self.host)
                           .Int(ToUnixMillis(self.started_at))
                           .Int(ToUnixMillis(self.heartbeat_at)))
        .status();
  });
}

Status PgTaskStore::Beat(const std::string& id, TimePoint now) {
  static constexpr std::string_view kBeat = "UPDATE instances SET heartbeat_at = $2 WHERE id = $1";
  return pool_->Run([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kBeat, PgParams().Text(id).Int(ToUnixMillis(now))));
    if (r.affected() == 0) return NotFound("instance " + id + " not announced");
    return Status::Ok();
  });
}

Result<std::vector<InstanceInfo>> PgTaskStore::ListInstances(TimePoint since) {
  // Task ids are ULIDs: a comma cannot occur in one.
  static constexpr std::string_view kList =
      "SELECT i.id, i.host, i.started_at, i.heartbeat_at,"
      " COALESCE((SELECT string_agg(t.id, ',' ORDER BY t.id) FROM tasks t"
      "  WHERE t.state = 'Processing' AND t.lease_owner = i.id), '')"
      " FROM instances i WHERE i.heartbeat_at >= $1 ORDER BY i.id";
  using Infos = std::vector<InstanceInfo>;
  return OnConnection<Infos>(*pool_, [&](PgConnection& c) -> Result<Infos> {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kList, PgParams().Int(ToUnixMillis(since))));
    Infos out;
    for (int i = 0; i < r.rows(); ++i) {
      InstanceInfo info;
      info.id = r.Text(i, 0);
      info.host = r.Text(i, 1);
      info.started_at = FromUnixMillis(r.Int(i, 2));
      info.heartbeat_at = FromUnixMillis(r.Int(i, 3));
      const std::string running = r.Text(i, 4);
      for (size_t at = 0; at < running.size();) {
        size_t comma = running.find(',', at);
        if (comma == std::string::npos) comma = running.size();
        info.running.push_back(running.substr(at, comma - at));
        at = comma + 1;
      }
      out.push_back(std::move(info));
    }
    return out;
  });
}

// StoreStats: what /metrics reads at scrape time, one indexed query each.
namespace {

// The partial indexes of Pending tasks serve both: tasks_pending_not_before the count,
// tasks_pending_seq the oldest (creation order).
constexpr const char* kSummarizePending =
    "SELECT"
    " (SELECT COUNT(*) FROM tasks WHERE state = 'Pending'"
    "    AND (not_before IS NULL OR not_before <= $1)),"
    " (SELECT created_at FROM tasks WHERE state = 'Pending' ORDER BY seq LIMIT 1)";
// The primary key (dataset, partition) serves the grouping.
constexpr const char* kOldestWatermarks =
    "SELECT dataset, MIN(watermark) FROM watermarks GROUP BY dataset";

}  // namespace

Result<PendingSummary> PgTaskStore::SummarizePending(TimePoint now) {
  return OnConnection<PendingSummary>(*pool_, [&](PgConnection& c) -> Result<PendingSummary> {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kSummarizePending, PgParams().Int(ToUnixMillis(now))));
    PendingSummary summary;
    if (r.rows() == 0) return summary;
    summary.ready = r.Int(0, 0);
    if (!r.IsNull(0, 1)) summary.oldest_created_at = FromUnixMillis(r.Int(0, 1));
    return summary;
  });
}

Result<std::map<std::string, TimePoint>> PgTaskStore::OldestWatermarks() {
  using Oldest = std::map<std::string, TimePoint>;
  return OnConnection<Oldest>(*pool_, [&](PgConnection& c) -> Result<Oldest> {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kOldestWatermarks));
    Oldest oldest;
    for (int i = 0; i < r.rows(); ++i) oldest.emplace(r.Text(i, 0), FromUnixMillis(r.Int(i, 1)));
    return oldest;
  });
}

}  // namespace exportd
