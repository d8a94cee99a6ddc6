#include "core/scheduler.h"

#include <algorithm>
#include <cmath>

#include "core/export_window.h"
#include "core/log_context.h"
#include "core/source.h"
#include "core/task_metrics_json.h"
#include "core/time_format.h"

namespace exportd {

Millis RetryDelay(const SchedulerOptions& options, int attempt, double jitter) {
  double base = double(options.retry_base_delay.count());
  double delay = base * std::pow(2.0, std::max(0, attempt - 1));
  delay = std::min(delay, double(options.retry_max_delay.count()));
  return Millis(static_cast<int64_t>(delay * std::clamp(jitter, 0.5, 1.0)));
}

// Bridges one running export to the scheduler: heartbeats (progress + lease renewal) about
// once per interval, records each committed file with its checkpoint, throttles to
// max_rows_per_second, and turns a cancel request, a lost lease or the end of a drain into a
// stop. Used by one worker thread.
class Scheduler::Control final : public ExportControl {
 public:
  Control(Scheduler& scheduler, const Task& task, std::shared_ptr<Run> run)
      : scheduler_(scheduler),
        task_(task),
        run_(std::move(run)),
        key_{scheduler.options_.instance_id, task.attempts, task.recoveries},
        interval_(
            std::min<Millis>(scheduler.options_.progress_interval, scheduler.options_.lease / 3)),
        started_(scheduler.clock_.Now()),
        last_persist_(started_),
        lease_deadline_(task.lease ? task.lease->expires_at : started_ + scheduler.options_.lease),
        checkpoint_(task.checkpoint) {}

  Status OnProgress(const Progress& progress) override {
    RETURN_IF_ERROR(CheckStop());
    last_progress_ = progress;
    TimePoint now = scheduler_.clock_.Now();
    if (now - last_persist_ >= interval_ || !persisted_total_) {
      RETURN_IF_ERROR(Persist(progress, now));
    }
    return Throttle(progress.rows);
  }

  Status BeforeCommit() override {
    RETURN_IF_ERROR(CheckStop());
    // A worker that was frozen past its lease may have been replaced: it must prove it still
    // holds the task before publishing anything.
    TimePoint now = scheduler_.clock_.Now();
    if (now >= lease_deadline_) RETURN_IF_ERROR(Persist(std::nullopt, now));
    return Status::Ok();
  }

  Status OnFileCommitted(const FileInfo& file, const Checkpoint& next) override {
    TimePoint now = scheduler_.clock_.Now();
    Result<Task> saved = scheduler_.tasks_.CommitFile(task_.id, key_, file, next, now);
    if (!saved.ok()) {
      if (saved.status().code() == StatusCode::kAborted) return LoseLease(saved.status());
      return saved.status().WithContext("recording " + file.name);
    }
    checkpoint_ = next;
    Learn(*saved);
    // Draining or pausing: this checkpoint is where the export stops.
    if (scheduler_.stop_flag_.load()) return Aborted("exportd is shutting down (drained)");
    if (run_->pause.load() && !run_->cancel.load()) return Aborted("paused");
    return CheckStop();
  }

  bool cancel_requested() const { return run_->cancel.load(); }
  bool pause_requested() const { return run_->pause.load(); }
  bool lease_lost() const { return run_->lease_lost.load(); }
  const LeaseKey& key() const { return key_; }
  TimePoint started() const { return started_; }
  // The last checkpoint recorded (by this attempt or an earlier one).
  const std::optional<Checkpoint>& checkpoint() const { return checkpoint_; }

 private:
  Status CheckStop() const {
    if (run_->lease_lost.load()) return Aborted("lease lost");
    if (run_->cancel.load()) return Cancelled("export cancelled");
    if (scheduler_.DrainOver()) return Aborted("exportd is shutting down");
    return Status::Ok();
  }

  // The heartbeat: renews the lease and, when given, saves the progress; learns of a cancel
  // requested through the store (e.g. through another instance).
  Status Persist(const std::optional<Progress>& progress, TimePoint now) {
    last_persist_ = now;
    if (progress) persisted_total_ = progress->rows_total.has_value();
    Result<Task> stored =
        scheduler_.tasks_.Heartbeat(task_.id, key_, progress, now, scheduler_.options_.lease);
    if (stored.ok()) {
      lease_deadline_ = now + scheduler_.options_.lease;
      Learn(*stored);
    } else if (stored.status().code() == StatusCode::kAborted) {
      return LoseLease(stored.status());
    } else {
      scheduler_.logger_.Warn("task " + task_.id + ": heartbeat: " + stored.status().ToString());
      // Unable to renew, the lease runs out: from then on another instance may own the task.
      if (now >= lease_deadline_) {
        return LoseLease(
            Aborted("could not renew the lease before it expired: " + stored.status().ToString()));
      }
    }
    return CheckStop();
  }

  // Takes in the requests made through the store (e.g. through another instance).
  void Learn(const Task& stored) {
    if (stored.cancel_requested) run_->cancel.store(true);
    if (stored.pause_requested) run_->pause.store(true);
  }

  Status LoseLease(const Status& why) {
    run_->lease_lost.store(true);
    scheduler_.logger_.Warn("task " + task_.id + ": stopping, " + why.message());
    return Aborted(why.message());
  }

  // Sleeps in short slices so a cancel or a stop is still noticed quickly; keeps the lease
  // renewed through a long wait.
  Status Throttle(int64_t rows) {
    int64_t rate = scheduler_.options_.max_rows_per_second;
    if (rate <= 0) return Status::Ok();
    const int64_t rows_before = task_.checkpoint ? task_.checkpoint->rows : 0;
    auto due = started_ + std::chrono::microseconds((rows - rows_before) * 1'000'000 / rate);
    for (;;) {
      TimePoint now = scheduler_.clock_.Now();
      if (now >= due) return Status::Ok();
      if (now - last_persist_ >= interval_) RETURN_IF_ERROR(Persist(last_progress_, now));
      auto slice = std::min<std::chrono::nanoseconds>(due - now, Millis(50));
      std::this_thread::sleep_for(slice);
      RETURN_IF_ERROR(CheckStop());
    }
  }

  Scheduler& scheduler_;
  const Task& task_;
  std::shared_ptr<Run> run_;
  const LeaseKey key_;
  const Millis interval_;
  const TimePoint started_;
  TimePoint last_persist_;
  TimePoint lease_deadline_;  // on clock_: until then the lease is ours without asking
  bool persisted_total_ = false;
  std::optional<Progress> last_progress_;
  std::optional<Checkpoint> checkpoint_;
};

Scheduler::Scheduler(TaskStore& tasks, const DatasetCatalog& datasets, ObjectStore& objects,
                     const Clock& clock, Logger& logger, SchedulerOptions options)
    : tasks_(tasks),
      datasets_(datasets),
      objects_(objects),
      clock_(clock),
      logger_(logger),
      options_(options),
      telemetry_(options.telemetry != nullptr ? *options.telemetry : NoTelemetry()) {}

Scheduler::~Scheduler() { Stop(); }

Status Scheduler::Start() {
  // Checked before recovering: a second Start() must not put this process's running exports
  // back to Pending (another worker would then run them a second time).
  std::lock_guard<std::mutex> lock(mu_);
  if (!threads_.empty() || stopping_) return FailedPrecondition("scheduler already started");
  ASSIGN_OR_RETURN(std::vector<std::string> recovered,
                   tasks_.RecoverProcessing(clock_.Now(), options_.instance_id));
  for (const std::string& id : recovered) {
    logger_.Info("task " + id + ": Processing -> Pending (recovered after restart)");
  }
  if (!recovered.empty()) {
    telemetry_.TasksRecovered("restart", static_cast<int64_t>(recovered.size()));
  }
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    threads_.emplace_back([this] { WorkerLoop(); });
  }
  return Status::Ok();
}

void Scheduler::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++wake_seq_;
  }
  wake_cv_.notify_all();
}

bool Scheduler::Cancel(const std::string& task_id) { return Flag(task_id, &Run::cancel); }

bool Scheduler::Pause(const std::string& task_id) { return Flag(task_id, &Run::pause); }

bool Scheduler::Flag(const std::string& task_id, std::atomic<bool> Run::*flag) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(task_id);
  if (it == runs_.end()) return false;
  ((*it->second).*flag).store(true);
  return true;
}

void Scheduler::Stop(Millis drain) {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t deadline = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 (std::chrono::steady_clock::now() + drain).time_since_epoch())
                                 .count();
    if (!stop_flag_.load() || deadline < drain_deadline_ns_.load()) {
      drain_deadline_ns_.store(deadline);
    }
    stopping_ = true;
    stop_flag_.store(true);
    threads.swap(threads_);
    if (!runs_.empty() && drain > Millis(0)) {
      logger_.Info("draining " + std::to_string(runs_.size()) +
                   " running exports to their next checkpoint (at most " +
                   std::to_string(drain.count()) + " ms)");
    }
  }
  wake_cv_.notify_all();
  for (std::thread& t : threads) t.join();
}

bool Scheduler::DrainOver() const {
  if (!stop_flag_.load()) return false;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  return now >= drain_deadline_ns_.load();
}

int Scheduler::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(runs_.size());
}

void Scheduler::WorkerLoop() {
  for (;;) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      seen = wake_seq_;
    }
    Result<std::optional<Task>> claimed = Status(StatusCode::kInternal, "unset");
    Result<std::optional<TimePoint>> next_wakeup = std::optional<TimePoint>();
    {
      // Reading the clock and claiming under one lock keeps started_at in claim (FIFO) order
      // across this process's workers.
      std::lock_guard<std::mutex> claim_lock(claim_mu_);
      const TimePoint now = clock_.Now();
      // Tasks whose owner stopped renewing go back to the queue first, in their FIFO place.
      Result<std::vector<std::string>> expired = tasks_.ExpireLeases(now);
      if (!expired.ok()) {
        logger_.Error("expiring leases failed: " + expired.status().ToString());
      } else {
        for (const std::string& id : *expired) {
          logger_.Warn("task " + id + ": Processing -> Pending (lease expired)");
        }
        if (!expired->empty()) telemetry_.LeasesExpired(static_cast<int64_t>(expired->size()));
      }
      claimed = tasks_.ClaimNext(now, options_.instance_id, options_.lease);
      // Asked at the same instant as the claim: a retry that became due between a later
      // clock reading and this claim would otherwise be neither claimed nor waited for.
      if (claimed.ok() && !claimed->has_value()) next_wakeup = tasks_.NextWakeup(now);
    }
    if (claimed.ok() && claimed->has_value()) {
      const Task& task = **claimed;
      logger_.Info(
          "task " + task.id + ": Pending -> Processing (attempt " + std::to_string(task.attempts) +
          (task.checkpoint ? ", resuming at file " + std::to_string(task.checkpoint->next_file)
                           : std::string()) +
          ")");
      RunTask(task);
      continue;
    }
    std::optional<TimePoint> wake_at;
    if (!claimed.ok()) {
      logger_.Error("claiming a task failed: " + claimed.status().ToString());
      wake_at = clock_.Now() + Millis(1000);
    } else {
      if (next_wakeup.ok()) {
        wake_at = *next_wakeup;
      } else {
        logger_.Error("reading the next wake-up failed: " + next_wakeup.status().ToString());
        wake_at = clock_.Now() + Millis(1000);
      }
    }
    if (options_.idle_poll) {
      const TimePoint poll_at = clock_.Now() + *options_.idle_poll;
      if (!wake_at || *wake_at > poll_at) wake_at = poll_at;
    }
    std::unique_lock<std::mutex> lock(mu_);
    auto woken = [&] { return stopping_ || wake_seq_ != seen; };
    if (wake_at) {
      // The retry time is on the task store's clock; waiting on the system clock is right for
      // the real Clock and merely early for a fake one (the worker then looks again).
      auto wait = std::max<std::chrono::nanoseconds>(*wake_at - clock_.Now(), Millis(1));
      wake_cv_.wait_for(lock, wait, woken);
    } else {
      wake_cv_.wait(lock, woken);
    }
  }
}

void Scheduler::RunTask(const Task& task) {
  const ScopedLogTask log_task(task.id);
  auto run = std::make_shared<Run>();
  run->cancel.store(task.cancel_requested);
  run->pause.store(task.pause_requested);
  {
    std::lock_guard<std::mutex> lock(mu_);
    runs_[task.id] = run;
  }
  Status status;
  std::optional<ExportOutcome> outcome;
  Control control(*this, task, run);
  const DatasetCatalog::Entry* entry = datasets_.Find(task.request.dataset);
  if (task.kind == TaskKind::kImport) {
    std::optional<ImportOutcome> imported;
    std::vector<ImportErrorDetail> details;
    if (entry == nullptr) {
      status = FailedPrecondition("dataset '" + task.request.dataset + "' is no longer configured");
    } else if (options_.imports == nullptr) {
      status = FailedPrecondition("this exportd does not run imports");
    } else if (stop_flag_.load()) {
      status = Aborted("exportd is shutting down");
    } else {
      Result<ImportOutcome> result =
          options_.imports->Run(task, *entry->dataset, control, &details);
      if (result.ok()) {
        imported = *result;
      } else {
        status = result.status();
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      runs_.erase(task.id);
    }
    Finish(task, status, nullptr, control, imported ? &*imported : nullptr, std::move(details));
    return;
  }
  if (entry == nullptr) {
    status = FailedPrecondition("dataset '" + task.request.dataset + "' is no longer configured");
  } else if (stop_flag_.load()) {
    // Claimed while Stop() was being called: back to the queue untouched.
    status = Aborted("exportd is shutting down");
  } else {
    // The files of the checkpoint stay; whatever else an earlier attempt left (a file
    // committed after the last checkpoint, a partial file, a manifest) is removed.
    if (task.checkpoint) {
      std::vector<std::string> keep;
      for (const FileInfo& f : task.files) keep.push_back(f.name);
      status = objects_.DeleteExcept(task.id, keep);
    } else {
      status = objects_.DeleteAll(task.id);
    }
    Result<Task> windowed = task;
    if (status.ok()) {
      windowed = EnsureWindow(task, *entry, control.key());
      status = windowed.status();
    }
    if (status.ok()) {
      Result<ExportOutcome> result = RunExport(*windowed, *entry->dataset, *entry->source, objects_,
                                               control, clock_.Now(), options_.threads_per_export);
      if (result.ok()) {
        outcome = std::move(result).value();
      } else {
        status = result.status();
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    runs_.erase(task.id);
  }
  Finish(task, status, outcome ? &*outcome : nullptr, control);
}

Result<Task> Scheduler::EnsureWindow(const Task& task, const DatasetCatalog::Entry& entry,
                                     const LeaseKey& key) {
  const ExportRequest& request = task.request;
  if (task.window || !NeedsWindow(request)) return task;
  const DatasetSpec& spec = entry.dataset->spec();
  if (options_.time_zones == nullptr || (request.incremental && options_.watermarks == nullptr)) {
    return FailedPrecondition("this exportd cannot run incremental or daily/hourly exports");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const TimeZone> zone,
                   options_.time_zones->Find(request.time_zone.value_or(
                       spec.time_zone.value_or(std::string(kUtcZoneName)))));
  const TimePoint now = clock_.Now();
  TimePoint until = request.until.value_or(
      DefaultUntil(request.export_type, now, std::chrono::seconds(spec.settle_seconds), *zone));
  // Stored with millisecond precision: the window's end becomes the watermark exactly.
  until = FromUnixMillis(ToUnixMillis(until));
  TaskWindow window{.until = until, .partitions = {}};
  if (request.incremental) {
    WatermarkMap marks;
    ASSIGN_OR_RETURN(std::vector<Watermark> stored,
                     options_.watermarks->ListWatermarks(request.dataset));
    for (const Watermark& w : stored) marks[w.partition] = w.watermark;
    std::vector<std::string> partitions;
    if (request.partitions.empty()) {
      ASSIGN_OR_RETURN(partitions, entry.source->Partitions());
    }
    window = IncrementalWindow(request, until, IncrementalScope(request, partitions, marks), marks,
                               *zone);
  }
  return tasks_.FixWindow(task.id, key, window, now);
}

namespace {

// How a run ended, as Telemetry::ExportRunEnded names it.
std::string_view RunOutcome(Trigger trigger) {
  switch (trigger) {
    case Trigger::kSucceed:
      return "succeeded";
    case Trigger::kFail:
      return "failed";
    case Trigger::kRetry:
      return "retry";
    case Trigger::kCancel:
      return "cancelled";
    case Trigger::kPause:
      return "paused";
    case Trigger::kRecover:
      return "interrupted";
    default:
      return "other";
  }
}

std::string ResumeNote(const std::optional<Checkpoint>& checkpoint) {
  if (!checkpoint) return "will run again from the start";
  return "resumes at file " + std::to_string(checkpoint->next_file) + " after " +
         std::to_string(checkpoint->rows) + " rows";
}

}  // namespace

void Scheduler::Finish(const Task& task, const Status& status, const ExportOutcome* outcome,
                       const Control& control, const ImportOutcome* import,
                       std::vector<ImportErrorDetail> details) {
  auto run_seconds = [&](TimePoint end) {
    return std::chrono::duration<double>(end - control.started()).count();
  };
  if (control.lease_lost()) {
    // Someone else owns the task now (or will once it expires): no transition, no deletion.
    telemetry_.ExportRunEnded(task.request.dataset, "lease_lost", run_seconds(clock_.Now()));
    logger_.Warn("task " + task.id + ": attempt " + std::to_string(task.attempts) +
                 " stopped without its lease (" + status.ToString() + ")");
    return;
  }
  TransitionArgs args;
  args.now = clock_.Now();
  args.expect_state = TaskState::kProcessing;
  args.expect_lease = control.key();
  args.origin.actor = options_.instance_id;
  bool remove_files = false;
  if (control.cancel_requested()) {
    args.trigger = Trigger::kCancel;
    args.detail = "cancelled while Processing";
    remove_files = true;
  } else if (status.ok() && import != nullptr) {
    args.trigger = Trigger::kSucceed;
    args.import_counts = import->counts;
    args.import_bytes = import->bytes;
    args.detail = std::to_string(import->counts.rows_inserted) + " rows inserted, " +
                  std::to_string(import->counts.rows_skipped) + " skipped, " +
                  std::to_string(import->counts.rows_replaced) + " replaced";
  } else if (status.ok() && outcome != nullptr) {
    args.trigger = Trigger::kSucceed;
    args.files = outcome->files;
    args.manifest = outcome->manifest;
    args.metrics = outcome->metrics;
    int64_t rows = 0;
    for (const FileInfo& f : outcome->files) rows += f.rows;
    args.detail =
        std::to_string(outcome->files.size()) + " files, " + std::to_string(rows) + " rows";
  } else if (control.pause_requested() && status.code() == StatusCode::kAborted) {
    // Stopped at a checkpoint for the pause (or, drained meanwhile, for the shutdown: the
    // pause wins, the task waits to be resumed rather than recovered).
    args.trigger = Trigger::kPause;
    args.detail = "paused while Processing; " + ResumeNote(control.checkpoint());
  } else if (stop_flag_.load() && status.code() == StatusCode::kAborted) {
    args.trigger = Trigger::kRecover;
    args.detail = "interrupted: " + status.message() + "; " + ResumeNote(control.checkpoint());
  } else {
    bool transient = IsTransient(status.code());
    TaskError error{std::string(StatusCodeName(status.code())), status.message(), transient};
    error.details = std::move(details);
    args.error = error;
    if (transient && task.attempts < task.max_attempts) {
      args.trigger = Trigger::kRetry;
      Millis delay = NextRetryDelay(task.attempts);
      args.not_before = args.now + delay;
      args.detail = "attempt " + std::to_string(task.attempts) + " failed (" + status.ToString() +
                    "); retry in " + std::to_string(delay.count()) + " ms; " +
                    ResumeNote(control.checkpoint());
    } else {
      args.trigger = Trigger::kFail;
      args.detail = status.ToString();
      remove_files = true;
    }
  }
  // Recorded before the files go: a crash in between leaves unlisted files of a finished task
  // (debris), never a checkpoint that lists files which are gone.
  Result<Task> saved = tasks_.Transition(task.id, args);
  if (!saved.ok()) {
    logger_.Error("task " + task.id + ": recording " + std::string(TriggerName(args.trigger)) +
                  " failed: " + saved.status().ToString());
    return;
  }
  if (remove_files) {
    // The transition recorded files_to_remove: until FilesRemoved clears it, the retention
    // janitor retries the removal (also after a restart).
    Status removed = objects_.DeleteAll(task.id);
    if (removed.ok()) removed = tasks_.FilesRemoved(task.id);
    if (!removed.ok()) {
      logger_.Warn("task " + task.id +
                   ": removing files (the retention janitor retries): " + removed.ToString());
    }
  }
  logger_.Info("task " + task.id + ": Processing -> " + std::string(TaskStateName(saved->state)) +
               (args.detail.empty() ? "" : " (" + args.detail + ")"));
  telemetry_.ExportRunEnded(task.request.dataset, RunOutcome(args.trigger), run_seconds(args.now));
  if (args.trigger == Trigger::kRetry) telemetry_.RetryScheduled(args.error->code);
  if (args.trigger == Trigger::kRecover) telemetry_.TasksRecovered("shutdown", 1);
  if (IsTerminal(saved->state) && task.kind == TaskKind::kImport && options_.imports != nullptr) {
    Status removed = options_.imports->RemoveUpload(task.id);
    if (!removed.ok())
      logger_.Warn("task " + task.id + ": removing the upload: " + removed.ToString());
  }
  if (saved->state == TaskState::kSucceeded && task.kind == TaskKind::kExport) {
    int64_t bytes = 0;
    for (const FileInfo& f : saved->files) bytes += f.bytes;
    telemetry_.ExportSucceeded(task.request.dataset, saved->progress.rows, bytes);
    rows_exported_ += saved->progress.rows;
    // One line an operator can compare night by night to spot data loss.
    if (saved->metrics) {
      logger_.Info("task " + task.id + " metrics " + TaskMetricsJson(*saved->metrics));
    }
  }
  if (IsTerminal(saved->state) && options_.on_terminal) options_.on_terminal(*saved);
  if (saved->state == TaskState::kPending) Wake();  // other workers recompute their wake-up time
}

Millis Scheduler::NextRetryDelay(int attempt) {
  double jitter;
  {
    std::lock_guard<std::mutex> lock(mu_);
    jitter = std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
  }
  return RetryDelay(options_, attempt, jitter);
}

}  // namespace exportd
