// TaskStore: durable home of tasks and their events. Implemented in storage/ (SQLite now,
// PostgreSQL later, possibly shared by several instances).
#ifndef EXPORTD_CORE_TASK_STORE_H_
#define EXPORTD_CORE_TASK_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/task.h"

namespace exportd {

struct TaskListQuery {
  std::optional<std::string> principal;  // nullopt: every principal (admin)
  std::optional<TaskState> state;
  std::optional<std::string> dataset;
  std::optional<std::string> query_hash;
  int limit = 50;
  std::optional<std::string> before_id;  // keyset cursor: tasks with id < before_id
};

struct TaskPage {
  std::vector<Task> items;                 // newest first (descending id)
  std::optional<std::string> next_cursor;  // the last item's id when more may follow
};

// The audit trail across tasks (GET /v1/audit): every filter that is set must match.
struct EventQuery {
  std::optional<std::string> actor;
  std::optional<std::string> task_id;
  std::vector<std::string> types;  // any of these; empty: every type
  std::optional<TimePoint> since;  // at >= since
  std::optional<TimePoint> until;  // at < until
  std::optional<std::string> remote;
  std::optional<std::string> file;
  std::optional<std::string> outcome;
  int limit = 100;
  std::optional<int64_t> before_seq;  // keyset cursor: events with seq < before_seq
};

// What TaskStore::Revision reads: enough to check who may see a task and whether a rendering
// of it is current, without reading the task.
struct TaskRevision {
  std::string principal;
  int64_t revision = 0;
};

struct EventPage {
  std::vector<TaskEvent> items;        // newest first (descending seq)
  std::optional<int64_t> next_cursor;  // the last item's seq when more may follow
};

// Thread-safe. Every method is atomic; a returned OK means the change is durable.
class TaskStore {
 public:
  virtual ~TaskStore() = default;

  // Stores a new Pending task and its "created" event (recorded as caused by `origin`).
  // kAlreadyExists if the id is taken, or if task.idempotency_key is set and (principal, key)
  // already has a task: then the existing task is not changed; callers look it up with
  // FindByIdempotencyKey.
  virtual Status Create(const Task& task, const EventOrigin& origin) = 0;
  virtual Result<Task> Get(const std::string& id) = 0;  // kNotFound
  // The owner and Task::revision of the task as stored now; kNotFound. Two reads that return
  // the same revision saw the same task (record and notifications).
  virtual Result<TaskRevision> Revision(const std::string& id) = 0;
  virtual Result<std::optional<Task>> FindByIdempotencyKey(const std::string& principal,
                                                           const std::string& key) = 0;
  virtual Result<TaskPage> List(const TaskListQuery& query) = 0;

  // Like Create, for a task whose idempotency key is still held by task `previous_id` although
  // its window has passed: in one transaction, takes the key from `previous_id` (which keeps
  // everything else) and creates `task` with it. kAlreadyExists if the key is held by any other
  // task by then (a concurrent request took it first): callers look that one up instead.
  // REQUIRES: task.idempotency_key is set.
  virtual Status CreateTakingKey(const Task& task, const std::string& previous_id,
                                 const EventOrigin& origin) = 0;

  // Loads the task, runs ApplyTransition, saves the task and the event in one transaction.
  // kNotFound; kFailedPrecondition if the transition is illegal from the stored state; kAborted
  // if args.expect_lease does not match.
  virtual Result<Task> Transition(const std::string& id, const TransitionArgs& args) = 0;

  // Leases. Several instances may share one store: each claim leases the task to its `owner`
  // until now + `lease`; the owner renews it with Heartbeat while it runs. A task whose lease
  // has expired is put back in the queue by ExpireLeases (whichever instance calls it), and
  // keeps its place in FIFO order. The events of ClaimNext, CommitFile and RecoverProcessing
  // name `owner` (the instance) as their actor; those of ExpireLeases name "exportd".

  // The oldest Pending task (creation order) whose not_before has passed, moved to Processing
  // (trigger kStart) and leased to `owner`; nullopt if none is ready.
  virtual Result<std::optional<Task>> ClaimNext(TimePoint now, const std::string& owner,
                                                Millis lease) = 0;
  // The earliest time something may become claimable: the earliest not_before among Pending
  // tasks not ready at `now`, or the earliest lease expiry among Processing tasks after `now`.
  virtual Result<std::optional<TimePoint>> NextWakeup(TimePoint now) = 0;
  // Extends the lease of `id` to now + `lease` and, if `progress` is given, saves those counters
  // (no event). Returns the task as stored (callers look at cancel_requested). kAborted if the
  // task is not Processing under `key` any more: the caller must stop writing at once and must
  // not change the task.
  virtual Result<Task> Heartbeat(const std::string& id, const LeaseKey& key,
                                 const std::optional<Progress>& progress, TimePoint now,
                                 Millis lease) = 0;
  // Records a committed data file of a running task and where the next file starts
  // (ApplyCheckpoint): file, checkpoint, progress and a "checkpoint" event in one transaction.
  // kAborted if the lease is lost; kFailedPrecondition if `next` does not follow.
  virtual Result<Task> CommitFile(const std::string& id, const LeaseKey& key, const FileInfo& file,
                                  const Checkpoint& next, TimePoint now) = 0;
  // Moves every Processing task whose lease expires at or before `now` back to Pending (trigger
  // kLeaseExpired, event "lease_expired"), keeping files and checkpoint. Returns their ids.
  virtual Result<std::vector<std::string>> ExpireLeases(TimePoint now) = 0;
  // At the start of instance `owner`: moves the Processing tasks it held (and any without a
  // lease, left by a version without leases) back to Pending at once (trigger kRecover): the
  // instance restarted, so those runs are dead whatever their leases say. Tasks leased to other
  // instances are left to expire. Returns their ids.
  virtual Result<std::vector<std::string>> RecoverProcessing(TimePoint now,
                                                             const std::string& owner) = 0;

  // Persists counters of a Processing task (no event). A task in another state is left alone.
  virtual Status UpdateProgress(const std::string& id, const Progress& progress, TimePoint now) = 0;
  // Sets cancel_requested on a Processing task and records a "cancel_requested" event caused
  // by `origin`. kFailedPrecondition if the task is not Processing.
  virtual Result<Task> RequestCancel(const std::string& id, TimePoint now,
                                     const EventOrigin& origin) = 0;
  // Replaces the task's file list (e.g. with none after deletion) and records an event of
  // `event_type` caused by `origin`. kFailedPrecondition unless the task is terminal. Replacing
  // no files and no manifest with none changes nothing and records nothing.
  virtual Result<Task> ReplaceFiles(const std::string& id, std::vector<FileInfo> files,
                                    const std::string& event_type, TimePoint now,
                                    const EventOrigin& origin) = 0;
  // Retention: the ids of terminal tasks whose files_expire_at is at or before `now` and that
  // still list files or a manifest, and of failed or cancelled tasks whose files_to_remove is set
  // (due from their finished_at), earliest first, at most `limit` (>= 1).
  virtual Result<std::vector<std::string>> ListExpiredFiles(TimePoint now, int limit) = 0;
  // Records that the objects of a failed or cancelled task are gone (ObjectStore::DeleteAll
  // succeeded): clears files_to_remove. No event; a no-op when it is not set. kNotFound if unknown.
  virtual Status FilesRemoved(const std::string& id) = 0;

  // Notifications. A Transition into a terminal state records the task's hooks (HooksOf) as
  // pending deliveries in the same transaction; reads return them in Task::notifications.
  // Saves the state of one delivery after an attempt (`delivery` as ApplyAttempt returned it)
  // and its "notification" event in one transaction. kNotFound if the task has no such hook.
  virtual Status RecordNotificationAttempt(const std::string& task_id, const HookDelivery& delivery,
                                           const TaskEvent& event) = 0;
  // Terminal tasks with at least one pending delivery, oldest first, at most `limit` (>= 1),
  // skipping ids <= `after_id` (a cursor); for re-queueing at start-up.
  virtual Result<std::vector<Task>> PendingNotifications(int limit,
                                                         const std::string& after_id) = 0;

  // Appends a non-transition event (e.g. "download"). Events are append-only: no method
  // changes or removes one, and the records of tasks are never deleted.
  virtual Status AppendEvent(const TaskEvent& event) = 0;
  virtual Result<std::vector<TaskEvent>> Events(const std::string& id) = 0;  // by seq
  // The events of every task that match `query`, newest first. kInvalidArgument if
  // query.limit < 1.
  virtual Result<EventPage> ListEvents(const EventQuery& query) = 0;

  // How many tasks are in each state (states with none are absent). For /metrics.
  virtual Result<std::map<TaskState, int64_t>> CountByState() = 0;
  // How many of `principal`'s tasks are Pending or Processing, read at one instant (a task
  // moving between the two states is counted once). For quotas.
  virtual Result<int64_t> CountActive(const std::string& principal) = 0;

  // OK if the store can take writes now (for /readyz).
  virtual Status CheckWritable() = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_TASK_STORE_H_
