#include "core/export_service.h"

#include <algorithm>

#include "core/canonical_json.h"
#include "core/ulid.h"

namespace exportd {

ExportService::ExportService(TaskStore& tasks, const DatasetCatalog& datasets,
                             ObjectStore& objects, Scheduler& scheduler, const Clock& clock,
                             Logger& logger, ServiceOptions options, Sha256HexFn sha256_hex)
    : tasks_(tasks), datasets_(datasets), objects_(objects), scheduler_(scheduler), clock_(clock),
      logger_(logger), options_(options), sha256_hex_(std::move(sha256_hex)) {}

Result<CreateExportResult> ExportService::Create(const Principal& who, CreateExportArgs args) {
  const DatasetCatalog::Entry* entry = datasets_.Find(args.request.dataset);
  if (entry == nullptr) {
    return InvalidArgument("unknown dataset '" + args.request.dataset + "'", "/dataset");
  }
  RETURN_IF_ERROR(ValidateRequest(args.request, *entry->dataset));
  Canonicalize(args.request);
  // Every field in dataset order is what "no fields" means: one canonical form for both.
  const std::vector<Field>& all = entry->dataset->fields();
  if (args.request.fields.size() == all.size() &&
      std::equal(all.begin(), all.end(), args.request.fields.begin(),
                 [](const Field& f, const std::string& name) { return f.name == name; })) {
    args.request.fields.clear();
  }

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

  auto replay = [&](const Task& existing) -> Result<CreateExportResult> {
    if (existing.request == task.request && existing.tag == task.tag &&
        existing.notify == task.notify) {
      return CreateExportResult{existing, true};
    }
    return Status(StatusCode::kAlreadyExists,
                  "Idempotency-Key was already used with a different request (task " +
                      existing.id + ")");
  };
  Status created;
  if (task.idempotency_key) {
    ASSIGN_OR_RETURN(std::optional<Task> existing,
                     tasks_.FindByIdempotencyKey(who.id, *task.idempotency_key));
    if (existing && now - existing->created_at < options_.idempotency_window) {
      return replay(*existing);
    }
    // A key whose window has passed moves to the new task, in the same transaction that
    // creates it, so the key names at most one task and a retry of this request replays it.
    created = existing ? tasks_.CreateTakingKey(task, existing->id) : tasks_.Create(task);
    if (created.code() == StatusCode::kAlreadyExists) {
      // Lost a race with a concurrent request carrying the same key: that request's task is
      // the one the key names now.
      ASSIGN_OR_RETURN(std::optional<Task> winner,
                       tasks_.FindByIdempotencyKey(who.id, *task.idempotency_key));
      if (winner && winner->id != task.id) return replay(*winner);
    }
  } else {
    created = tasks_.Create(task);
  }
  RETURN_IF_ERROR(created);
  logger_.Info("task " + task.id + ": created Pending (dataset " + task.request.dataset +
               ", principal " + who.id + ")");
  scheduler_.Wake();
  return CreateExportResult{std::move(task), false};
}

Result<Task> ExportService::GetOwned(const Principal& who, const std::string& id) {
  Result<Task> task = tasks_.Get(id);
  if (!task.ok()) {
    if (task.status().code() == StatusCode::kNotFound) return NotFound("no export " + id);
    return task.status();
  }
  if (!who.admin && task->principal != who.id) return NotFound("no export " + id);
  return task;
}

Result<Task> ExportService::Get(const Principal& who, const std::string& id) {
  return GetOwned(who, id);
}

Result<TaskPage> ExportService::List(const Principal& who, TaskListQuery query) {
  if (!who.admin) query.principal = who.id;
  return tasks_.List(query);
}

Result<Task> ExportService::Cancel(const Principal& who, const std::string& id) {
  ASSIGN_OR_RETURN(Task task, GetOwned(who, id));
  TimePoint now = clock_.Now();
  if (task.state == TaskState::kPending) {
    TransitionArgs args;
    args.trigger = Trigger::kCancel;
    args.now = now;
    args.expect_state = TaskState::kPending;
    args.detail = "cancelled by " + who.id;
    Result<Task> cancelled = tasks_.Transition(id, args);
    if (cancelled.ok()) logger_.Info("task " + id + ": Pending -> Cancelled (" + args.detail + ")");
    if (cancelled.ok() || cancelled.status().code() != StatusCode::kFailedPrecondition) {
      return cancelled;
    }
    // A worker claimed it meanwhile: fall through to the Processing path.
    ASSIGN_OR_RETURN(task, GetOwned(who, id));
  }
  if (task.state == TaskState::kProcessing) {
    ASSIGN_OR_RETURN(Task flagged, tasks_.RequestCancel(id, now));
    scheduler_.Cancel(id);
    return flagged;
  }
  return FailedPrecondition("export " + id + " is already " +
                            std::string(TaskStateName(task.state)));
}

Status ExportService::DeleteFiles(const Principal& who, const std::string& id) {
  ASSIGN_OR_RETURN(Task task, GetOwned(who, id));
  if (!IsTerminal(task.state)) {
    return FailedPrecondition("export " + id + " is " + std::string(TaskStateName(task.state)) +
                              "; cancel it first");
  }
  RETURN_IF_ERROR(objects_.DeleteAll(id));
  Result<Task> replaced = tasks_.ReplaceFiles(id, {}, "files_deleted", clock_.Now());
  return replaced.ok() ? Status::Ok() : replaced.status();
}

Result<std::vector<TaskEvent>> ExportService::Events(const Principal& who,
                                                     const std::string& id) {
  RETURN_IF_ERROR(GetOwned(who, id).status());
  return tasks_.Events(id);
}

Result<FileInfo> ExportService::DownloadableFile(const std::string& id,
                                                 const std::string& name) {
  Result<Task> task = tasks_.Get(id);
  if (!task.ok() || task->state != TaskState::kSucceeded) return NotFound("no such file");
  for (const FileInfo& f : task->files) {
    if (f.name == name) return f;
  }
  if (task->manifest && task->manifest->name == name) return *task->manifest;
  return NotFound("no such file");
}

void ExportService::RecordDownload(const std::string& id, const std::string& detail) {
  TaskEvent event;
  event.task_id = id;
  event.at = clock_.Now();
  event.type = "download";
  event.detail = detail;
  (void)tasks_.AppendEvent(event);
}

}  // namespace exportd
