// The task model and its state machine.
//
//   Pending --start--> Processing --succeed--> Succeeded
//                      Processing --fail-----> Failed
//   Pending|Processing|Paused --cancel--> Cancelled
//   Processing --retry|recover|lease_expired--> Pending
//   Pending|Processing --pause--> Paused --resume--> Pending
//
// Pause: a Pending task is Paused at once (TaskStore::Transition, kPause). A Processing task is
// only marked (pause_requested, TaskRecords::RequestPause); its worker sees the mark at its next
// heartbeat or checkpoint, lets the file it is writing be committed (so no row written is lost)
// and then records kPause itself, under its lease, keeping files and checkpoint. A run that ends
// otherwise without an outcome of its own while the mark is set (retry, recover, lease_expired)
// lands in Paused rather than Pending: the pause the client asked for still takes effect.
// Resume puts a Paused task back to Pending in its FIFO place (stores order by creation).
//
// Every change of state goes through ApplyTransition(), a pure function; TaskStore
// implementations persist its result and its event in one transaction. Terminal states
// (Succeeded, Failed, Cancelled) never change.
#ifndef EXPORTD_CORE_TASK_H_
#define EXPORTD_CORE_TASK_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/notification.h"
#include "core/request.h"
#include "core/source.h"
#include "core/status.h"

namespace exportd {

enum class TaskState { kPending, kProcessing, kPaused, kSucceeded, kFailed, kCancelled };
std::string_view TaskStateName(TaskState s);  // "Pending", "Processing", "Paused", ...
std::optional<TaskState> ParseTaskState(std::string_view name);
bool IsTerminal(TaskState s);

// kRecover: an interrupted run (restart, drain) goes back to the queue; kLeaseExpired: the
// same for a run whose owner stopped renewing its lease (event "lease_expired"). kPause and
// kResume: see the header comment.
enum class Trigger {
  kStart,
  kSucceed,
  kFail,
  kRetry,
  kRecover,
  kCancel,
  kLeaseExpired,
  kPause,
  kResume
};
// "start", "succeed", "fail", "retry", "recover", "cancel", "lease_expired", "pause", "resume"
std::string_view TriggerName(Trigger t);

// The transition table: the state `trigger` leads to from `from`, or nullopt if illegal.
std::optional<TaskState> NextState(TaskState from, Trigger trigger);

// Where an import found a row it could not take (error.details of a failed import).
struct ImportErrorDetail {
  std::string file;    // the input file's name ("upload" for an uploaded body)
  int64_t line = 0;    // 1-based line of the file (for CSV, the line the record starts on)
  int64_t column = 0;  // 1-based column (field) of the record; 0 when no one column is at fault
  std::string message;

  friend bool operator==(const ImportErrorDetail&, const ImportErrorDetail&) = default;
};

// At most this many details are kept with a failed import.
inline constexpr size_t kMaxImportErrorDetails = 20;

struct TaskError {
  std::string code;  // e.g. "source_unavailable", "invalid_argument"
  std::string message;
  bool retryable = false;
  std::vector<ImportErrorDetail> details;  // imports only: the first rows at fault

  friend bool operator==(const TaskError&, const TaskError&) = default;
};

struct FileInfo {
  std::string name;  // "part-00001.csv"
  int64_t rows = 0;
  int64_t bytes = 0;
  std::string sha256;
  std::string content_type;
  // CSV/TSV parts: whether a text cell starts like a formula (core/formats/formula_cells.h).
  // nullopt for other formats, for the manifest, and for parts recorded before the check existed.
  std::optional<bool> contains_formulas;
  // With split_by partition: the partition whose rows the file holds (its name is then
  // "<partition>/part-00001.csv"); nullopt otherwise and for the manifest.
  std::optional<std::string> partition;

  friend bool operator==(const FileInfo&, const FileInfo&) = default;
};

// The window of an incremental export, fixed when the task first starts Processing and kept
// through retries and recoveries, so every attempt exports the same rows.
struct TaskWindow {
  TimePoint until{};
  std::vector<PartitionWindow> partitions;  // sorted by partition, each once

  friend bool operator==(const TaskWindow&, const TaskWindow&) = default;
};

// At most this many of a record-id export's missing ids are kept (TaskMetrics).
inline constexpr size_t kMissingIdsSampleSize = 10;

// What an export counted, filled when the task ends.
struct TaskMetrics {
  std::map<std::string, int64_t> rows_by_partition;  // rows exported, by partition value
  int64_t excluded_rows = 0;  // rows the dataset's row_filter left out of the export's scope
  // Distinct values of each of the dataset's metrics.count_distinct fields, by partition:
  // field -> partition -> count.
  std::map<std::string, std::map<std::string, int64_t>> distinct;
  // record_ids exports: how many ids matched no record, and the first of them in key order
  // (at most kMissingIdsSampleSize).
  int64_t missing_ids = 0;
  std::vector<FilterValue> missing_ids_sample;

  friend bool operator==(const TaskMetrics&, const TaskMetrics&) = default;
};

// A CSV/TSV export's csv_contains_formulas from its data files: true if any part has a
// formula-like cell; false if every part is known to have none; otherwise (no files, another
// format, parts recorded before the check existed) nullopt.
std::optional<bool> AnyContainsFormulas(const std::vector<FileInfo>& files);

struct Progress {
  int64_t rows = 0;
  std::optional<int64_t> rows_total;
  int64_t bytes = 0;

  friend bool operator==(const Progress&, const Progress&) = default;
};

// Where an export split by partition stands in the series of one partition.
struct SeriesCheckpoint {
  std::optional<std::string> partition;  // nullopt: the series of the rows whose partition is NULL
  int next_file = 1;                     // 1-based number of the series' next part file

  friend bool operator==(const SeriesCheckpoint&, const SeriesCheckpoint&) = default;
};

// Where the next output file of a task starts. Recorded with each committed data file, in the
// same store transaction, so that a later attempt resumes after the files already committed
// (task.files) instead of starting over, and writes exactly the files an uninterrupted run
// would have written.
struct Checkpoint {
  // The dataset key of the last row in the committed files: the next file starts with the
  // first row whose key is greater. nullopt before any row (an export without rows). With
  // split_by partition: the last row of `series`' partition.
  std::optional<FilterValue> after_key;
  // With split_by partition: the series the last committed file belongs to. A resumed export
  // continues that partition after after_key at series->next_file, then the partitions that
  // follow it (core/split_series.h); nullopt for other exports.
  std::optional<SeriesCheckpoint> series;
  int next_file = 1;                  // 1-based number of the next data file; == files.size() + 1
  int64_t rows = 0;                   // data rows in the committed files
  int64_t bytes = 0;                  // stored bytes of the committed files
  std::optional<int64_t> rows_total;  // the last count of matching rows, for progress
  // The transaction time of the attempt that wrote the first file; the manifest of the
  // finished export carries it, whichever attempt writes the manifest.
  TimePoint transaction_time{};

  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// Who runs a Processing task, until when. Renewed by the running worker's heartbeat; once
// `expires_at` has passed, any instance may put the task back in the queue.
struct Lease {
  std::string owner;  // instance id (stable per data dir)
  TimePoint expires_at{};

  friend bool operator==(const Lease&, const Lease&) = default;
};

// Names one claim of a task: the instance that claimed it, the attempt number the claim
// started and the task's recoveries then. Unique per claim because every start increments
// attempts and every interrupted run, which gives its attempt back, increments recoveries: a
// worker whose task was taken away and claimed again (even by its own instance) no longer matches.
struct LeaseKey {
  std::string owner;
  int attempt = 0;
  int recoveries = 0;

  friend bool operator==(const LeaseKey&, const LeaseKey&) = default;
};

// What a task does: an export (the default, and every task stored before imports existed) or an
// import (core/import.h). Both share the store, the queue, the workers and the lifecycle.
enum class TaskKind { kExport, kImport };
std::string_view TaskKindName(TaskKind k);  // "export", "import"
std::optional<TaskKind> ParseTaskKind(std::string_view name);

// What to do with an imported row whose key the table holds already.
enum class OnConflict { kError, kSkip, kReplace };
std::string_view OnConflictName(OnConflict c);  // "error", "skip", "replace"
std::optional<OnConflict> ParseOnConflict(std::string_view name);

// An import's own request; the dataset and the format are in Task::request (dataset, format).
struct ImportSpec {
  OnConflict on_conflict = OnConflict::kError;
  // Exactly one source: the files of a Succeeded export, objects of the object store under a
  // prefix, or a body uploaded with the request (kept in the import staging area as "upload").
  std::optional<std::string> from_export;
  std::optional<std::string> from_prefix;
  bool upload = false;
  // The upload came gzip-compressed (Content-Encoding: gzip); it is decoded as it is received
  // and staged plain.
  bool gzip = false;

  friend bool operator==(const ImportSpec&, const ImportSpec&) = default;
};

// What a Succeeded import did to the table.
struct ImportCounts {
  int64_t rows_inserted = 0;
  int64_t rows_skipped = 0;   // on_conflict skip: rows whose key existed
  int64_t rows_replaced = 0;  // on_conflict replace: rows that replaced one with their key

  friend bool operator==(const ImportCounts&, const ImportCounts&) = default;
};

// Retention of a task's files when neither the request nor the deployment says otherwise, and
// of tasks stored before retention existed.
inline constexpr std::chrono::seconds kDefaultRetention{7 * 24 * 3600};

struct Task {
  std::string id;         // ULID: unique, URL-safe, time-ordered
  std::string principal;  // owner (API key id)
  TaskKind kind = TaskKind::kExport;
  // Imports: the import's own request (request.dataset and request.format name the target and
  // the input format), and, once Succeeded, what it did. nullopt for exports.
  std::optional<ImportSpec> import;
  std::optional<ImportCounts> import_counts;
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
  // Attempts made, the running one included: at most max_attempts. A run interrupted before it
  // could end (a crash or restart, a drain, an expired lease) gives its attempt back and is
  // counted in `recoveries` instead, so attempts never grow past max_attempts through them.
  int attempts = 0;
  int max_attempts = 3;
  int recoveries = 0;
  Progress progress;
  std::optional<TaskError> error;
  bool cancel_requested = false;
  // A client asked to pause the Processing task (TaskRecords::RequestPause); its worker pauses
  // it after the file it is writing. Cleared whenever the task leaves Processing.
  bool pause_requested = false;
  // Data files. While the task is Pending or Processing: those committed so far (with
  // `checkpoint`); on success: all of them; cleared on failure and cancellation.
  std::vector<FileInfo> files;
  std::optional<FileInfo> manifest;
  // Set on success from the files (AnyContainsFormulas) and kept when they are deleted or
  // expire; nullopt before, for JSON/NDJSON, and for tasks that finished before the check.
  std::optional<bool> csv_contains_formulas;
  std::optional<Checkpoint> checkpoint;  // after the last committed file; cleared when terminal
  std::optional<Lease> lease;            // set only while Processing
  // Incremental exports: the window, set when the task first starts Processing; nullopt before
  // and for every other export.
  std::optional<TaskWindow> window;
  // Set when the task ends (nullopt before).
  std::optional<TaskMetrics> metrics;
  // The schedule whose firing created the task; nullopt for a task created by a request.
  std::optional<std::string> schedule_id;
  // With schedule_id: the slot it fired for (a cron slot, whole minutes; or the instant of a
  // manual run, which is never a whole second). The store keeps at most one task per
  // (schedule_id, schedule_slot). Kept to the millisecond.
  std::optional<TimePoint> schedule_slot;
  // Set by the transition to Failed or Cancelled of a task that ran (its objects, committed or
  // partial, are to be removed), in the same store transaction; cleared by
  // TaskStore::FilesRemoved once ObjectStore::DeleteAll succeeded. While set, the retention
  // janitor retries the removal (also after a restart). Not shown by the API.
  bool files_to_remove = false;
  // How long the files stay after the task finishes (the request's retention or the
  // deployment's default), and when they go: finished_at + retention, set with finished_at.
  // Download links never outlive files_expire_at; the retention janitor deletes the files then.
  std::chrono::seconds retention = kDefaultRetention;
  std::optional<TimePoint> files_expire_at;
  // Delivery state of each hook in `notify` (HooksOf order); empty until the task is terminal.
  // Not part of the task's record: the store keeps it beside the task and fills it on reads.
  std::vector<HookDelivery> notifications;
  // Set by the TaskStore on every task it returns: a number that changes with each committed
  // change to the task, its notifications included (TaskStore::Revision). Not part of the record.
  int64_t revision = 0;

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
  // Who and from where (empty: unknown, e.g. rows stored before the audit columns existed):
  // the principal for API calls, "link" for a download through a pre-signed link, the instance
  // id for the scheduler's transitions, "exportd" for housekeeping; the client address.
  std::string actor;
  std::string remote;
  // File accesses ("download", "access_denied"): the file named, the bytes sent and how it
  // ended ("completed", "interrupted", "not_modified", "denied", "gone", "not_found", "failed").
  std::string file;
  std::optional<int64_t> bytes;
  std::string outcome;

  friend bool operator==(const TaskEvent&, const TaskEvent&) = default;
};

// Who causes an event and from which client address: what every event row records about its
// origin (see TaskEvent::actor and ::remote).
struct EventOrigin {
  std::string actor;
  std::string remote;  // empty when no request caused the event
};
struct Principal;
// The origin of an event a principal's request causes: its id and client address.
EventOrigin OriginOf(const Principal& who);
// The actor of events that exportd causes on its own behalf rather than for a principal or as
// one instance's worker: the retention janitor, lease expiry, notification attempts.
inline constexpr std::string_view kHousekeepingActor = "exportd";

// What a transition carries besides its trigger.
struct TransitionArgs {
  Trigger trigger = Trigger::kStart;
  TimePoint now{};
  std::optional<TaskError> error;             // kFail, kRetry
  std::vector<FileInfo> files;                // kSucceed
  std::optional<FileInfo> manifest;           // kSucceed
  std::optional<TaskMetrics> metrics;         // kSucceed
  std::optional<ImportCounts> import_counts;  // kSucceed of an import
  std::optional<int64_t> import_bytes;        // kSucceed of an import: input bytes read
  std::optional<TimePoint> not_before;        // kRetry
  std::optional<Lease> lease;                 // kStart: the claim's lease
  std::string detail;                         // free text for the event row
  EventOrigin origin;                         // who and from where, for the event row
  // When set, the transition applies only if the stored task is in this state (kFailedPrecondition
  // otherwise): lets a caller act on what it last saw without a read-modify-write race.
  std::optional<TaskState> expect_state;
  // When set, the transition applies only if the task is Processing under this claim (kAborted
  // otherwise): a worker that lost its lease must not change the task.
  std::optional<LeaseKey> expect_lease;
};

// Applies a transition to a copy of `task`: the new state and the fields that go with it
// (attempts, started_at and the lease on start; recover and lease_expired give the attempt back
// and count a recovery; a pause from Processing gives the attempt back without counting a
// recovery: only the claim's own worker records it, under expect_lease, as its run ends, so no
// worker of that claim outlives it and the next claim's LeaseKey cannot be confused with it;
// finished_at and files_expire_at = finished_at + retention on terminal states; error, files,
// not_before). A new attempt's progress starts from the checkpoint (or from zero without one).
// Files and checkpoint survive retry/recover/lease_expired/pause/resume (the next attempt
// resumes) and are cleared by fail and cancel; the lease is dropped whenever the task leaves
// Processing. kFailedPrecondition if the transition is illegal, kAborted if args.expect_lease does
// not match. Also returns the event row to record.
struct Transitioned {
  Task task;
  TaskEvent event;
};
Result<Transitioned> ApplyTransition(const Task& task, const TransitionArgs& args);

// OK if `task` is Processing under the claim `key`; kAborted (lease lost) otherwise.
Status CheckLease(const Task& task, const LeaseKey& key);

// Records a committed data file and the checkpoint after it on a copy of `task` (files,
// checkpoint, progress, updated_at) and returns the "checkpoint" event to store with it.
// kAborted unless the task is Processing under `key`; kFailedPrecondition unless `next`
// follows from the task's files plus `file` (next_file, rows and bytes add up).
Result<Transitioned> ApplyCheckpoint(const Task& task, const LeaseKey& key, const FileInfo& file,
                                     const Checkpoint& next, TimePoint now);

// Derived progress figures for display.
struct ProgressView {
  std::optional<double> percent;       // 0..100, once rows_total is known
  std::optional<int64_t> eta_seconds;  // once some rows are done and the task is Processing
};
ProgressView ViewProgress(const Task& task, TimePoint now);

}  // namespace exportd

#endif  // EXPORTD_CORE_TASK_H_
