// An in-memory TaskStore for unit tests of the code that uses one (scheduler, service, runner,
// janitor, dispatcher) without a SQLite file. Built on the same rules as every real store
// (core/task.h, core/task_rules.h) and held to the same contract
// (tests/unit/task_store_contract.h).
#ifndef EXPORTD_TESTS_FAKES_MEMORY_TASK_STORE_H_
#define EXPORTD_TESTS_FAKES_MEMORY_TASK_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/schedule.h"
#include "core/store_stats.h"
#include "core/task_store.h"
#include "core/watermark_store.h"

namespace exportd::fakes {

// Thread-safe: one mutex around everything; each method is atomic, and nothing is durable.
// Unlike the SQLite store it keeps times at full precision.
class MemoryTaskStore final : public TaskStore, public WatermarkStore, public StoreStats {
 public:
  MemoryTaskStore() = default;
  MemoryTaskStore(const MemoryTaskStore&) = delete;
  MemoryTaskStore& operator=(const MemoryTaskStore&) = delete;

  // TaskRecords
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

  // WorkQueue
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
  Status UpdateProgress(const std::string& id, const Progress& progress, TimePoint now) override;
  Result<Task> FixWindow(const std::string& id, const LeaseKey& key, const TaskWindow& window,
                         TimePoint now) override;

  Result<std::vector<Watermark>> ListWatermarks(const std::string& dataset) override;
  Result<Watermark> PutWatermark(const std::string& dataset, const std::string& partition,
                                 TimePoint watermark, TimePoint now,
                                 const EventOrigin& origin) override;
  Status DeleteWatermark(const std::string& dataset, const std::string& partition, TimePoint now,
                         const EventOrigin& origin) override;

  // StoreStats
  Result<PendingSummary> SummarizePending(TimePoint now) override;
  Result<std::map<std::string, TimePoint>> OldestWatermarks() override;

  // FileRetention
  Result<std::vector<std::string>> ListExpiredFiles(TimePoint now, int limit) override;
  Status FilesRemoved(const std::string& id) override;

  // NotificationOutbox
  Status RecordNotificationAttempt(const std::string& task_id, const HookDelivery& delivery,
                                   const TaskEvent& event) override;
  Result<std::optional<HookDelivery>> ClaimNotification(const std::string& task_id, int hook,
                                                        const std::string& owner, TimePoint now,
                                                        TimePoint until) override;
  Result<std::vector<Task>> PendingNotifications(int limit, const std::string& after_id) override;

  // AuditLog
  Status AppendEvent(const TaskEvent& event) override;
  Result<std::vector<TaskEvent>> Events(const std::string& id) override;
  Result<EventPage> ListEvents(const EventQuery& query) override;

  // StoreHealth: OK unless a test set another status with SetWritable.
  Status CheckWritable() override;
  void SetWritable(Status status);

  // Called, under the store's lock, with each schedule run Create records (what the SQLite
  // store writes to the schedules row in the same transaction): e.g. a MemoryScheduleStore's
  // SetLastRun. Must not call back into this store.
  void OnScheduleRun(std::function<void(const std::string& schedule_id, const ScheduleRun&)> f);

 private:
  // A task and its place in creation order (FIFO).
  struct Entry {
    Task task;
    int64_t seq = 0;
  };

  // The *Locked methods REQUIRE mu_ held.
  Result<Entry*> FindLocked(const std::string& id);  // kNotFound
  // Checks that `task` may be inserted (ApplyCreate, id and key free) and returns its event.
  Result<TaskEvent> CheckCreateLocked(const Task& task, const EventOrigin& origin);
  void InsertLocked(const Task& task, const TaskEvent& created);
  // Stores `task` over its entry with the next revision; returns it as stored.
  Task SaveLocked(Entry& entry, const Task& task);
  void AppendLocked(TaskEvent event);
  // Saves a rule's change and its event; without a change returns the task as it is.
  Task SaveChangeLocked(Entry& entry, const std::optional<Transitioned>& change);
  Result<Task> TransitionLocked(Entry& entry, const TransitionArgs& args);

  std::mutex mu_;
  std::map<std::string, Entry> tasks_;  // guarded by mu_; by id
  std::vector<TaskEvent> events_;       // guarded by mu_; by seq
  // guarded by mu_; (task id, hook) -> (owner, claimed until) of notification claims
  std::map<std::pair<std::string, int>, std::pair<std::string, TimePoint>> claims_;
  // guarded by mu_; by (dataset, partition)
  std::map<std::pair<std::string, std::string>, Watermark> watermarks_;
  int64_t next_task_seq_ = 1;  // guarded by mu_
  // (schedule_id, slot in unix ms) -> task id: at most one task per pair, ever.
  std::map<std::pair<std::string, int64_t>, std::string> schedule_runs_;         // guarded by mu_
  std::function<void(const std::string&, const ScheduleRun&)> on_schedule_run_;  // guarded by mu_
  Status writable_;                                                              // guarded by mu_
};

}  // namespace exportd::fakes

#endif  // EXPORTD_TESTS_FAKES_MEMORY_TASK_STORE_H_
