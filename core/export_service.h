// ExportService: the operations of the export API, free of HTTP. api/ calls only this.
#ifndef EXPORTD_CORE_EXPORT_SERVICE_H_
#define EXPORTD_CORE_EXPORT_SERVICE_H_

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/dataset.h"
#include "core/logger.h"
#include "core/object_store.h"
#include "core/principal.h"
#include "core/request.h"
#include "core/scheduler.h"
#include "core/status.h"
#include "core/task.h"
#include "core/task_store.h"
#include "core/time_zone.h"

namespace exportd {

// One request for a task's file through a pre-signed link, for the audit trail.
struct FileAccess {
  std::string file;
  std::optional<int64_t> bytes;  // sent to the client; nullopt when nothing was served
  // "completed", "interrupted", "not_modified", "denied" (bad or expired link), "gone",
  // "not_found", "failed" (the store could not serve it).
  std::string outcome;
  EventOrigin origin;
  std::string detail;
};

struct ServiceOptions {
  // The kind of task this service answers for: a task of another kind is kNotFound to every
  // method (an import's id under /v1/exports, an export's under /v1/imports), and List lists
  // this kind only. Imports have a service of their own (core/imports/import_service.h).
  TaskKind kind = TaskKind::kExport;
  int max_attempts = 3;
  // Per non-admin principal: at most this many tasks Pending or Processing at once; a Create
  // beyond it is kResourceExhausted. 0: no quota (the server's configured default is 10).
  int max_active_tasks = 0;
  // Refuses a webhook URL that will never be allowed (e.g. a loopback or private address
  // literal: SSRF guard), with the reason. Empty: no check here (delivery checks anyway).
  std::function<Status(const std::string& url)> check_webhook;
  std::chrono::seconds idempotency_window{24 * 3600};
  // A task's files live this long after it finishes unless the request asks otherwise, and a
  // request may ask for 1 s .. max_retention. REQUIRES: 1 s <= default_retention <= max_retention.
  std::chrono::seconds default_retention = kDefaultRetention;
  std::chrono::seconds max_retention{30 * 24 * 3600};
  // Whether email hooks can be delivered (an SMTP server is configured). When false, Create
  // refuses a request with email addresses (kInvalidArgument at /notify/email) rather than
  // accept a hook that can never fire.
  bool email_notifications = true;
  // CSV/TSV requests that do not say otherwise escape formula-like cells (ExportRequest).
  bool escape_formulas = false;
  // Called with each task Cancel moves to Cancelled at once (a Pending one), after the
  // transition is stored. Must be quick and must not throw (see SchedulerOptions::on_terminal).
  std::function<void(const Task&)> on_terminal;
};

struct CreateExportArgs {
  // As decoded (api/ or another front end); Create prepares it against its dataset
  // (PrepareRequest, core/request_prepare.h).
  ExportRequest request;
  std::optional<std::string> tag;
  Notify notify;
  std::optional<std::string> idempotency_key;
  std::optional<std::chrono::seconds> retention;  // nullopt: the deployment's default
  std::optional<bool> escape_formulas;            // nullopt: the deployment's default
  // A schedule's firing (CreateForSchedule): the schedule and the slot it fires for. Create
  // ignores them; the store refuses a second task for the same pair (kAlreadyExists).
  std::optional<std::string> schedule_id;
  std::optional<TimePoint> schedule_slot;
};

struct CreateExportResult {
  Task task;
  bool replayed = false;  // an earlier task with the same idempotency key and request
};

// Thread-safe. The referenced objects must outlive the service.
class ExportService {
 public:
  using Sha256HexFn = std::function<std::string(std::string_view)>;

  // `time_zones` checks the zone a request names (PrepareRequest).
  ExportService(TaskStore& tasks, const DatasetCatalog& datasets, ObjectStore& objects,
                Scheduler& scheduler, const Clock& clock, Logger& logger,
                const TimeZoneDb& time_zones, ServiceOptions options, Sha256HexFn sha256_hex);

  // Validates the request against its dataset (kInvalidArgument), stores a Pending task durably
  // and wakes the scheduler. With an idempotency key already used by this principal within the
  // window: the same request replays the original task; another request is kAlreadyExists.
  Result<CreateExportResult> Create(const Principal& who, CreateExportArgs args);
  // A schedule's firing: like Create, for the schedule's owner `owner` (a principal id; the
  // quota applies as to any non-admin), with args.schedule_id and args.schedule_slot recorded
  // in the task, and the "created" event caused by `origin`. Idempotency keys do not apply
  // (args.idempotency_key is ignored): (schedule, slot) is the key, and a second task for it
  // is kAlreadyExists with nothing stored. REQUIRES: args.schedule_id and args.schedule_slot.
  Result<Task> CreateForSchedule(const std::string& owner, CreateExportArgs args,
                                 const EventOrigin& origin);
  // The checks of Create without creating anything: kInvalidArgument with a pointer into the
  // create-export body, as Create would answer (a schedule's request template).
  Status Check(const CreateExportArgs& args) const;

  // kNotFound for unknown ids and for other principals' tasks.
  Result<Task> Get(const Principal& who, const std::string& id);
  // Task::revision of the task as stored now, with the access check of Get but without reading
  // the task: tells a caller holding a rendering of revision r whether it is still current.
  Result<int64_t> Revision(const Principal& who, const std::string& id);
  Result<TaskPage> List(const Principal& who, TaskListQuery query);
  // Pending or Paused: Cancelled at once. Processing: cancel_requested, Cancelled within a
  // progress tick. Terminal: kFailedPrecondition.
  Result<Task> Cancel(const Principal& who, const std::string& id);
  // Pending: Paused at once. Processing: pause_requested; its worker pauses it after the file it
  // is writing (core/task.h). Paused or terminal: kFailedPrecondition.
  Result<Task> Pause(const Principal& who, const std::string& id);
  // Paused: Pending again, in its FIFO place; the next run resumes after its last committed
  // file. Any other state: kFailedPrecondition.
  Result<Task> Resume(const Principal& who, const std::string& id);
  // Removes the files of a terminal task (the record stays; a "files_deleted" event unless it had
  // none left, e.g. after expiry). kFailedPrecondition otherwise.
  Status DeleteFiles(const Principal& who, const std::string& id);
  Result<std::vector<TaskEvent>> Events(const Principal& who, const std::string& id);

  // For a download whose link signature has been verified: the Succeeded task that lists
  // `name` (a data file or the manifest). kGone once the task's files have expired (also before
  // the janitor has deleted them) or were deleted; kNotFound otherwise.
  Result<FileInfo> DownloadableFile(const std::string& id, const std::string& name);
  // Appends a "download" event with the access's file, bytes, outcome and origin. A task that
  // does not exist records nothing (a forged link names any id).
  void RecordDownload(const std::string& id, const FileAccess& access);

  // Records an "access_denied" event (outcome "denied", detail: `action` and `reason`) on task
  // `id` for a request its caller's role does not allow (answered 403), so that a refused
  // cancel or delete leaves the same trail as a request for another principal's task. Records
  // nothing when there is no such task.
  void RecordRefusal(const Principal& who, const std::string& id, std::string_view action,
                     std::string_view reason);

  // The audit trail across every task (GET /v1/audit). kPermissionDenied unless `who` is an
  // admin; kInvalidArgument for a limit below 1.
  Result<EventPage> Audit(const Principal& who, const EventQuery& query);

  const DatasetCatalog& datasets() const { return datasets_; }

 private:
  // kNotFound for another principal's task, after recording an "access_denied" event on it
  // (detail: `action`): probing for other principals' tasks leaves a trail.
  Result<Task> GetOwned(const Principal& who, const std::string& id, std::string_view action);
  // Everything Create checks and fills before the task exists: the dataset, the prepared
  // request (with the deployment's escape_formulas default), notify targets and retention.
  Result<CreateExportArgs> Prepare(CreateExportArgs args) const;
  // Create, with the "created" event caused by `origin`.
  Result<CreateExportResult> CreateAs(const Principal& who, CreateExportArgs args,
                                      const EventOrigin& origin);
  // The access check of GetOwned, given the task's owner.
  Status CheckOwner(const Principal& who, const std::string& id, const std::string& owner,
                    std::string_view action);
  // kResourceExhausted when `who` already has options_.max_active_tasks tasks Pending or
  // Processing.
  Status CheckQuota(const Principal& who);

  TaskStore& tasks_;
  const DatasetCatalog& datasets_;
  ObjectStore& objects_;
  // Applies `trigger` to the task `id` if it is still in state `from` (what the caller read):
  // a client's at-once transition, recorded with `who` as its actor and "<done> by <who>" as
  // its detail.
  Result<Task> TransitionFrom(const Principal& who, const std::string& id, TaskState from,
                              Trigger trigger, TimePoint now, std::string_view done);

  Scheduler& scheduler_;
  const Clock& clock_;
  Logger& logger_;
  const TimeZoneDb& time_zones_;
  const ServiceOptions options_;
  Sha256HexFn sha256_hex_;
  std::mutex quota_mu_;  // held from counting a principal's tasks until its new one is stored
};

}  // namespace exportd

#endif  // EXPORTD_CORE_EXPORT_SERVICE_H_
