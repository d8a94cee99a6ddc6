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
  std::vector<Task> items;               // newest first (descending id)
  std::optional<std::string> next_cursor;  // the last item's id when more may follow
};

// Thread-safe. Every method is atomic; a returned OK means the change is durable.
class TaskStore {
 public:
  virtual ~TaskStore() = default;

  // Stores a new Pending task and its "created" event. kAlreadyExists if the id is taken, or
  // if task.idempotency_key is set and (principal, key) already has a task: then the existing
  // task is not changed; callers look it up with FindByIdempotencyKey.
  virtual Status Create(const Task& task) = 0;
  virtual Result<Task> Get(const std::string& id) = 0;  // kNotFound
  virtual Result<std::optional<Task>> FindByIdempotencyKey(const std::string& principal,
                                                           const std::string& key) = 0;
  virtual Result<TaskPage> List(const TaskListQuery& query) = 0;

  // Loads the task, runs ApplyTransition, saves the task and the event in one transaction.
  // kNotFound; kFailedPrecondition if the transition is illegal from the stored state.
  virtual Result<Task> Transition(const std::string& id, const TransitionArgs& args) = 0;

  // The oldest Pending task (creation order) whose not_before has passed, moved to Processing
  // with args.trigger == kStart; nullopt if none is ready.
  virtual Result<std::optional<Task>> ClaimNext(TimePoint now) = 0;
  // The earliest not_before among Pending tasks that are not ready at `now`.
  virtual Result<std::optional<TimePoint>> NextWakeup(TimePoint now) = 0;
  // Moves every Processing task back to Pending (trigger kRecover). Returns their ids.
  virtual Result<std::vector<std::string>> RecoverProcessing(TimePoint now) = 0;

  // Persists counters of a Processing task (no event). A task in another state is left alone.
  virtual Status UpdateProgress(const std::string& id, const Progress& progress,
                                TimePoint now) = 0;
  // Sets cancel_requested on a Processing task and records a "cancel_requested" event.
  // kFailedPrecondition if the task is not Processing.
  virtual Result<Task> RequestCancel(const std::string& id, TimePoint now) = 0;
  // Replaces the task's file list (e.g. with none after deletion) and records an event of
  // `event_type`. kFailedPrecondition unless the task is terminal.
  virtual Result<Task> ReplaceFiles(const std::string& id, std::vector<FileInfo> files,
                                    const std::string& event_type, TimePoint now) = 0;

  // Appends a non-transition event (e.g. "download"). Events are append-only.
  virtual Status AppendEvent(const TaskEvent& event) = 0;
  virtual Result<std::vector<TaskEvent>> Events(const std::string& id) = 0;  // by seq

  // How many tasks are in each state (states with none are absent). For /metrics.
  virtual Result<std::map<TaskState, int64_t>> CountByState() = 0;

  // OK if the store can take writes now (for /readyz).
  virtual Status CheckWritable() = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_TASK_STORE_H_
