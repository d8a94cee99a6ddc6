// Scheduler: a fixed pool of export workers fed in FIFO order from the TaskStore.
//
// Tasks start in creation order (the store's ClaimNext decides); at most `workers` run at once
// in this process. Workers sleep on a condition variable and wake on new work (Wake()), on the
// earliest retry time, or on Stop(); there is no polling loop.
//
// An attempt ends in one of: Succeeded; Cancelled (cancel requested; files removed); Paused
// (pause requested: after its next checkpoint, files and checkpoint kept, attempt given back);
// Pending again (a transient error with attempts left, after an exponential backoff with jitter; or
// a run interrupted by shutdown); Failed (a permanent error, or attempts spent; files removed).
// Pending again keeps the files committed so far and their checkpoint: the next attempt
// resumes after them, and removes only what an attempt left after its last checkpoint.
//
// Leases: each claim leases the task to this instance (options.instance_id) for
// options.lease; the running export renews it with its progress heartbeat. Before each claim a
// worker returns tasks whose lease has expired (their owner died or froze) to the queue, so
// instances sharing one store take over each other's work. A worker that learns it lost its
// lease stops at once without publishing another file and leaves the task alone (no
// transition, no deletion): it belongs to someone else now. The lease must therefore be
// longer than the longest pause between two rows of a source (e.g. its initial count).
#ifndef EXPORTD_CORE_SCHEDULER_H_
#define EXPORTD_CORE_SCHEDULER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/dataset.h"
#include "core/export_runner.h"
#include "core/imports/import_runner.h"
#include "core/logger.h"
#include "core/object_store.h"
#include "core/task.h"
#include "core/task_store.h"
#include "core/telemetry.h"
#include "core/time_zone.h"
#include "core/watermark_store.h"

namespace exportd {

struct SchedulerOptions {
  int workers = 3;
  // Threads that decode and format the rows of one export (RunExport's `threads`); 1 reads on
  // the worker's own thread.
  int threads_per_export = 1;
  Millis retry_base_delay{1000};
  Millis retry_max_delay{60000};
  // How often a running export persists its progress and looks for a cancel request made
  // through the store (e.g. by another instance).
  Millis progress_interval{1000};
  // Per export; 0 means unlimited. Protects a busy source.
  int64_t max_rows_per_second = 0;
  // Owner of the leases this scheduler takes: stable per data dir, so that after a restart
  // Start() takes back its own Processing tasks at once instead of waiting for their leases.
  std::string instance_id = "exportd";
  // How long a claim holds a task without renewal. A running export renews it at least every
  // third of it (and with every progress_interval).
  Millis lease{30000};
  // Called with each task this scheduler moves to a terminal state, after the transition is
  // stored and the files of a failed or cancelled task are removed. Runs on a worker thread:
  // must be quick and must not throw (e.g. NotificationDispatcher::OnTerminal, which queues).
  std::function<void(const Task&)> on_terminal;
  // Where an incremental export reads the watermarks of its dataset when it fixes its window,
  // and where exports find their time zone (export_type hourly/daily; DST-correct). Without
  // them such tasks fail permanently (kFailedPrecondition); plain exports need neither.
  WatermarkStore* watermarks = nullptr;
  const TimeZoneDb* time_zones = nullptr;
  // Where runs, retries, recoveries and lease expiries are counted (for /metrics); null: nowhere.
  Telemetry* telemetry = nullptr;
  // An idle worker looks at the store again at least this often, even when nothing it knows of
  // is due: for a store shared by several instances, where another instance may create a task or
  // an instance may die without a word to this one. nullopt: only when woken or when something
  // it knows of is due (one instance alone on its store).
  std::optional<Millis> idle_poll;
  // Runs the import tasks (TaskKind::kImport), which share the queue and the workers with the
  // exports. Without it an import fails permanently (kFailedPrecondition).
  ImportRunner* imports = nullptr;
};

// The delay before attempt `attempt + 1` after `attempt` failed (1-based): base * 2^(attempt-1),
// capped at max, scaled by `jitter` in [0.5, 1].
Millis RetryDelay(const SchedulerOptions& options, int attempt, double jitter);

// Thread-safe. The referenced objects must outlive the scheduler.
class Scheduler {
 public:
  Scheduler(TaskStore& tasks, const DatasetCatalog& datasets, ObjectStore& objects,
            const Clock& clock, Logger& logger, SchedulerOptions options);
  ~Scheduler();  // Stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Returns the tasks this instance left Processing (a crash, or a previous run that could not
  // record its shutdown) to the queue, then starts the workers.
  Status Start();
  // Tells idle workers that a task may be ready.
  void Wake();
  // Asks the worker running `task_id` in this process to stop; it cancels the task within one
  // progress tick. Returns false if the task is not running here.
  bool Cancel(const std::string& task_id);
  // Asks the worker running `task_id` in this process to pause it: the export stops after the
  // file it is writing is committed and checkpointed (no written row is lost, none is repeated)
  // and records kPause, keeping its files and checkpoint. A worker elsewhere learns of the
  // request (TaskRecords::RequestPause) at its next heartbeat or checkpoint. An export that
  // ends before its next checkpoint simply succeeds. Returns false if the task is not running
  // here.
  bool Pause(const std::string& task_id);
  // Graceful drain: claims nothing more; lets each running export go on until its next
  // checkpoint (a file committed and recorded) or until `drain` has passed, whichever comes
  // first, then stops it and puts its task back to Pending with its checkpoint (trigger
  // kRecover), so the next start resumes it; then joins the workers. `drain` is measured on
  // the steady clock. Stop() (no drain) stops at the next safe point. Idempotent; a second
  // call can shorten the drain.
  void Stop(Millis drain = Millis(0));
  // Number of exports running now.
  int running() const;
  // Rows written by exports that succeeded in this process since it started.
  int64_t rows_exported() const { return rows_exported_.load(); }

 private:
  struct Run {
    std::atomic<bool> cancel{false};
    std::atomic<bool> pause{false};       // stop after the next checkpoint, then kPause
    std::atomic<bool> lease_lost{false};  // then the task is left to its new owner
  };
  class Control;
  // The task with its window, fixed now and stored (TaskStore::FixWindow) if it needs one and
  // has none yet (NeedsWindow, core/export_window.h).
  Result<Task> EnsureWindow(const Task& task, const DatasetCatalog::Entry& entry,
                            const LeaseKey& key);

  // Sets `flag` of the run of `task_id` in this process; false if it does not run here.
  bool Flag(const std::string& task_id, std::atomic<bool> Run::*flag);
  void WorkerLoop();
  void RunTask(const Task& task);
  // `import` is set for an import that succeeded; `details` are a failed import's faults.
  void Finish(const Task& task, const Status& status, const ExportOutcome* outcome,
              const Control& control, const ImportOutcome* import = nullptr,
              std::vector<ImportErrorDetail> details = {});
  // Whether a running export must stop now because the drain is over.
  bool DrainOver() const;
  Millis NextRetryDelay(int attempt);

  TaskStore& tasks_;
  const DatasetCatalog& datasets_;
  ObjectStore& objects_;
  const Clock& clock_;
  Logger& logger_;
  const SchedulerOptions options_;
  Telemetry& telemetry_;

  std::mutex claim_mu_;  // serialises ClaimNext calls of this process's workers
  mutable std::mutex mu_;
  std::condition_variable wake_cv_;
  uint64_t wake_seq_ = 0;                             // guarded by mu_
  bool stopping_ = false;                             // guarded by mu_
  std::map<std::string, std::shared_ptr<Run>> runs_;  // guarded by mu_
  std::mt19937_64 rng_{std::random_device{}()};       // guarded by mu_
  std::atomic<bool> stop_flag_{false};                // Stop() was called: claim nothing more
  // Steady-clock nanoseconds after which running exports stop; valid once stop_flag_ is set.
  std::atomic<int64_t> drain_deadline_ns_{0};
  std::atomic<int64_t> rows_exported_{0};
  std::vector<std::thread> threads_;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_SCHEDULER_H_
