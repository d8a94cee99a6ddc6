// RetentionJanitor: deletes the files of finished tasks once their retention has run out.
//
// Each run asks the TaskStore for terminal tasks whose files_expire_at has passed and that still
// list files or a manifest, deletes each one's objects (ObjectStore::DeleteAll: any store) and
// only then records it (TaskRecords::ReplaceFiles(id, {}, "expired", now)). That order is the
// crash-safe one: a crash in between leaves a task that is listed again and whose (already
// deleted) objects delete again as a no-op; the reverse order could lose track of objects that
// then live forever. A failed delete is logged and the task stays listed, so the next run
// retries it.
//
// The same runs remove what failed and cancelled tasks left behind: the scheduler deletes their
// objects right after the transition, which records files_to_remove in the same transaction; a
// delete that fails there (or a crash before it) leaves the flag set, the store lists the task
// at once, and each run retries DeleteAll until it succeeds and FileRetention::FilesRemoved clears
// the flag (no event: the task's files were already gone from its record).
#ifndef EXPORTD_CORE_RETENTION_JANITOR_H_
#define EXPORTD_CORE_RETENTION_JANITOR_H_

#include <chrono>
#include <cstdint>
#include <mutex>

#include "core/clock.h"
#include "core/file_retention.h"
#include "core/logger.h"
#include "core/object_store.h"
#include "core/status.h"
#include "core/task_records.h"
#include "core/wakeable_thread.h"

namespace exportd {

struct RetentionJanitorOptions {
  std::chrono::milliseconds interval{60'000};  // between runs (measured on the steady clock)
  int batch = 100;                             // tasks asked for per store query
};

struct JanitorRunStats {
  int expired = 0;  // tasks whose files were deleted and recorded
  int removed = 0;  // failed or cancelled tasks whose leftover files were removed
  int failed = 0;   // tasks left for the next run
};

// Thread-safe: RunOnce may be called from any thread, also while the background thread runs
// (runs are serialised). The referenced objects must outlive the janitor.
class RetentionJanitor {
 public:
  // `tasks` and `retention` are usually one TaskStore.
  RetentionJanitor(TaskRecords& tasks, FileRetention& retention, ObjectStore& objects,
                   const Clock& clock, Logger& logger, RetentionJanitorOptions options);
  ~RetentionJanitor() { Stop(); }
  RetentionJanitor(const RetentionJanitor&) = delete;
  RetentionJanitor& operator=(const RetentionJanitor&) = delete;

  // One pass over every expired task, in batches, at clock.Now(). Stops early (the rest waits
  // for the next run) when a batch had a failure, so that a store that keeps failing is not
  // asked again and again within one run, and when Stop() is called.
  JanitorRunStats RunOnce();

  // Starts the background thread: a run at once, then one every interval. At most once.
  void Start();
  // Wakes the thread and joins it; a run in progress finishes its current task first. Idempotent.
  void Stop() { thread_.Stop(); }

 private:
  // One run of the background thread; how long to sleep after it.
  std::chrono::milliseconds Pass();
  bool stopping() const { return thread_.stopping(); }

  TaskRecords& tasks_;
  FileRetention& retention_;
  ObjectStore& objects_;
  const Clock& clock_;
  Logger& logger_;
  const RetentionJanitorOptions options_;

  std::mutex run_mu_;  // serialises RunOnce
  WakeableThread thread_;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_RETENTION_JANITOR_H_
