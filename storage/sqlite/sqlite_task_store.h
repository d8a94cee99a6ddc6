// TaskStore on one SQLite file (DATA_DIR/exportd.db), shared with SqliteKeyStore.
#ifndef EXPORTD_STORAGE_SQLITE_SQLITE_TASK_STORE_H_
#define EXPORTD_STORAGE_SQLITE_SQLITE_TASK_STORE_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/store_stats.h"
#include "core/task_store.h"
#include "core/watermark_store.h"
#include "storage/sqlite/committed_read_cache.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/statement_cache.h"

namespace exportd {

// Thread-safe: one connection, serialised by a mutex; every write is one BEGIN IMMEDIATE
// transaction, so several stores (or processes) on the same file also serialise correctly.
// Tasks come back with their times truncated to milliseconds (the stored precision).
class SqliteTaskStore final : public TaskStore, public WatermarkStore, public StoreStats {
 public:
  // Opens or creates the database at `path` and applies pending migrations. kFailedPrecondition
  // if the file's schema is newer than this binary; kUnavailable if it cannot be opened.
  static Result<std::unique_ptr<SqliteTaskStore>> Open(const std::string& path);

  SqliteTaskStore(const SqliteTaskStore&) = delete;
  SqliteTaskStore& operator=(const SqliteTaskStore&) = delete;

  // REQUIRES: task.state == kPending (else kInvalidArgument).
  Status Create(const Task& task, const EventOrigin& origin) override;
  Result<Task> Get(const std::string& id) override;
  Result<TaskRevision> Revision(const std::string& id) override;
  Result<std::optional<Task>> FindByIdempotencyKey(const std::string& principal,
                                                   const std::string& key) override;
  // kInvalidArgument if query.limit < 1.
  Result<TaskPage> List(const TaskListQuery& query) override;

  // Records an "idempotency_key_released" event on `previous_id`.
  Status CreateTakingKey(const Task& task, const std::string& previous_id,
                         const EventOrigin& origin) override;

  Result<Task> Transition(const std::string& id, const TransitionArgs& args) override;
  Result<std::optional<Task>> ClaimNext(TimePoint now, const std::string& owner,
                                        Millis lease) override;
  Result<std::optional<TimePoint>> NextWakeup(TimePoint now) override;
  // Renews even a lease that has expired but that no one has taken yet.
  Result<Task> Heartbeat(const std::string& id, const LeaseKey& key,
                         const std::optional<Progress>& progress, TimePoint now,
                         Millis lease) override;
  Result<Task> CommitFile(const std::string& id, const LeaseKey& key, const FileInfo& file,
                          const Checkpoint& next, TimePoint now) override;
  Result<std::vector<std::string>> ExpireLeases(TimePoint now) override;
  Result<std::vector<std::string>> RecoverProcessing(TimePoint now,
                                                     const std::string& owner) override;

  // kNotFound for an unknown id; OK without a change for a task that is not Processing.
  Status UpdateProgress(const std::string& id, const Progress& progress, TimePoint now) override;
  Result<Task> FixWindow(const std::string& id, const LeaseKey& key, const TaskWindow& window,
                         TimePoint now) override;
  // Idempotent: a second request on a task already marked records no second event.
  Result<Task> RequestCancel(const std::string& id, TimePoint now,
                             const EventOrigin& origin) override;
  Result<Task> RequestPause(const std::string& id, TimePoint now,
                            const EventOrigin& origin) override;
  // Replaces `files` only; the manifest is left as it is.
  Result<std::vector<std::string>> ListExpiredFiles(TimePoint now, int limit) override;
  Status FilesRemoved(const std::string& id) override;
  Result<Task> ReplaceFiles(const std::string& id, std::vector<FileInfo> files,
                            const std::string& event_type, TimePoint now,
                            const EventOrigin& origin) override;

  // event.task_id is taken from `task_id`.
  Status RecordNotificationAttempt(const std::string& task_id, const HookDelivery& delivery,
                                   const TaskEvent& event) override;
  Result<std::optional<HookDelivery>> ClaimNotification(const std::string& task_id, int hook,
                                                        const std::string& owner, TimePoint now,
                                                        TimePoint until) override;
  Result<std::vector<Task>> PendingNotifications(int limit, const std::string& after_id) override;

  // event.seq is ignored (the store assigns it); kNotFound if event.task_id is unknown.
  Status AppendEvent(const TaskEvent& event) override;
  // kNotFound if the task is unknown.
  Result<std::vector<TaskEvent>> Events(const std::string& id) override;
  // Served by the indexes of migration 006 (actor, type, remote, at) and task_events_task.
  Result<EventPage> ListEvents(const EventQuery& query) override;

  // Commits a heartbeat row: proves the lock can be taken and a synced write succeeds.
  Result<std::map<TaskState, int64_t>> CountByState() override;
  // Served by tasks_principal_id (migration 001).
  Result<int64_t> CountActive(const std::string& principal) override;
  // Also reports the damage QuickCheck found (kDataLoss), from then on.
  Status CheckWritable() override;

  // WatermarkStore (sqlite_watermarks.cc).
  Result<std::vector<Watermark>> ListWatermarks(const std::string& dataset) override;
  Result<Watermark> PutWatermark(const std::string& dataset, const std::string& partition,
                                 TimePoint watermark, TimePoint now,
                                 const EventOrigin& origin) override;
  Status DeleteWatermark(const std::string& dataset, const std::string& partition, TimePoint now,
                         const EventOrigin& origin) override;

  // StoreStats (sqlite_store_stats.cc).
  Result<PendingSummary> SummarizePending(TimePoint now) override;
  Result<std::map<std::string, TimePoint>> OldestWatermarks() override;

  // Runs SQLite's PRAGMA quick_check over the whole file (the structure of every table and
  // index page; its time grows with the file, about a second per few hundred MB). OK when sound;
  // kDataLoss with SQLite's first findings otherwise, which CheckWritable reports from then on
  // (so /readyz answers 503 until a restart on a repaired or restored file); another error if
  // the check could not run (not remembered). For start-up.
  Status QuickCheck();

 private:
  explicit SqliteTaskStore(Database db)
      : db_(std::move(db)), statements_(db_), revisions_(db_.commit_counter(), kMaxRevisionsKept) {}

  static constexpr size_t kMaxRevisionsKept = 4096;

  // The *Locked methods REQUIRE mu_ held.
  Result<Task> LoadLocked(const std::string& id);  // kNotFound
  Result<bool> ExistsLocked(const std::string& id);
  // Rewrites the task's row; returns the task as stored.
  Result<Task> SaveLocked(const Task& task);
  // Inserts a new task and its "created" event. REQUIRES: a transaction is open.
  Status CreateLocked(const Task& task, const EventOrigin& origin);
  Status InsertEventLocked(const TaskEvent& event);
  // Reads the task's deliveries into task.notifications (none unless it is terminal).
  Status FillNotificationsLocked(Task& task);
  // Inserts a new delivery row or updates an existing one (kNotFound if there is none).
  Status SaveNotificationLocked(const std::string& task_id, const HookDelivery& d, bool insert);
  // Saves a rule's change (core/task_rules.h) and its event, and commits `tx`; without a change
  // returns `task` (as loaded) and leaves `tx` to roll back, empty.
  // Loads `id`, applies `rule` (ApplyCancelRequest, ApplyPauseRequest) and saves what it
  // returns with its event in one transaction.
  using RequestRule = Result<std::optional<Transitioned>> (*)(const Task&, TimePoint,
                                                              const EventOrigin&);
  Result<Task> ApplyRequest(const std::string& id, TimePoint now, const EventOrigin& origin,
                            RequestRule rule);
  Result<Task> CommitChangeLocked(Transaction& tx, Task task,
                                  const std::optional<Transitioned>& change);
  // The Pending and Processing tasks of task's dataset created before it (for
  // MustWaitForEarlierExport).
  Result<std::vector<Task>> EarlierActiveLocked(const Task& task);
  // Moves the watermarks a transition from `before` to `after` moves (AdvanceWatermarks), with
  // their events. REQUIRES: the transition's transaction is open.
  Status MoveWatermarksLocked(const Task& before, const Task& after, const TransitionArgs& args);
  // Load, ApplyTransition, save, record the event. REQUIRES: a transaction is open.
  Result<Task> TransitionLocked(const std::string& id, const TransitionArgs& args);
  // The same for a task just loaded in the open transaction.
  Result<Task> TransitionLocked(const Task& task, const TransitionArgs& args);

  // Group commit of Create: each caller queues its task; whoever finds no commit under way
  // becomes the leader and commits every queued task in one transaction (one sync), while
  // tasks arriving meanwhile queue for the next group. Each task still succeeds or fails on
  // its own (a savepoint each).
  struct PendingCreate;
  void CommitCreates(const std::vector<PendingCreate*>& group);

  std::mutex mu_;
  Database db_;                // guarded by mu_
  StatementCache statements_;  // guarded by mu_; declared after db_, destroyed before it
  // Revision's answers, kept until the next commit to the file by any exportd process: a GET of
  // a finished task then takes no read transaction (CommittedReadCache). Thread-safe itself.
  CommittedReadCache<TaskRevision> revisions_;

  std::mutex group_mu_;  // taken before mu_, never while holding it
  std::condition_variable group_done_;
  std::vector<PendingCreate*> create_queue_;  // guarded by group_mu_
  bool create_leader_ = false;                // guarded by group_mu_
  Status integrity_;                          // guarded by mu_: what the last QuickCheck found
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_SQLITE_TASK_STORE_H_
