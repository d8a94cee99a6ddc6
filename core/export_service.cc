#include "core/export_service.h"

#include "core/canonical_json.h"
#include "core/duration.h"
#include "core/request_prepare.h"
#include "core/time_format.h"
#include "core/ulid.h"

namespace exportd {

ExportService::ExportService(TaskStore& tasks, const DatasetCatalog& datasets, ObjectStore& objects,
                             Scheduler& scheduler, const Clock& clock, Logger& logger,
                             const TimeZoneDb& time_zones, ServiceOptions options,
                             Sha256HexFn sha256_hex)
    : tasks_(tasks),
      datasets_(datasets),
      objects_(objects),
      scheduler_(scheduler),
      clock_(clock),
      logger_(logger),
      time_zones_(time_zones),
      options_(options),
      sha256_hex_(std::move(sha256_hex)) {}

Result<CreateExportArgs> ExportService::Prepare(CreateExportArgs args) const {
  const DatasetCatalog::Entry* entry = datasets_.Find(args.request.dataset);
  if (entry == nullptr) {
    return InvalidArgument("unknown dataset '" + args.request.dataset + "'", "/dataset");
  }
  // The deployment's default decides before Canonicalize, which clears it for JSON and NDJSON.
  args.request.escape_formulas = args.escape_formulas.value_or(options_.escape_formulas);
  ASSIGN_OR_RETURN(args.request,
                   PrepareRequest(std::move(args.request), *entry->dataset, time_zones_));
  if (!args.notify.email.empty() && !options_.email_notifications) {
    return InvalidArgument(
        "email notifications are not available: this deployment has no SMTP "
        "server configured",
        "/notify/email");
  }
  if (args.notify.webhook && options_.check_webhook) {
    if (Status allowed = options_.check_webhook(*args.notify.webhook); !allowed.ok()) {
      return InvalidArgument("webhook refused: " + allowed.message(), "/notify/webhook");
    }
  }
  if (args.retention &&
      (*args.retention < std::chrono::seconds(1) || *args.retention > options_.max_retention)) {
    return InvalidArgument("retention must be between 1s and " +
                               FormatDuration(options_.max_retention) + " (" +
                               std::to_string(options_.max_retention.count()) + " seconds)",
                           "/retention");
  }
  return args;
}

Status ExportService::Check(const CreateExportArgs& args) const { return Prepare(args).status(); }

Result<CreateExportResult> ExportService::Create(const Principal& who, CreateExportArgs args) {
  args.schedule_id.reset();
  args.schedule_slot.reset();
  return CreateAs(who, std::move(args), OriginOf(who));
}

Result<Task> ExportService::CreateForSchedule(const std::string& owner, CreateExportArgs args,
                                              const EventOrigin& origin) {
  if (!args.schedule_id || !args.schedule_slot) {
    return InvalidArgument("a schedule's firing needs its schedule and slot");
  }
  args.idempotency_key.reset();
  ASSIGN_OR_RETURN(CreateExportResult created,
                   CreateAs(Principal{owner, /*admin=*/false, ""}, std::move(args), origin));
  return std::move(created.task);
}

Result<CreateExportResult> ExportService::CreateAs(const Principal& who, CreateExportArgs args,
                                                   const EventOrigin& origin) {
  ASSIGN_OR_RETURN(args, Prepare(std::move(args)));
  TimePoint now = clock_.Now();
  Task task;
  task.id = NewUlid(now);
  task.principal = who.id;
  task.request = std::move(args.request);
  task.query_hash = sha256_hex_(CanonicalJson(task.request));
  task.tag = std::move(args.tag);
  task.notify = std::move(args.notify);
  task.idempotency_key = std::move(args.idempotency_key);
  task.created_at = task.updated_at = now;
  task.max_attempts = options_.max_attempts;
  task.retention = args.retention.value_or(options_.default_retention);
  task.schedule_id = std::move(args.schedule_id);
  // Kept to the millisecond, as the store keeps it.
  if (args.schedule_slot) task.schedule_slot = FromUnixMillis(ToUnixMillis(*args.schedule_slot));

  auto replay = [&](const Task& existing) -> Result<CreateExportResult> {
    if (existing.request == task.request && existing.tag == task.tag &&
        existing.notify == task.notify && existing.retention == task.retention) {
      return CreateExportResult{existing, true};
    }
    return Status(
        StatusCode::kAlreadyExists,
        "Idempotency-Key was already used with a different request (task " + existing.id + ")");
  };
  // The quota is counted and the task created under one lock, so that concurrent requests of
  // this process cannot both take the last place (instances sharing a store may overshoot by
  // at most one each).
  std::unique_lock<std::mutex> quota_lock(quota_mu_, std::defer_lock);
  auto admit = [&]() -> Status {
    if (who.admin || options_.max_active_tasks <= 0) return Status::Ok();
    quota_lock.lock();
    return CheckQuota(who);
  };
  Status created;
  if (task.idempotency_key) {
    ASSIGN_OR_RETURN(std::optional<Task> existing,
                     tasks_.FindByIdempotencyKey(who.id, *task.idempotency_key));
    if (existing && now - existing->created_at < options_.idempotency_window) {
      return replay(*existing);
    }
    RETURN_IF_ERROR(admit());
    // A key whose window has passed moves to the new task, in the same transaction that
    // creates it, so the key names at most one task and a retry of this request replays it.
    created =
        existing ? tasks_.CreateTakingKey(task, existing->id, origin) : tasks_.Create(task, origin);
    if (created.code() == StatusCode::kAlreadyExists) {
      // Lost a race with a concurrent request carrying the same key: that request's task is
      // the one the key names now.
      ASSIGN_OR_RETURN(std::optional<Task> winner,
                       tasks_.FindByIdempotencyKey(who.id, *task.idempotency_key));
      if (winner && winner->id != task.id) return replay(*winner);
    }
  } else {
    RETURN_IF_ERROR(admit());
    created = tasks_.Create(task, origin);
  }
  RETURN_IF_ERROR(created);
  logger_.Info("task " + task.id + ": created Pending (dataset " + task.request.dataset +
               ", principal " + who.id + ")");
  scheduler_.Wake();
  return CreateExportResult{std::move(task), false};
}

Status ExportService::CheckQuota(const Principal& who) {
  // One read: counting the two states apart would count a task that is being claimed twice.
  ASSIGN_OR_RETURN(int64_t active, tasks_.CountActive(who.id));
  if (active >= options_.max_active_tasks) {
    return Status(StatusCode::kResourceExhausted,
                  "quota: at most " + std::to_string(options_.max_active_tasks) +
                      " exports may be Pending or Processing per principal; wait for one to "
                      "finish or cancel one");
  }
  return Status::Ok();
}

Result<Task> ExportService::GetOwned(const Principal& who, const std::string& id,
                                     std::string_view action) {
  Result<Task> task = tasks_.Get(id);
  if (!task.ok()) {
    if (task.status().code() == StatusCode::kNotFound) {
      return NotFound("no " + std::string(TaskKindName(options_.kind)) + " " + id);
    }
    return task.status();
  }
  RETURN_IF_ERROR(CheckOwner(who, id, task->principal, action));
  if (task->kind != options_.kind) {
    return NotFound("no " + std::string(TaskKindName(options_.kind)) + " " + id);
  }
  return task;
}

Status ExportService::CheckOwner(const Principal& who, const std::string& id,
                                 const std::string& owner, std::string_view action) {
  if (who.admin || owner == who.id) return Status::Ok();
  TaskEvent denied;
  denied.task_id = id;
  denied.at = clock_.Now();
  denied.type = "access_denied";
  denied.detail = std::string(action);
  denied.actor = who.id;
  denied.remote = who.remote;
  denied.outcome = "denied";
  // The caller's answer (404) does not depend on the trail being written.
  if (Status recorded = tasks_.AppendEvent(denied); !recorded.ok()) {
    logger_.Warn("task " + id + ": recording access_denied failed: " + recorded.ToString());
  }
  return NotFound("no export " + id);
}

Result<int64_t> ExportService::Revision(const Principal& who, const std::string& id) {
  Result<TaskRevision> stored = tasks_.Revision(id);
  if (!stored.ok()) {
    if (stored.status().code() == StatusCode::kNotFound) return NotFound("no export " + id);
    return stored.status();
  }
  RETURN_IF_ERROR(CheckOwner(who, id, stored->principal, "read"));
  return stored->revision;
}

Result<Task> ExportService::Get(const Principal& who, const std::string& id) {
  return GetOwned(who, id, "read");
}

Result<TaskPage> ExportService::List(const Principal& who, TaskListQuery query) {
  if (!who.admin) query.principal = who.id;
  query.kind = options_.kind;
  return tasks_.List(query);
}

Result<Task> ExportService::TransitionFrom(const Principal& who, const std::string& id,
                                           TaskState from, Trigger trigger, TimePoint now,
                                           std::string_view done) {
  TransitionArgs args;
  args.trigger = trigger;
  args.now = now;
  args.expect_state = from;
  args.detail = std::string(done) + " by " + who.id;
  args.origin = OriginOf(who);
  Result<Task> saved = tasks_.Transition(id, args);
  if (saved.ok()) {
    logger_.Info("task " + id + ": " + std::string(TaskStateName(from)) + " -> " +
                 std::string(TaskStateName(saved->state)) + " (" + args.detail + ")");
  }
  return saved;
}

Result<Task> ExportService::Cancel(const Principal& who, const std::string& id) {
  ASSIGN_OR_RETURN(Task task, GetOwned(who, id, "cancel"));
  TimePoint now = clock_.Now();
  // A worker may claim the task, or a client resume it, between the read and the transition:
  // then look again (a Paused task resumed meanwhile is Pending, and is cancelled as such).
  for (int tries = 0;
       tries < 2 && (task.state == TaskState::kPending || task.state == TaskState::kPaused);
       ++tries) {
    Result<Task> cancelled =
        TransitionFrom(who, id, task.state, Trigger::kCancel, now, "cancelled");
    if (cancelled.ok() && options_.on_terminal) options_.on_terminal(*cancelled);
    if (cancelled.ok() || cancelled.status().code() != StatusCode::kFailedPrecondition) {
      return cancelled;
    }
    ASSIGN_OR_RETURN(task, GetOwned(who, id, "cancel"));
  }
  if (task.state == TaskState::kProcessing) {
    ASSIGN_OR_RETURN(Task flagged, tasks_.RequestCancel(id, now, OriginOf(who)));
    scheduler_.Cancel(id);
    return flagged;
  }
  return FailedPrecondition("export " + id + " is already " +
                            std::string(TaskStateName(task.state)));
}

Result<Task> ExportService::Pause(const Principal& who, const std::string& id) {
  ASSIGN_OR_RETURN(Task task, GetOwned(who, id, "pause"));
  TimePoint now = clock_.Now();
  if (task.state == TaskState::kPending) {
    Result<Task> paused = TransitionFrom(who, id, task.state, Trigger::kPause, now, "paused");
    if (paused.ok() || paused.status().code() != StatusCode::kFailedPrecondition) return paused;
    // A worker claimed it meanwhile: fall through to the Processing path.
    ASSIGN_OR_RETURN(task, GetOwned(who, id, "pause"));
  }
  if (task.state == TaskState::kProcessing) {
    ASSIGN_OR_RETURN(Task flagged, tasks_.RequestPause(id, now, OriginOf(who)));
    scheduler_.Pause(id);
    return flagged;
  }
  return FailedPrecondition("export " + id + " is " + std::string(TaskStateName(task.state)) +
                            "; only a Pending or Processing export can be paused");
}

Result<Task> ExportService::Resume(const Principal& who, const std::string& id) {
  ASSIGN_OR_RETURN(Task task, GetOwned(who, id, "resume"));
  if (task.state != TaskState::kPaused) {
    return FailedPrecondition("export " + id + " is " + std::string(TaskStateName(task.state)) +
                              "; only a Paused export can be resumed");
  }
  ASSIGN_OR_RETURN(Task resumed, TransitionFrom(who, id, TaskState::kPaused, Trigger::kResume,
                                                clock_.Now(), "resumed"));
  scheduler_.Wake();
  return resumed;
}

Status ExportService::DeleteFiles(const Principal& who, const std::string& id) {
  ASSIGN_OR_RETURN(Task task, GetOwned(who, id, "delete"));
  if (!IsTerminal(task.state)) {
    return FailedPrecondition("export " + id + " is " + std::string(TaskStateName(task.state)) +
                              "; cancel it first");
  }
  RETURN_IF_ERROR(objects_.DeleteAll(id));
  // A failed or cancelled task's leftovers are gone too: the janitor need not retry them.
  if (task.files_to_remove) RETURN_IF_ERROR(tasks_.FilesRemoved(id));
  // Already without files (deleted before, or expired): nothing new to record, so a repeated
  // DELETE stays a no-op in the audit trail too.
  if (task.files.empty() && !task.manifest) return Status::Ok();
  Result<Task> replaced = tasks_.ReplaceFiles(id, {}, "files_deleted", clock_.Now(), OriginOf(who));
  return replaced.ok() ? Status::Ok() : replaced.status();
}

Result<std::vector<TaskEvent>> ExportService::Events(const Principal& who, const std::string& id) {
  RETURN_IF_ERROR(GetOwned(who, id, "events").status());
  ASSIGN_OR_RETURN(std::vector<TaskEvent> events, tasks_.Events(id));
  if (!who.admin) {
    // Other principals' failed attempts are for the audit trail (admins), not for the owner:
    // they would tell the owner who else holds a key and probed the id.
    std::erase_if(events, [](const TaskEvent& e) { return e.type == "access_denied"; });
  }
  return events;
}

Result<FileInfo> ExportService::DownloadableFile(const std::string& id, const std::string& name) {
  Result<Task> task = tasks_.Get(id);
  if (!task.ok() || task->state != TaskState::kSucceeded) return NotFound("no such file");
  if (task->files_expire_at && *task->files_expire_at <= clock_.Now()) {
    return Gone("the files of export " + id + " expired at " +
                FormatRfc3339Seconds(*task->files_expire_at));
  }
  for (const FileInfo& f : task->files) {
    if (f.name == name) return f;
  }
  if (task->manifest && task->manifest->name == name) return *task->manifest;
  if (task->files.empty() && !task->manifest) {
    return Gone("the files of export " + id + " have been deleted");
  }
  return NotFound("no such file");
}

void ExportService::RecordDownload(const std::string& id, const FileAccess& access) {
  TaskEvent event;
  event.task_id = id;
  event.at = clock_.Now();
  event.type = "download";
  event.detail = access.detail;
  event.actor = access.origin.actor;
  event.remote = access.origin.remote;
  event.file = access.file;
  event.bytes = access.bytes;
  event.outcome = access.outcome;
  Status recorded = tasks_.AppendEvent(event);
  if (!recorded.ok() && recorded.code() != StatusCode::kNotFound) {
    logger_.Warn("task " + id + ": recording a download failed: " + recorded.ToString());
  }
}

void ExportService::RecordRefusal(const Principal& who, const std::string& id,
                                  std::string_view action, std::string_view reason) {
  TaskEvent denied;
  denied.task_id = id;
  denied.at = clock_.Now();
  denied.type = "access_denied";
  denied.detail = std::string(action) + ": " + std::string(reason);
  denied.actor = who.id;
  denied.remote = who.remote;
  denied.outcome = "denied";
  Status recorded = tasks_.AppendEvent(denied);
  if (!recorded.ok() && recorded.code() != StatusCode::kNotFound) {
    logger_.Warn("task " + id + ": recording access_denied failed: " + recorded.ToString());
  }
}

Result<EventPage> ExportService::Audit(const Principal& who, const EventQuery& query) {
  if (!who.admin) {
    return Status(StatusCode::kPermissionDenied, "the audit trail is for admin keys only");
  }
  return tasks_.ListEvents(query);
}

}  // namespace exportd
