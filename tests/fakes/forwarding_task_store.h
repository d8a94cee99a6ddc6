// A TaskStore that forwards every call to another one, for tests to override a single method
// (a slow claim, a failing write) of a real store. As thread-safe as the store it wraps; the
// wrapped store must outlive it.
#ifndef EXPORTD_TESTS_FAKES_FORWARDING_TASK_STORE_H_
#define EXPORTD_TESTS_FAKES_FORWARDING_TASK_STORE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/task_store.h"

namespace exportd::fakes {

class ForwardingTaskStore : public TaskStore {
 public:
  explicit ForwardingTaskStore(TaskStore& inner) : inner_(inner) {}

  Status Create(const Task& task, const EventOrigin& origin) override {
    return inner_.Create(task, origin);
  }
  Result<Task> Get(const std::string& id) override { return inner_.Get(id); }
  Result<TaskRevision> Revision(const std::string& id) override { return inner_.Revision(id); }
  Result<std::optional<Task>> FindByIdempotencyKey(const std::string& principal,
                                                   const std::string& key) override {
    return inner_.FindByIdempotencyKey(principal, key);
  }
  Result<TaskPage> List(const TaskListQuery& query) override { return inner_.List(query); }
  Status CreateTakingKey(const Task& task, const std::string& previous_id,
                         const EventOrigin& origin) override {
    return inner_.CreateTakingKey(task, previous_id, origin);
  }
  Result<Task> Transition(const std::string& id, const TransitionArgs& args) override {
    return inner_.Transition(id, args);
  }
  Result<std::optional<Task>> ClaimNext(TimePoint now, const std::string& owner,
                                        Millis lease) override {
    return inner_.ClaimNext(now, owner, lease);
  }
  Result<std::optional<TimePoint>> NextWakeup(TimePoint now) override {
    return inner_.NextWakeup(now);
  }
  Result<Task> Heartbeat(const std::string& id, const LeaseKey& key,
                         const std::optional<Progress>& progress, TimePoint now,
                         Millis lease) override {
    return inner_.Heartbeat(id, key, progress, now, lease);
  }
  Result<Task> CommitFile(const std::string& id, const LeaseKey& key, const FileInfo& file,
                          const Checkpoint& next, TimePoint now) override {
    return inner_.CommitFile(id, key, file, next, now);
  }
  Result<std::vector<std::string>> ExpireLeases(TimePoint now) override {
    return inner_.ExpireLeases(now);
  }
  Result<std::vector<std::string>> RecoverProcessing(TimePoint now,
                                                     const std::string& owner) override {
    return inner_.RecoverProcessing(now, owner);
  }
  Status UpdateProgress(const std::string& id, const Progress& progress, TimePoint now) override {
    return inner_.UpdateProgress(id, progress, now);
  }
  Result<Task> FixWindow(const std::string& id, const LeaseKey& key, const TaskWindow& window,
                         TimePoint now) override {
    return inner_.FixWindow(id, key, window, now);
  }
  Result<Task> RequestCancel(const std::string& id, TimePoint now,
                             const EventOrigin& origin) override {
    return inner_.RequestCancel(id, now, origin);
  }
  Result<Task> RequestPause(const std::string& id, TimePoint now,
                            const EventOrigin& origin) override {
    return inner_.RequestPause(id, now, origin);
  }
  Result<Task> ReplaceFiles(const std::string& id, std::vector<FileInfo> files,
                            const std::string& event_type, TimePoint now,
                            const EventOrigin& origin) override {
    return inner_.ReplaceFiles(id, std::move(files), event_type, now, origin);
  }
  Status FilesRemoved(const std::string& id) override { return inner_.FilesRemoved(id); }
  Result<std::vector<std::string>> ListExpiredFiles(TimePoint now, int limit) override {
    return inner_.ListExpiredFiles(now, limit);
  }
  Status RecordNotificationAttempt(const std::string& task_id, const HookDelivery& delivery,
                                   const TaskEvent& event) override {
    return inner_.RecordNotificationAttempt(task_id, delivery, event);
  }
  Result<std::optional<HookDelivery>> ClaimNotification(const std::string& task_id, int hook,
                                                        const std::string& owner, TimePoint now,
                                                        TimePoint until) override {
    return inner_.ClaimNotification(task_id, hook, owner, now, until);
  }
  Result<std::vector<Task>> PendingNotifications(int limit, const std::string& after_id) override {
    return inner_.PendingNotifications(limit, after_id);
  }
  Status AppendEvent(const TaskEvent& event) override { return inner_.AppendEvent(event); }
  Result<std::vector<TaskEvent>> Events(const std::string& id) override {
    return inner_.Events(id);
  }
  Result<EventPage> ListEvents(const EventQuery& query) override {
    return inner_.ListEvents(query);
  }
  Result<std::map<TaskState, int64_t>> CountByState() override { return inner_.CountByState(); }
  Result<int64_t> CountActive(const std::string& principal) override {
    return inner_.CountActive(principal);
  }
  Status CheckWritable() override { return inner_.CheckWritable(); }

 private:
  TaskStore& inner_;
};

}  // namespace exportd::fakes

#endif  // EXPORTD_TESTS_FAKES_FORWARDING_TASK_STORE_H_
