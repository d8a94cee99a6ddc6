// The task model and its state machine.
//
//   Pending --start--> Processing --succeed--> Succeeded
//                      Processing --fail-----> Failed
//   Pending|Processing --cancel--> Cancelled
//   Processing --retry|recover--> Pending
//
// Every change of state goes through ApplyTransition(), a pure function; TaskStore
// implementations persist its result and its event in one transaction. Terminal states
// (Succeeded, Failed, Cancelled) never change.
#ifndef EXPORTD_CORE_TASK_H_
#define EXPORTD_CORE_TASK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/request.h"
#include "core/status.h"

namespace exportd {

enum class TaskState { kPending, kProcessing, kSucceeded, kFailed, kCancelled };
std::string_view TaskStateName(TaskState s);  // "Pending", "Processing", ...
std::optional<TaskState> ParseTaskState(std::string_view name);
bool IsTerminal(TaskState s);

enum class Trigger { kStart, kSucceed, kFail, kRetry, kRecover, kCancel };
std::string_view TriggerName(Trigger t);  // "start", "succeed", "fail", "retry", "recover", "cancel"

// The transition table: the state `trigger` leads to from `from`, or nullopt if illegal.
std::optional<TaskState> NextState(TaskState from, Trigger trigger);

struct TaskError {
  std::string code;     // e.g. "source_unavailable", "invalid_argument"
  std::string message;
  bool retryable = false;

  friend bool operator==(const TaskError&, const TaskError&) = default;
};

struct FileInfo {
  std::string name;  // "part-00001.csv"
  int64_t rows = 0;
  int64_t bytes = 0;
  std::string sha256;
  std::string content_type;

  friend bool operator==(const FileInfo&, const FileInfo&) = default;
};

struct Progress {
  int64_t rows = 0;
  std::optional<int64_t> rows_total;
  int64_t bytes = 0;

  friend bool operator==(const Progress&, const Progress&) = default;
};

struct Task {
  std::string id;         // ULID: unique, URL-safe, time-ordered
  std::string principal;  // owner (API key id)
  TaskState state = TaskState::kPending;
  ExportRequest request;
  std::string query_hash;  // sha256 hex of the canonical request
  std::optional<std::string> tag;
  Notify notify;
  std::optional<std::string> idempotency_key;
  TimePoint created_at{};
  TimePoint updated_at{};
  std::optional<TimePoint> started_at;   // start of the latest attempt
  std::optional<TimePoint> finished_at;  // set on a terminal state
  std::optional<TimePoint> not_before;   // a Pending retry waits until then
  int attempts = 0;
  int max_attempts = 3;
  Progress progress;
  std::optional<TaskError> error;
  bool cancel_requested = false;
  std::vector<FileInfo> files;  // data files; set on success
  std::optional<FileInfo> manifest;

  friend bool operator==(const Task&, const Task&) = default;
};

// An audit row. `from`/`to` are set for transitions, empty for other events
// (e.g. "cancel_requested", "files_deleted").
struct TaskEvent {
  int64_t seq = 0;  // assigned by the store; increasing
  std::string task_id;
  TimePoint at{};
  std::string type;  // the trigger name for transitions ("start", "retry", ...) or another event
  std::optional<TaskState> from;
  std::optional<TaskState> to;
  std::string detail;
};

// What a transition carries besides its trigger.
struct TransitionArgs {
  Trigger trigger = Trigger::kStart;
  TimePoint now{};
  std::optional<TaskError> error;        // kFail, kRetry
  std::vector<FileInfo> files;           // kSucceed
  std::optional<FileInfo> manifest;      // kSucceed
  std::optional<TimePoint> not_before;   // kRetry
  std::string detail;                    // free text for the event row
  // When set, the transition applies only if the stored task is in this state (kFailedPrecondition
  // otherwise): lets a caller act on what it last saw without a read-modify-write race.
  std::optional<TaskState> expect_state;
};

// Applies a transition to a copy of `task`: the new state and the fields that go with it
// (attempts and started_at on start; finished_at on terminal states; error, files, not_before;
// progress reset when a new attempt starts). kFailedPrecondition if the transition is illegal.
// Also returns the event row to record.
struct Transitioned {
  Task task;
  TaskEvent event;
};
Result<Transitioned> ApplyTransition(const Task& task, const TransitionArgs& args);

// Derived progress figures for display.
struct ProgressView {
  std::optional<double> percent;       // 0..100, once rows_total is known
  std::optional<int64_t> eta_seconds;  // once some rows are done and the task is Processing
};
ProgressView ViewProgress(const Task& task, TimePoint now);

}  // namespace exportd

#endif  // EXPORTD_CORE_TASK_H_
