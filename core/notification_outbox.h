// NotificationOutbox: the deliveries a TaskStore (core/task_store.h) owes for finished tasks,
// kept with the task so that a crash loses none (core/notification.h has their rules).
#ifndef EXPORTD_CORE_NOTIFICATION_OUTBOX_H_
#define EXPORTD_CORE_NOTIFICATION_OUTBOX_H_

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/task.h"

namespace exportd {

// A TaskRecords::Transition into a terminal state records the task's hooks (HooksOf) as pending
// deliveries in the same transaction (DeliveriesOwed); reads return them in Task::notifications.
// Thread-safe. Every method is atomic; a returned OK means the change is durable.
class NotificationOutbox {
 public:
  virtual ~NotificationOutbox() = default;

  // Saves the state of one delivery after an attempt (`delivery` as ApplyAttempt returned it)
  // and its "notification" event in one transaction. kNotFound if the task has no such hook.
  virtual Status RecordNotificationAttempt(const std::string& task_id, const HookDelivery& delivery,
                                           const TaskEvent& event) = 0;
  // Claims the pending delivery `hook` of `task_id` for `owner` until `until`, so that one
  // dispatcher among several sharing the store attempts it (one row update, atomic across
  // processes). Returns the delivery as stored if it is pending and either unclaimed, claimed by
  // `owner`, or claimed until a time <= `now` (its owner died or stalled); std::nullopt if it is
  // no longer pending or another owner's claim is still live. kNotFound if the task has no such
  // hook. A claim outlives RecordNotificationAttempt, so an owner keeps its retries; it ends when
  // it expires or the delivery leaves pending.
  virtual Result<std::optional<HookDelivery>> ClaimNotification(const std::string& task_id,
                                                                int hook, const std::string& owner,
                                                                TimePoint now, TimePoint until) = 0;
  // Terminal tasks with at least one pending delivery, oldest first, at most `limit` (>= 1),
  // skipping ids <= `after_id` (a cursor); for re-queueing at start-up and the periodic rescan.
  virtual Result<std::vector<Task>> PendingNotifications(int limit,
                                                         const std::string& after_id) = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_NOTIFICATION_OUTBOX_H_
