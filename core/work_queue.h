// WorkQueue: how workers of one or several instances take tasks from a TaskStore
// (core/task_store.h), hold them under a lease, commit files and report progress.
#ifndef EXPORTD_CORE_WORK_QUEUE_H_
#define EXPORTD_CORE_WORK_QUEUE_H_

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/task.h"

namespace exportd {

// The queue of Pending tasks and the leases of running ones. Thread-safe. Every method is
// atomic; a returned OK means the change is durable.
class WorkQueue {
 public:
  virtual ~WorkQueue() = default;

  // Leases. Several instances may share one store: each claim leases the task to its `owner`
  // until now + `lease`; the owner renews it with Heartbeat while it runs. A task whose lease
  // has expired is put back in the queue by ExpireLeases (whichever instance calls it), and
  // keeps its place in FIFO order. The events of ClaimNext, CommitFile and RecoverProcessing
  // name `owner` (the instance) as their actor; those of ExpireLeases name "exportd".

  // The oldest Pending task (creation order) whose not_before has passed and that does not wait
  // for an earlier incremental export (MustWaitForEarlierExport, core/export_window.h), moved to
  // Processing (trigger kStart) and leased to `owner`; nullopt if none is ready.
  virtual Result<std::optional<Task>> ClaimNext(TimePoint now, const std::string& owner,
                                                Millis lease) = 0;
  // The earliest time something may become claimable: the earliest not_before among Pending
  // tasks not ready at `now`, or the earliest lease expiry among Processing tasks after `now`.
  virtual Result<std::optional<TimePoint>> NextWakeup(TimePoint now) = 0;
  // Extends the lease of `id` to now + `lease` and, if `progress` is given, saves those counters
  // (no event). Returns the task as stored (callers look at cancel_requested). kAborted if the
  // task is not Processing under `key` any more: the caller must stop writing at once and must
  // not change the task.
  virtual Result<Task> Heartbeat(const std::string& id, const LeaseKey& key,
                                 const std::optional<Progress>& progress, TimePoint now,
                                 Millis lease) = 0;
  // Records a committed data file of a running task and where the next file starts
  // (ApplyCheckpoint): file, checkpoint, progress and a "checkpoint" event in one transaction.
  // kAborted if the lease is lost; kFailedPrecondition if `next` does not follow.
  virtual Result<Task> CommitFile(const std::string& id, const LeaseKey& key, const FileInfo& file,
                                  const Checkpoint& next, TimePoint now) = 0;
  // Moves every Processing task whose lease expires at or before `now` back to Pending (trigger
  // kLeaseExpired, event "lease_expired"), keeping files and checkpoint. Returns their ids.
  virtual Result<std::vector<std::string>> ExpireLeases(TimePoint now) = 0;
  // At the start of instance `owner`: moves the Processing tasks it held (and any without a
  // lease, left by a version without leases) back to Pending at once (trigger kRecover): the
  // instance restarted, so those runs are dead whatever their leases say. Tasks leased to other
  // instances are left to expire. Returns their ids.
  virtual Result<std::vector<std::string>> RecoverProcessing(TimePoint now,
                                                             const std::string& owner) = 0;

  // Records the window the running task `id` fixed at its first start (ApplyWindow): the window
  // and a "window" event in one transaction; the task as stored. A task that has a window keeps
  // it (no change, no event). kAborted if the lease is lost.
  virtual Result<Task> FixWindow(const std::string& id, const LeaseKey& key,
                                 const TaskWindow& window, TimePoint now) = 0;
  // Persists counters of a Processing task (no event). A task in another state is left alone.
  virtual Status UpdateProgress(const std::string& id, const Progress& progress, TimePoint now) = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_WORK_QUEUE_H_
