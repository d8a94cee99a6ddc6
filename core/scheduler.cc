#include "core/scheduler.h"

#include <algorithm>
#include <cmath>

#include "core/source.h"
#include "core/time_format.h"

namespace exportd {

Millis RetryDelay(const SchedulerOptions& options, int attempt, double jitter) {
  double base = double(options.retry_base_delay.count());
  double delay = base * std::pow(2.0, std::max(0, attempt - 1));
  delay = std::min(delay, double(options.retry_max_delay.count()));
  return Millis(static_cast<int64_t>(delay * std::clamp(jitter, 0.5, 1.0)));
}

// Bridges one running export to the scheduler: persists progress about once per interval,
// throttles to max_rows_per_second, and turns a cancel request or shutdown into a stop.
class Scheduler::Control final : public ExportControl {
 public:
  Control(Scheduler& scheduler, const Task& task, std::shared_ptr<Run> run)
      : scheduler_(scheduler), task_(task), run_(std::move(run)),
        started_(scheduler.clock_.Now()), last_persist_(started_) {}

  Status OnProgress(const Progress& progress) override {
    RETURN_IF_ERROR(CheckStop());
    TimePoint now = scheduler_.clock_.Now();
    if (now - last_persist_ >= scheduler_.options_.progress_interval || !persisted_total_) {
      RETURN_IF_ERROR(Persist(progress, now));
    }
    return Throttle(progress.rows);
  }

  bool cancel_requested() const { return run_->cancel.load(); }

 private:
  Status CheckStop() const {
    if (run_->cancel.load()) return Cancelled("export cancelled");
    if (scheduler_.stop_flag_.load()) return Aborted("exportd is shutting down");
    return Status::Ok();
  }

  Status Persist(const Progress& progress, TimePoint now) {
    last_persist_ = now;
    persisted_total_ = progress.rows_total.has_value();
    Status s = scheduler_.tasks_.UpdateProgress(task_.id, progress, now);
    if (!s.ok()) scheduler_.logger_.Warn("task " + task_.id + ": progress: " + s.ToString());
    // A cancel may have been requested through the store by someone who could not reach
    // this process's in-memory flag.
    Result<Task> stored = scheduler_.tasks_.Get(task_.id);
    if (stored.ok() && (stored->cancel_requested || stored->state != TaskState::kProcessing)) {
      run_->cancel.store(true);
    }
    return CheckStop();
  }

  // Sleeps in short slices so a cancel or a stop is still noticed quickly.
  Status Throttle(int64_t rows) {
    int64_t rate = scheduler_.options_.max_rows_per_second;
    if (rate <= 0) return Status::Ok();
    auto due = started_ + std::chrono::microseconds(rows * 1'000'000 / rate);
    for (;;) {
      TimePoint now = scheduler_.clock_.Now();
      if (now >= due) return Status::Ok();
      auto slice = std::min<std::chrono::nanoseconds>(due - now, Millis(50));
      std::this_thread::sleep_for(slice);
      RETURN_IF_ERROR(CheckStop());
    }
  }

  Scheduler& scheduler_;
  const Task& task_;
  std::shared_ptr<Run> run_;
  TimePoint started_;
  TimePoint last_persist_;
  bool persisted_total_ = false;
};

Scheduler::Scheduler(TaskStore& tasks, const DatasetCatalog& datasets, ObjectStore& objects,
                     const Clock& clock, Logger& logger, SchedulerOptions options)
    : tasks_(tasks), datasets_(datasets), objects_(objects), clock_(clock), logger_(logger),
      options_(options) {}

Scheduler::~Scheduler() { Stop(); }

Status Scheduler::Start() {
  // Checked before recovering: a second Start() must not put this process's running exports
  // back to Pending (another worker would then run them a second time).
  std::lock_guard<std::mutex> lock(mu_);
  if (!threads_.empty() || stopping_) return FailedPrecondition("scheduler already started");
  ASSIGN_OR_RETURN(std::vector<std::string> recovered, tasks_.RecoverProcessing(clock_.Now()));
  for (const std::string& id : recovered) {
    logger_.Info("task " + id + ": Processing -> Pending (recovered after restart)");
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

bool Scheduler::Cancel(const std::string& task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(task_id);
  if (it == runs_.end()) return false;
  it->second->cancel.store(true);
  return true;
}

void Scheduler::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    stop_flag_.store(true);
    threads.swap(threads_);
  }
  wake_cv_.notify_all();
  for (std::thread& t : threads) t.join();
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
    {
      // Reading the clock and claiming under one lock keeps started_at in claim (FIFO) order
      // across this process's workers.
      std::lock_guard<std::mutex> claim_lock(claim_mu_);
      claimed = tasks_.ClaimNext(clock_.Now());
    }
    if (claimed.ok() && claimed->has_value()) {
      const Task& task = **claimed;
      logger_.Info("task " + task.id + ": Pending -> Processing (attempt " +
                   std::to_string(task.attempts) + ")");
      RunTask(task);
      continue;
    }
    std::optional<TimePoint> wake_at;
    if (!claimed.ok()) {
      logger_.Error("claiming a task failed: " + claimed.status().ToString());
      wake_at = clock_.Now() + Millis(1000);
    } else {
      Result<std::optional<TimePoint>> next = tasks_.NextWakeup(clock_.Now());
      if (next.ok()) {
        wake_at = *next;
      } else {
        wake_at = clock_.Now() + Millis(1000);
      }
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
  auto run = std::make_shared<Run>();
  run->cancel.store(task.cancel_requested);
  {
    std::lock_guard<std::mutex> lock(mu_);
    runs_[task.id] = run;
  }
  Status status;
  std::optional<ExportOutcome> outcome;
  Control control(*this, task, run);
  const DatasetCatalog::Entry* entry = datasets_.Find(task.request.dataset);
  if (entry == nullptr) {
    status = FailedPrecondition("dataset '" + task.request.dataset + "' is no longer configured");
  } else {
    // A new attempt starts from nothing: whatever an earlier attempt left is removed.
    status = objects_.DeleteAll(task.id);
    if (status.ok()) {
      Result<ExportOutcome> result = RunExport(task, *entry->dataset, *entry->source, objects_,
                                               control, clock_.Now());
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
  Finish(task, status, outcome ? &*outcome : nullptr, control.cancel_requested());
}

void Scheduler::Finish(const Task& task, const Status& status, const ExportOutcome* outcome,
                       bool cancel_requested) {
  TransitionArgs args;
  args.now = clock_.Now();
  args.expect_state = TaskState::kProcessing;
  bool remove_files = true;
  if (cancel_requested) {
    args.trigger = Trigger::kCancel;
    args.detail = "cancelled while Processing";
  } else if (status.ok() && outcome != nullptr) {
    args.trigger = Trigger::kSucceed;
    args.files = outcome->files;
    args.manifest = outcome->manifest;
    int64_t rows = 0;
    for (const FileInfo& f : outcome->files) rows += f.rows;
    args.detail = std::to_string(outcome->files.size()) + " files, " + std::to_string(rows) +
                  " rows";
    remove_files = false;
  } else if (stop_flag_.load() && status.code() == StatusCode::kAborted) {
    args.trigger = Trigger::kRecover;
    args.detail = "interrupted by shutdown; will run again";
  } else {
    bool transient = IsTransient(status.code());
    TaskError error{std::string(StatusCodeName(status.code())), status.message(), transient};
    args.error = error;
    if (transient && task.attempts < task.max_attempts) {
      args.trigger = Trigger::kRetry;
      Millis delay = NextRetryDelay(task.attempts);
      args.not_before = args.now + delay;
      args.detail = "attempt " + std::to_string(task.attempts) + " failed (" + status.ToString() +
                    "); retry in " + std::to_string(delay.count()) + " ms";
    } else {
      args.trigger = Trigger::kFail;
      args.detail = status.ToString();
    }
  }
  if (remove_files) {
    Status removed = objects_.DeleteAll(task.id);
    if (!removed.ok()) {
      logger_.Warn("task " + task.id + ": removing partial files: " + removed.ToString());
    }
  }
  Result<Task> saved = tasks_.Transition(task.id, args);
  if (!saved.ok()) {
    logger_.Error("task " + task.id + ": recording " + std::string(TriggerName(args.trigger)) +
                  " failed: " + saved.status().ToString());
    return;
  }
  logger_.Info("task " + task.id + ": Processing -> " +
               std::string(TaskStateName(saved->state)) +
               (args.detail.empty() ? "" : " (" + args.detail + ")"));
  if (saved->state == TaskState::kSucceeded) rows_exported_ += saved->progress.rows;
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
