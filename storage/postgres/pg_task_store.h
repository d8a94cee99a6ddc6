// TaskStore (and WatermarkStore) on PostgreSQL, which several exportd instances may share.
#ifndef EXPORTD_STORAGE_POSTGRES_PG_TASK_STORE_H_
#define EXPORTD_STORAGE_POSTGRES_PG_TASK_STORE_H_

#include <algorithm>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/instance_registry.h"
#include "core/status.h"
#include "core/store_stats.h"
#include "core/task_store.h"
#include "core/watermark_store.h"
#include "storage/postgres/pg_pool.h"

namespace exportd {

struct PgTaskStoreOptions {
  // At most this many tasks Processing at once in the whole database, whichever instances run
  // them (config max_running_cluster); nullopt: no cap beyond each instance's workers. Every
  // instance sharing the database should be given the same value.
  std::optional<int> max_running;
};

// Thread-safe: each call takes a connection of the pool for one transaction. Every change loads
// the task's row with SELECT ... FOR UPDATE, applies the rule of core/task_rules.h and writes it
// back with its event in the same transaction (READ COMMITTED: concurrent changes of one task,
// from this or another instance, queue on the row lock). ClaimNext walks the Pending tasks in
// creation order with FOR UPDATE SKIP LOCKED, so concurrent claimers never wait for each other
// nor take one task twice. Tasks come back with their times truncated to milliseconds.
class PgTaskStore final : public TaskStore,
                          public WatermarkStore,
                          public InstanceRegistry,
                          public StoreStats {
 public:
  // Uses `pool` (shared with the key and schedule stores) and migrates the schema.
  // kFailedPrecondition if the schema is newer than this binary; kUnavailable if the server
  // cannot be reached.
  static Result<std::unique_ptr<PgTaskStore>> Open(std::shared_ptr<PgPool> pool,
                                                   PgTaskStoreOptions options = {});

  PgTaskStore(const PgTaskStore&) = delete;
  PgTaskStore& operator=(const PgTaskStore&) = delete;

  Status Create(const Task& task, const EventOrigin& origin) override;
  Result<Task> Get(const std::string& id) override;
  Result<TaskRevision> Revision(const std::string& id) override;
  Result<std::optional<Task>> FindByIdempotencyKey(const std::string& principal,
                                                   const std::string& key) override;
  Result<TaskPage> List(const TaskListQuery& query) override;
  Status CreateTakingKey(const Task& task, const std::string& previous_id,
                         const EventOrigin& origin) override;
  Result<Task> Transition(const std::string& id, const TransitionArgs& args) override;
  Result<Task> RequestCancel(const std::string& id, TimePoint now,
                             const EventOrigin& origin) override;
  Result<Task> RequestPause(const std::string& id, TimePoint now,
                            const EventOrigin& origin) override;
  Result<Task> ReplaceFiles(const std::string& id, std::vector<FileInfo> files,
                            const std::string& event_type, TimePoint now,
                            const EventOrigin& origin) override;
  Result<std::map<TaskState, int64_t>> CountByState() override;
  Result<int64_t> CountActive(const std::string& principal) override;

  // With options.max_running, claims only while fewer tasks are Processing in the whole
  // database: the count and the claim run under one transaction advisory lock (per schema)
  // that every capped claimer takes, so claimers of several instances cannot both see room
  // for one more.
  Result<std::optional<Task>> ClaimNext(TimePoint now, const std::string& owner,
                                        Millis lease) override;
  Result<std::optional<TimePoint>> NextWakeup(TimePoint now) override;
  Result<Task> Heartbeat(const std::string& id, const LeaseKey& key,
                         const std::optional<Progress>& progress, TimePoint now,
                         Millis lease) override;
  Result<Task> CommitFile(const std::string& id, const LeaseKey& key, const FileInfo& file,
                          const Checkpoint& next, TimePoint now) override;
  Result<std::vector<std::string>> ExpireLeases(TimePoint now) override;
  Result<std::vector<std::string>> RecoverProcessing(TimePoint now,
                                                     const std::string& owner) override;
  Result<Task> FixWindow(const std::string& id, const LeaseKey& key, const TaskWindow& window,
                         TimePoint now) override;
  Status UpdateProgress(const std::string& id, const Progress& progress, TimePoint now) override;

  Result<std::vector<std::string>> ListExpiredFiles(TimePoint now, int limit) override;
  Status FilesRemoved(const std::string& id) override;

  Status RecordNotificationAttempt(const std::string& task_id, const HookDelivery& delivery,
                                   const TaskEvent& event) override;
  Result<std::optional<HookDelivery>> ClaimNotification(const std::string& task_id, int hook,
                                                        const std::string& owner, TimePoint now,
                                                        TimePoint until) override;
  Result<std::vector<Task>> PendingNotifications(int limit, const std::string& after_id) override;

  Status AppendEvent(const TaskEvent& event) override;
  Result<std::vector<TaskEvent>> Events(const std::string& id) override;
  Result<EventPage> ListEvents(const EventQuery& query) override;

  // Commits a heartbeat row: the server is reachable, not read-only, and commits.
  Status CheckWritable() override;

  Result<std::vector<Watermark>> ListWatermarks(const std::string& dataset) override;
  Result<Watermark> PutWatermark(const std::string& dataset, const std::string& partition,
                                 TimePoint watermark, TimePoint now,
                                 const EventOrigin& origin) override;
  Status DeleteWatermark(const std::string& dataset, const std::string& partition, TimePoint now,
                         const EventOrigin& origin) override;

  // StoreStats.
  Result<PendingSummary> SummarizePending(TimePoint now) override;
  Result<std::map<std::string, TimePoint>> OldestWatermarks() override;

  // InstanceRegistry (the instances table of migration 003). Announce also forgets the
  // instances whose heartbeat stopped more than a week before self.heartbeat_at.
  Status Announce(const InstanceInfo& self) override;
  Status Beat(const std::string& id, TimePoint now) override;
  Result<std::vector<InstanceInfo>> ListInstances(TimePoint since) override;

 private:
  PgTaskStore(std::shared_ptr<PgPool> pool, PgTaskStoreOptions options)
      : pool_(std::move(pool)),
        options_(options),
        max_create_groups_(std::max(1, pool_->size() / 2)) {}

  // Loads `id` FOR UPDATE, applies `rule` and saves what it returns with its event.
  using RequestRule = Result<std::optional<Transitioned>> (*)(const Task&, TimePoint,
                                                              const EventOrigin&);
  Result<Task> ApplyRequest(const std::string& id, TimePoint now, const EventOrigin& origin,
                            RequestRule rule);

  // Group commit of Create: a call that finds fewer than max_create_groups_ commits under way
  // leads a group of itself; the others queue. When a group has committed, its leader wakes
  // each of its members (once each) and hands everything queued meanwhile, as the next group,
  // to the oldest queued call, so a slot is never idle while calls wait. A group goes in with
  // one transaction (one WAL flush) and one INSERT of all its tasks and their events (one round
  // trip); the tasks that statement could not take (a collision, a schedule's slot) follow one
  // by one, each under a savepoint, so each task still succeeds or fails on its own. Unlike
  // SQLite's single writer, PostgreSQL runs several such groups at once, on connections of
  // their own.
  struct PendingCreate;
  void CommitCreates(const std::vector<PendingCreate*>& group);
  // CreateIn for each task under a savepoint of its own, setting each one's result.
  // REQUIRES: a transaction is open.
  static Status CreateOneByOne(PgConnection& c, const std::vector<PendingCreate*>& tasks);

  std::shared_ptr<PgPool> pool_;
  const PgTaskStoreOptions options_;
  std::mutex group_mu_;
  std::vector<PendingCreate*> create_queue_;  // guarded by group_mu_: waiting for a slot
  int create_leaders_ = 0;                    // guarded by group_mu_: groups committing
  int max_create_groups_ = 1;                 // half the pool, at least 1
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_POSTGRES_PG_TASK_STORE_H_
