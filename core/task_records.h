// TaskRecords: the tasks of a TaskStore (core/task_store.h), what they are and how a client or
// a worker's outcome changes them. The rules of each change are in core/task.h and
// core/task_rules.h; a store only loads, applies, saves and queries.
#ifndef EXPORTD_CORE_TASK_RECORDS_H_
#define EXPORTD_CORE_TASK_RECORDS_H_

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
  std::optional<TaskKind> kind;          // nullopt: exports and imports
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

// What TaskRecords::Revision reads: enough to check who may see a task and whether a rendering
// of it is current, without reading the task.
struct TaskRevision {
  std::string principal;
  int64_t revision = 0;
};

// The tasks themselves: their creation, reads and the changes a client or a worker's outcome
// makes. Thread-safe. Every method is atomic; a returned OK means the change is durable.
class TaskRecords {
 public:
  virtual ~TaskRecords() = default;

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

  // Sets cancel_requested on a Processing task and records a "cancel_requested" event caused
  // by `origin`. kFailedPrecondition if the task is not Processing.
  virtual Result<Task> RequestCancel(const std::string& id, TimePoint now,
                                     const EventOrigin& origin) = 0;
  // Sets pause_requested on a Processing task and records a "pause_requested" event caused by
  // `origin`; its worker pauses it after the file it is writing (core/task.h). A second request
  // changes nothing and records nothing. kFailedPrecondition if the task is not Processing.
  virtual Result<Task> RequestPause(const std::string& id, TimePoint now,
                                    const EventOrigin& origin) = 0;
  // Replaces the task's file list (e.g. with none after deletion) and records an event of
  // `event_type` caused by `origin`. kFailedPrecondition unless the task is terminal. Replacing
  // no files and no manifest with none changes nothing and records nothing.
  virtual Result<Task> ReplaceFiles(const std::string& id, std::vector<FileInfo> files,
                                    const std::string& event_type, TimePoint now,
                                    const EventOrigin& origin) = 0;
  // How many tasks are in each state (states with none are absent). For /metrics.
  virtual Result<std::map<TaskState, int64_t>> CountByState() = 0;
  // How many of `principal`'s tasks are Pending, Processing or Paused, read at one instant (a
  // task moving between these states is counted once). For quotas: a Paused task keeps its
  // place in the queue and its files, so it holds its share of the quota until it ends.
  virtual Result<int64_t> CountActive(const std::string& principal) = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_TASK_RECORDS_H_
