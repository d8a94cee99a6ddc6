// The rules of a task's life outside its state machine: what a store records when a task is
// created, takes a cancel request, has its files replaced or removed, renews its lease, reports
// progress, or gives its idempotency key to a newer task. Pure functions next to
// ApplyTransition (core/task.h): a TaskStore loads the task, applies one of them, and saves what
// it returns (the task and its event) in one transaction, so that every store implements the
// same rules and only loads, saves and queries.
#ifndef EXPORTD_CORE_TASK_RULES_H_
#define EXPORTD_CORE_TASK_RULES_H_

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/notification.h"
#include "core/status.h"
#include "core/task.h"

namespace exportd {

// A new task and its "created" event (to Pending, caused by `origin`, at task.created_at).
// kInvalidArgument unless task.state is Pending.
Result<Transitioned> ApplyCreate(const Task& task, const EventOrigin& origin);

// Marks a Processing task's cancel_requested and returns its "cancel_requested" event.
// nullopt when it is already marked: nothing to save, no second event. kFailedPrecondition
// unless the task is Processing.
Result<std::optional<Transitioned>> ApplyCancelRequest(const Task& task, TimePoint now,
                                                       const EventOrigin& origin);

// Marks a Processing task's pause_requested and returns its "pause_requested" event; its worker
// then pauses it after the file it is writing (core/task.h). nullopt when it is already marked:
// nothing to save, no second event. kFailedPrecondition unless the task is Processing (a Pending
// task is paused at once by a kPause transition instead).
Result<std::optional<Transitioned>> ApplyPauseRequest(const Task& task, TimePoint now,
                                                      const EventOrigin& origin);

// Replaces a terminal task's files and returns an event of `event_type`. With no files left the
// manifest goes too (it would describe nothing); otherwise it stays. nullopt when the task has
// no files and no manifest and `files` is empty: nothing changes, nothing is recorded (so a
// DELETE and the retention janitor that both remove a task's files record one event between
// them). kFailedPrecondition unless the task is terminal.
Result<std::optional<Transitioned>> ApplyFileReplacement(const Task& task,
                                                         std::vector<FileInfo> files,
                                                         const std::string& event_type,
                                                         TimePoint now, const EventOrigin& origin);

// Renews the lease of a task running under `key` to now + `lease` and, if given, sets its
// progress (no event). Renews even a lease that has expired but that no one has taken yet.
// kAborted if the task is not Processing under `key` (CheckLease).
Result<Task> ApplyHeartbeat(const Task& task, const LeaseKey& key,
                            const std::optional<Progress>& progress, TimePoint now, Millis lease);

// Sets the progress of a Processing task (no event); nullopt for a task in another state: a late
// report from a worker whose task was cancelled or recovered must not change it.
std::optional<Task> ApplyProgress(const Task& task, const Progress& progress, TimePoint now);

// Takes the idempotency key from `previous` for the new task `next` (CreateTakingKey): the
// previous task without its key (everything else, updated_at included, as it was) and its
// "idempotency_key_released" event, dated next.created_at. kInvalidArgument if `next` has no
// key; kAlreadyExists if `previous` no longer holds next's (principal, key).
Result<Transitioned> ApplyKeyRelease(const Task& previous, const Task& next,
                                     const EventOrigin& origin);

// Records the window an export fixed when it first started (Task::window) on a task running
// under `key`, with a "window" event naming its end and partitions. nullopt when the task has a
// window already: it is fixed once, and a resumed or retried attempt keeps it. kAborted if the
// task is not Processing under `key`.
Result<std::optional<Transitioned>> ApplyWindow(const Task& task, const LeaseKey& key,
                                                const TaskWindow& window, TimePoint now);

// Clears files_to_remove once the objects of a failed or cancelled task are gone (no event);
// nullopt when it is not set.
std::optional<Task> ApplyFilesRemoved(const Task& task);

// The transition arguments of each store-driven transition, so that every store records the
// same events: a claim by `owner` (kStart, leased until now + lease), a recovery at the start of
// instance `owner` (kRecover), and a lease expiry (kLeaseExpired, by the housekeeping actor,
// naming the lost lease in its detail).
TransitionArgs ClaimArgs(TimePoint now, const std::string& owner, Millis lease);
TransitionArgs RecoverArgs(TimePoint now, const std::string& owner);
TransitionArgs LeaseExpiryArgs(const Task& task, TimePoint now);
// "lease of <owner> expired at <RFC 3339 time>" ("?" for what the task does not have).
std::string LeaseExpiredDetail(const Task& task);

// The deliveries a transition from `before` to `after` makes owed: the task's hooks (HooksOf,
// all pending) when it enters a terminal state, none otherwise. Stored in the transition's
// transaction so that a crash right after it cannot lose them.
std::vector<HookDelivery> DeliveriesOwed(const Task& before, const Task& after);

// When the retention janitor has objects of `task` to delete (TaskStore::ListExpiredFiles): at
// once (its finished_at) for a failed or cancelled task whose files_to_remove is set; at
// files_expire_at for a terminal task that still lists files or a manifest; nullopt otherwise.
std::optional<TimePoint> FilesDueAt(const Task& task);

}  // namespace exportd

#endif  // EXPORTD_CORE_TASK_RULES_H_
