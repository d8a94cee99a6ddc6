// Scheduler: a fixed pool of export workers fed in FIFO order from the TaskStore.
//
// Tasks start in creation order (the store's ClaimNext decides); at most `workers` run at once
// in this process. Workers sleep on a condition variable and wake on new work (Wake()), on the
// earliest retry time, or on Stop(); there is no polling loop.
//
// An attempt ends in one of: Succeeded; Cancelled (cancel requested; partial files removed);
// Pending again (a transient error with attempts left, after an exponential backoff with
// jitter; or an interrupted run at shutdown); Failed (a permanent error, or attempts spent).
#ifndef EXPORTD_CORE_SCHEDULER_H_
#define EXPORTD_CORE_SCHEDULER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/dataset.h"
#include "core/export_runner.h"
#include "core/logger.h"
#include "core/object_store.h"
#include "core/task.h"
#include "core/task_store.h"

namespace exportd {

struct SchedulerOptions {
  int workers = 3;
  Millis retry_base_delay{1000};
  Millis retry_max_delay{60000};
  // How often a running export persists its progress and looks for a cancel request made
  // through the store (e.g. by another instance).
  Millis progress_interval{1000};
  // Per export; 0 means unlimited. Protects a busy source.
  int64_t max_rows_per_second = 0;
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

  // Returns tasks left Processing by an earlier run to the queue, then starts the workers.
  Status Start();
  // Tells idle workers that a task may be ready.
  void Wake();
  // Asks the worker running `task_id` in this process to stop; it cancels the task within one
  // progress tick. Returns false if the task is not running here.
  bool Cancel(const std::string& task_id);
  // Stops the workers at a safe point and joins them; running exports are put back to Pending
  // so the next start runs them again. Idempotent.
  void Stop();
  // Number of exports running now.
  int running() const;
  // Rows written by exports that succeeded in this process since it started.
  int64_t rows_exported() const { return rows_exported_.load(); }

 private:
  struct Run {
    std::atomic<bool> cancel{false};
  };
  class Control;

  void WorkerLoop();
  void RunTask(const Task& task);
  void Finish(const Task& task, const Status& status, const ExportOutcome* outcome,
              bool cancel_requested);
  Millis NextRetryDelay(int attempt);

  TaskStore& tasks_;
  const DatasetCatalog& datasets_;
  ObjectStore& objects_;
  const Clock& clock_;
  Logger& logger_;
  const SchedulerOptions options_;

  std::mutex claim_mu_;  // serialises ClaimNext calls of this process's workers
  mutable std::mutex mu_;
  std::condition_variable wake_cv_;
  uint64_t wake_seq_ = 0;                              // guarded by mu_
  bool stopping_ = false;                              // guarded by mu_
  std::map<std::string, std::shared_ptr<Run>> runs_;  // guarded by mu_
  std::mt19937_64 rng_{std::random_device{}()};       // guarded by mu_
  std::atomic<bool> stop_flag_{false};
  std::atomic<int64_t> rows_exported_{0};
  std::vector<std::thread> threads_;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_SCHEDULER_H_
