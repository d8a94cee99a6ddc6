#include "core/task_rules.h"

#include <utility>

#include "core/time_format.h"

namespace exportd {
namespace {

// An event that is no transition (no from/to state), caused by `origin`.
TaskEvent OriginEvent(const std::string& task_id, TimePoint at, std::string type,
                      const EventOrigin& origin) {
  TaskEvent event;
  event.task_id = task_id;
  event.at = at;
  event.type = std::move(type);
  event.actor = origin.actor;
  event.remote = origin.remote;
  return event;
}

std::string StateOf(const Task& task) { return std::string(TaskStateName(task.state)); }

// Sets the request flag `mark` of a Processing task with its "<what>_requested" event; nullopt
// when it is set already.
Result<std::optional<Transitioned>> MarkRequest(const Task& task, bool Task::*mark,
                                                const std::string& what, TimePoint now,
                                                const EventOrigin& origin) {
  if (task.state != TaskState::kProcessing) {
    return FailedPrecondition("task " + task.id + " is " + StateOf(task) +
                              "; only a Processing task takes a " + what + " request");
  }
  if (task.*mark) return std::optional<Transitioned>();
  Transitioned out{task, OriginEvent(task.id, now, what + "_requested", origin)};
  out.task.*mark = true;
  out.task.updated_at = now;
  return std::optional<Transitioned>(std::move(out));
}

constexpr std::string_view kRecoverDetail = "recovered after restart";

}  // namespace

Result<Transitioned> ApplyCreate(const Task& task, const EventOrigin& origin) {
  if (task.state != TaskState::kPending) {
    return InvalidArgument("a new task must be Pending, not " + StateOf(task));
  }
  Transitioned out{task, OriginEvent(task.id, task.created_at, "created", origin)};
  out.event.to = TaskState::kPending;
  return out;
}

Result<std::optional<Transitioned>> ApplyCancelRequest(const Task& task, TimePoint now,
                                                       const EventOrigin& origin) {
  return MarkRequest(task, &Task::cancel_requested, "cancel", now, origin);
}

Result<std::optional<Transitioned>> ApplyPauseRequest(const Task& task, TimePoint now,
                                                      const EventOrigin& origin) {
  return MarkRequest(task, &Task::pause_requested, "pause", now, origin);
}

Result<std::optional<Transitioned>> ApplyFileReplacement(const Task& task,
                                                         std::vector<FileInfo> files,
                                                         const std::string& event_type,
                                                         TimePoint now, const EventOrigin& origin) {
  if (!IsTerminal(task.state)) {
    return FailedPrecondition("task " + task.id + " is " + StateOf(task) +
                              "; files change only on a finished task");
  }
  if (files.empty() && task.files.empty() && !task.manifest) {
    return std::optional<Transitioned>();
  }
  Transitioned out{task, OriginEvent(task.id, now, event_type, origin)};
  out.task.files = std::move(files);
  if (out.task.files.empty()) out.task.manifest.reset();
  out.task.updated_at = now;
  return std::optional<Transitioned>(std::move(out));
}

Result<Task> ApplyHeartbeat(const Task& task, const LeaseKey& key,
                            const std::optional<Progress>& progress, TimePoint now, Millis lease) {
  RETURN_IF_ERROR(CheckLease(task, key));
  Task next = task;
  next.lease->expires_at = now + lease;
  if (progress) next.progress = *progress;
  next.updated_at = now;
  return next;
}

std::optional<Task> ApplyProgress(const Task& task, const Progress& progress, TimePoint now) {
  if (task.state != TaskState::kProcessing) return std::nullopt;
  Task next = task;
  next.progress = progress;
  next.updated_at = now;
  return next;
}

Result<Transitioned> ApplyKeyRelease(const Task& previous, const Task& next,
                                     const EventOrigin& origin) {
  if (!next.idempotency_key) return InvalidArgument("CreateTakingKey needs an idempotency key");
  if (previous.principal != next.principal || previous.idempotency_key != next.idempotency_key) {
    return Status(StatusCode::kAlreadyExists,
                  "idempotency key is no longer held by task " + previous.id);
  }
  Transitioned out{previous,
                   OriginEvent(previous.id, next.created_at, "idempotency_key_released", origin)};
  out.task.idempotency_key.reset();
  out.event.detail = "key expired; now held by task " + next.id;
  return out;
}

std::optional<Task> ApplyFilesRemoved(const Task& task) {
  if (!task.files_to_remove) return std::nullopt;
  Task next = task;
  next.files_to_remove = false;
  return next;
}

TransitionArgs ClaimArgs(TimePoint now, const std::string& owner, Millis lease) {
  TransitionArgs args;
  args.trigger = Trigger::kStart;
  args.now = now;
  args.lease = Lease{owner, now + lease};
  args.origin.actor = owner;
  return args;
}

TransitionArgs RecoverArgs(TimePoint now, const std::string& owner) {
  TransitionArgs args;
  args.trigger = Trigger::kRecover;
  args.now = now;
  args.detail = std::string(kRecoverDetail);
  args.origin.actor = owner;
  return args;
}

std::string LeaseExpiredDetail(const Task& task) {
  return "lease of " + (task.lease ? task.lease->owner : std::string("?")) + " expired at " +
         (task.lease ? FormatRfc3339(task.lease->expires_at) : std::string("?"));
}

TransitionArgs LeaseExpiryArgs(const Task& task, TimePoint now) {
  TransitionArgs args;
  args.trigger = Trigger::kLeaseExpired;
  args.now = now;
  args.origin.actor = std::string(kHousekeepingActor);
  args.detail = LeaseExpiredDetail(task);
  return args;
}

std::vector<HookDelivery> DeliveriesOwed(const Task& before, const Task& after) {
  if (!IsTerminal(after.state) || IsTerminal(before.state)) return {};
  return HooksOf(after.notify);
}

std::optional<TimePoint> FilesDueAt(const Task& task) {
  if (!IsTerminal(task.state)) return std::nullopt;
  if (task.files_to_remove) return task.finished_at.value_or(task.updated_at);
  if (!task.files_expire_at) return std::nullopt;
  if (task.files.empty() && !task.manifest) return std::nullopt;
  return task.files_expire_at;
}

Result<std::optional<Transitioned>> ApplyWindow(const Task& task, const LeaseKey& key,
                                                const TaskWindow& window, TimePoint now) {
  RETURN_IF_ERROR(CheckLease(task, key));
  if (task.window) return std::optional<Transitioned>();
  Transitioned out{task, {}};
  out.task.window = window;
  out.task.updated_at = now;
  out.event.task_id = task.id;
  out.event.at = now;
  out.event.type = "window";
  out.event.detail = std::string("until ").append(FormatRfc3339(window.until));
  if (task.request.incremental) {
    out.event.detail.append(", ").append(std::to_string(window.partitions.size()));
    out.event.detail.append(window.partitions.size() == 1 ? " partition" : " partitions");
  }
  out.event.actor = key.owner;
  return std::optional<Transitioned>(std::move(out));
}

}  // namespace exportd
