// Notifier: delivers one notification of a finished task over one channel (webhook, email).
// Implemented in storage/ (storage/notify/webhook_notifier.h, storage/notify/smtp_notifier.h).
#ifndef EXPORTD_CORE_NOTIFIER_H_
#define EXPORTD_CORE_NOTIFIER_H_

#include "core/notification.h"
#include "core/status.h"
#include "core/task.h"

namespace exportd {

// Thread-safe: the dispatcher calls Deliver from several threads at once.
class Notifier {
 public:
  virtual ~Notifier() = default;
  // One attempt to deliver `delivery` (a hook of the terminal `task`), blocking for at most the
  // notifier's own timeouts. OK once the receiver has accepted it; any error is retried by the
  // dispatcher until the attempts are spent.
  virtual Status Deliver(const Task& task, const HookDelivery& delivery) = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_NOTIFIER_H_
