#include "core/task.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/principal.h"

namespace exportd {

std::string_view TaskStateName(TaskState s) {
  switch (s) {
    case TaskState::kPending:
      return "Pending";
    case TaskState::kProcessing:
      return "Processing";
    case TaskState::kPaused:
      return "Paused";
    case TaskState::kSucceeded:
      return "Succeeded";
    case TaskState::kFailed:
      return "Failed";
    case TaskState::kCancelled:
      return "Cancelled";
  }
  return "Unknown";
}

std::optional<TaskState> ParseTaskState(std::string_view name) {
  for (TaskState s : {TaskState::kPending, TaskState::kProcessing, TaskState::kPaused,
                      TaskState::kSucceeded, TaskState::kFailed, TaskState::kCancelled}) {
    if (TaskStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view TaskKindName(TaskKind k) { return k == TaskKind::kImport ? "import" : "export"; }

std::optional<TaskKind> ParseTaskKind(std::string_view name) {
  if (name == "export") return TaskKind::kExport;
  if (name == "import") return TaskKind::kImport;
  return std::nullopt;
}

std::string_view OnConflictName(OnConflict c) {
  switch (c) {
    case OnConflict::kError:
      return "error";
    case OnConflict::kSkip:
      return "skip";
    case OnConflict::kReplace:
      return "replace";
  }
  return "?";
}

std::optional<OnConflict> ParseOnConflict(std::string_view name) {
  for (OnConflict c : {OnConflict::kError, OnConflict::kSkip, OnConflict::kReplace}) {
    if (OnConflictName(c) == name) return c;
  }
  return std::nullopt;
}

bool IsTerminal(TaskState s) {
  return s == TaskState::kSucceeded || s == TaskState::kFailed || s == TaskState::kCancelled;
}

std::string_view TriggerName(Trigger t) {
  switch (t) {
    case Trigger::kStart:
      return "start";
    case Trigger::kSucceed:
      return "succeed";
    case Trigger::kFail:
      return "fail";
    case Trigger::kRetry:
      return "retry";
    case Trigger::kRecover:
      return "recover";
    case Trigger::kCancel:
      return "cancel";
    case Trigger::kLeaseExpired:
      return "lease_expired";
    case Trigger::kPause:
      return "pause";
    case Trigger::kResume:
      return "resume";
  }
  return "unknown";
}

std::optional<TaskState> NextState(TaskState from, Trigger trigger) {
  switch (from) {
    case TaskState::kPending:
      if (trigger == Trigger::kStart) return TaskState::kProcessing;
      if (trigger == Trigger::kCancel) return TaskState::kCancelled;
      if (trigger == Trigger::kPause) return TaskState::kPaused;
      return std::nullopt;
    case TaskState::kProcessing:
      switch (trigger) {
        case Trigger::kSucceed:
          return TaskState::kSucceeded;
        case Trigger::kFail:
          return TaskState::kFailed;
        case Trigger::kRetry:
        case Trigger::kRecover:
        case Trigger::kLeaseExpired:
          return TaskState::kPending;
        case Trigger::kCancel:
          return TaskState::kCancelled;
        case Trigger::kPause:
          return TaskState::kPaused;
        case Trigger::kStart:
        case Trigger::kResume:
          return std::nullopt;
      }
      return std::nullopt;
    case TaskState::kPaused:
      if (trigger == Trigger::kResume) return TaskState::kPending;
      if (trigger == Trigger::kCancel) return TaskState::kCancelled;
      return std::nullopt;
    case TaskState::kSucceeded:
    case TaskState::kFailed:
    case TaskState::kCancelled:
      return std::nullopt;
  }
  return std::nullopt;
}

namespace {

std::string ResumeDetail(const Checkpoint& cp) {
  return "resume at file " + std::to_string(cp.next_file) + " after " + std::to_string(cp.rows) +
         " rows in " + std::to_string(cp.next_file - 1) + " committed files";
}

}  // namespace

Status CheckLease(const Task& task, const LeaseKey& key) {
  if (task.state != TaskState::kProcessing || !task.lease || task.lease->owner != key.owner ||
      task.attempts != key.attempt || task.recoveries != key.recoveries) {
    std::string holder =
        task.lease ? task.lease->owner + " (attempt " + std::to_string(task.attempts) + ")"
                   : "nobody";
    return Aborted("lease of task " + task.id + " lost: it is " +
                   std::string(TaskStateName(task.state)) + ", held by " + holder + ", not " +
                   key.owner + " (attempt " + std::to_string(key.attempt) + ")");
  }
  return Status::Ok();
}

std::optional<bool> AnyContainsFormulas(const std::vector<FileInfo>& files) {
  bool all_known = !files.empty();
  for (const FileInfo& f : files) {
    if (f.contains_formulas == true) return true;
    all_known = all_known && f.contains_formulas.has_value();
  }
  return all_known ? std::optional<bool>(false) : std::nullopt;
}

Result<Transitioned> ApplyCheckpoint(const Task& task, const LeaseKey& key, const FileInfo& file,
                                     const Checkpoint& next, TimePoint now) {
  RETURN_IF_ERROR(CheckLease(task, key));
  Transitioned out{task, TaskEvent{}};
  Task& t = out.task;
  t.files.push_back(file);
  int64_t rows = 0;
  int64_t bytes = 0;
  for (const FileInfo& f : t.files) {
    rows += f.rows;
    bytes += f.bytes;
  }
  if (next.next_file != static_cast<int>(t.files.size()) + 1 || next.rows != rows ||
      next.bytes != bytes) {
    return FailedPrecondition("checkpoint of task " + task.id + " (file " +
                              std::to_string(next.next_file) + ", " + std::to_string(next.rows) +
                              " rows) does not follow its " + std::to_string(t.files.size()) +
                              " files (" + std::to_string(rows) + " rows)");
  }
  t.checkpoint = next;
  t.progress.rows = std::max(t.progress.rows, next.rows);
  t.progress.bytes = std::max(t.progress.bytes, next.bytes);
  if (next.rows_total) t.progress.rows_total = next.rows_total;
  t.updated_at = now;
  out.event.task_id = t.id;
  out.event.at = now;
  out.event.type = "checkpoint";
  out.event.actor = key.owner;  // the instance whose worker wrote the file
  out.event.detail = file.name + ": " + std::to_string(file.rows) + " rows, " +
                     std::to_string(file.bytes) + " bytes; " + std::to_string(next.rows) +
                     " rows committed";
  return out;
}

Result<Transitioned> ApplyTransition(const Task& task, const TransitionArgs& args) {
  if (args.expect_lease) RETURN_IF_ERROR(CheckLease(task, *args.expect_lease));
  if (args.expect_state && *args.expect_state != task.state) {
    return FailedPrecondition("task " + task.id + " is " + std::string(TaskStateName(task.state)) +
                              ", not " + std::string(TaskStateName(*args.expect_state)));
  }
  std::optional<TaskState> next = NextState(task.state, args.trigger);
  if (!next) {
    return FailedPrecondition("task " + task.id + " is " + std::string(TaskStateName(task.state)) +
                              "; cannot " + std::string(TriggerName(args.trigger)));
  }
  // A run that ends without an outcome while a pause is asked for stops in Paused.
  if (task.state == TaskState::kProcessing && task.pause_requested && next == TaskState::kPending) {
    next = TaskState::kPaused;
  }
  Transitioned out{task, TaskEvent{}};
  Task& t = out.task;
  t.state = *next;
  t.updated_at = args.now;
  switch (args.trigger) {
    case Trigger::kStart:
      ++t.attempts;
      t.started_at = args.now;
      t.not_before.reset();
      t.lease = args.lease;
      t.progress = Progress{};
      if (t.checkpoint) {
        t.progress.rows = t.checkpoint->rows;
        t.progress.bytes = t.checkpoint->bytes;
        t.progress.rows_total = t.checkpoint->rows_total;
      }
      break;
    case Trigger::kSucceed:
      t.files = args.files;
      t.manifest = args.manifest;
      t.metrics = args.metrics;
      t.csv_contains_formulas = AnyContainsFormulas(t.files);
      t.checkpoint.reset();
      t.error.reset();
      // The final counters are those of the files (progress is persisted only now and then).
      t.progress.rows = 0;
      t.progress.bytes = 0;
      for (const FileInfo& f : t.files) {
        t.progress.rows += f.rows;
        t.progress.bytes += f.bytes;
      }
      if (t.kind == TaskKind::kImport) {
        // An import has no files: its counters are the rows it took and the bytes it read.
        t.import_counts = args.import_counts.value_or(ImportCounts{});
        t.progress.rows = t.import_counts->rows_inserted + t.import_counts->rows_skipped +
                          t.import_counts->rows_replaced;
        t.progress.rows_total = t.progress.rows;
        t.progress.bytes = args.import_bytes.value_or(0);
      }
      break;
    case Trigger::kFail:
      t.error = args.error;
      t.files_to_remove = true;
      t.files.clear();
      t.manifest.reset();
      t.checkpoint.reset();
      break;
    case Trigger::kRetry:
      t.error = args.error;
      t.not_before = args.not_before;
      break;
    case Trigger::kRecover:
    case Trigger::kLeaseExpired:
      // The run ended without an outcome of its own: it is no attempt.
      t.attempts = std::max(0, t.attempts - 1);
      ++t.recoveries;
      t.not_before.reset();
      break;
    case Trigger::kPause:
      // A pause spends no attempt; files and checkpoint stay for the resumed run.
      if (task.state == TaskState::kProcessing) t.attempts = std::max(0, t.attempts - 1);
      t.not_before.reset();
      break;
    case Trigger::kResume:
      break;
    case Trigger::kCancel:
      // A Pending task that never ran has nothing stored; one that ran may have files.
      t.files_to_remove = t.files_to_remove || task.started_at.has_value() || !t.files.empty();
      t.files.clear();
      t.manifest.reset();
      t.checkpoint.reset();
      break;
  }
  if (t.state != TaskState::kProcessing) {
    t.lease.reset();
    t.pause_requested = false;
  }
  if (t.state == TaskState::kPaused) t.not_before.reset();
  if (IsTerminal(t.state)) {
    t.finished_at = args.now;
    t.files_expire_at = args.now + t.retention;
    t.not_before.reset();
  }
  out.event.task_id = t.id;
  out.event.at = args.now;
  out.event.type = std::string(TriggerName(args.trigger));
  out.event.from = task.state;
  out.event.to = t.state;
  out.event.detail = args.detail;
  out.event.actor = args.origin.actor;
  out.event.remote = args.origin.remote;
  if (out.event.detail.empty() && args.error) out.event.detail = args.error->message;
  // The audit trail shows which attempts resumed rather than started over.
  if (args.trigger == Trigger::kStart && t.checkpoint) {
    out.event.detail += (out.event.detail.empty() ? "" : "; ") + ResumeDetail(*t.checkpoint);
  }
  return out;
}

ProgressView ViewProgress(const Task& task, TimePoint now) {
  ProgressView view;
  const Progress& p = task.progress;
  if (task.state == TaskState::kSucceeded) {
    view.percent = 100.0;
    view.eta_seconds = 0;
    return view;
  }
  if (!p.rows_total) return view;
  if (*p.rows_total <= 0) {
    view.percent = task.state == TaskState::kProcessing ? 0.0 : 100.0;
    return view;
  }
  double fraction = std::clamp(double(p.rows) / double(*p.rows_total), 0.0, 1.0);
  view.percent = std::floor(fraction * 1000.0) / 10.0;
  if (task.state == TaskState::kProcessing && task.started_at && p.rows > 0) {
    double elapsed = std::chrono::duration<double>(now - *task.started_at).count();
    if (elapsed < 0) elapsed = 0;
    double remaining = elapsed * double(*p.rows_total - p.rows) / double(p.rows);
    view.eta_seconds = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(remaining)));
  }
  return view;
}

EventOrigin OriginOf(const Principal& who) { return EventOrigin{who.id, who.remote}; }

}  // namespace exportd
