#include "core/retention_janitor.h"

#include <string>
#include <vector>

namespace exportd {

RetentionJanitor::RetentionJanitor(TaskRecords& tasks, FileRetention& retention,
                                   ObjectStore& objects, const Clock& clock, Logger& logger,
                                   RetentionJanitorOptions options)
    : tasks_(tasks),
      retention_(retention),
      objects_(objects),
      clock_(clock),
      logger_(logger),
      options_(options) {}

JanitorRunStats RetentionJanitor::RunOnce() {
  std::lock_guard<std::mutex> run_lock(run_mu_);
  JanitorRunStats stats;
  const TimePoint now = clock_.Now();
  for (;;) {
    Result<std::vector<std::string>> ids = retention_.ListExpiredFiles(now, options_.batch);
    if (!ids.ok()) {
      logger_.Error("retention: cannot list expired exports: " + ids.status().ToString());
      ++stats.failed;
      return stats;
    }
    int batch_failures = 0;
    for (const std::string& id : *ids) {
      if (stopping()) return stats;
      Result<Task> task = tasks_.Get(id);
      if (!task.ok()) {
        logger_.Warn("retention: task " + id +
                     ": cannot read it (retried next run): " + task.status().ToString());
        ++batch_failures;
        continue;
      }
      // A failed or cancelled task whose objects could not be removed when it ended.
      const bool leftovers = task->files_to_remove;
      // Objects first, then the record (see the header): never a record that says "expired"
      // while objects remain unaccounted for.
      Status deleted = objects_.DeleteAll(id);
      if (!deleted.ok()) {
        logger_.Warn("retention: task " + id + ": deleting " +
                     (leftovers
                          ? "the files of a " + std::string(TaskStateName(task->state)) + " task"
                          : std::string("expired files")) +
                     " failed (retried next run): " + deleted.ToString());
        ++batch_failures;
        continue;
      }
      if (leftovers) {
        if (Status removed = retention_.FilesRemoved(id); !removed.ok()) {
          logger_.Warn("retention: task " + id + ": files removed but not recorded (retried " +
                       "next run): " + removed.ToString());
          ++batch_failures;
          continue;
        }
        logger_.Info("task " + id + ": files left by the " +
                     std::string(TaskStateName(task->state)) + " task removed");
        ++stats.removed;
        continue;
      }
      Result<Task> recorded = tasks_.ReplaceFiles(id, {}, "expired", now,
                                                  EventOrigin{std::string(kHousekeepingActor), ""});
      if (!recorded.ok()) {
        logger_.Warn(
            "retention: task " + id +
            ": files deleted but not recorded (retried next run): " + recorded.status().ToString());
        ++batch_failures;
        continue;
      }
      logger_.Info("task " + id + ": files expired and deleted");
      ++stats.expired;
    }
    stats.failed += batch_failures;
    // A short batch was the last one. After a failure the same ids would come back first, so
    // the rest waits for the next run.
    if (batch_failures > 0 || ids->size() < static_cast<size_t>(options_.batch)) return stats;
  }
}

void RetentionJanitor::Start() {
  thread_.Start([this] { return Pass(); });
}

std::chrono::milliseconds RetentionJanitor::Pass() {
  JanitorRunStats stats = RunOnce();
  if (stats.expired > 0 || stats.removed > 0 || stats.failed > 0) {
    logger_.Info("retention: " + std::to_string(stats.expired) + " export(s) expired, " +
                 std::to_string(stats.removed) + " failed or cancelled export(s) cleaned up, " +
                 std::to_string(stats.failed) + " left for the next run");
  }
  // The interval is measured on the steady clock: the janitor's pace is not domain time (a
  // test's fake clock decides what has expired, not how often the thread wakes).
  return options_.interval;
}

}  // namespace exportd
