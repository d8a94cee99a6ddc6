// Notification hooks of a task (its `notify`) and the delivery state of each.
//
// When a task reaches a terminal state, each hook becomes one delivery: the webhook (if any)
// first, then one per email address, numbered 0, 1, ... in that order (HooksOf). A delivery is
// pending until it is delivered or its attempts are spent (failed). The TaskStore records the
// pending deliveries in the same transaction as the terminal transition, so a crash between the
// two cannot lose a notification; NotificationDispatcher delivers them at least once.
#ifndef EXPORTD_CORE_NOTIFICATION_H_
#define EXPORTD_CORE_NOTIFICATION_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/request.h"
#include "core/status.h"

namespace exportd {

enum class DeliveryStatus { kPending, kDelivered, kFailed };
std::string_view DeliveryStatusName(DeliveryStatus s);  // "pending" | "delivered" | "failed"
std::optional<DeliveryStatus> ParseDeliveryStatus(std::string_view name);

inline constexpr std::string_view kWebhookChannel = "webhook";
inline constexpr std::string_view kEmailChannel = "email";

struct HookDelivery {
  int hook = 0;         // position among the task's hooks (HooksOf)
  std::string channel;  // kWebhookChannel | kEmailChannel
  std::string target;   // URL or email address
  DeliveryStatus status = DeliveryStatus::kPending;
  int attempts = 0;
  std::optional<TimePoint> last_attempt_at;
  std::optional<std::string> last_error;  // of the latest failed attempt
  std::optional<TimePoint> delivered_at;

  friend bool operator==(const HookDelivery&, const HookDelivery&) = default;
};

// The deliveries a terminal task owes, all pending with no attempt yet.
std::vector<HookDelivery> HooksOf(const Notify& notify);
bool HasHooks(const Notify& notify);

// Names one delivery, the same across its retries ("<task id>-<hook + 1>"): receivers use it to
// drop duplicates (X-Exportd-Delivery, the Message-ID of an email).
std::string DeliveryId(const std::string& task_id, int hook);

// What logs, events and the task resource show of a hook's target: a webhook's origin only
// (UrlOriginForLog: its path and query often carry tokens), an email address as is.
std::string HookTargetForLog(std::string_view channel, std::string_view target);

// The delivery after one attempt that ended with `outcome` at `at`: delivered on OK; failed
// once `max_attempts` attempts are spent; pending (to be retried) otherwise. A webhook's
// last_error is scrubbed of its URL (ScrubUrl), whatever the notifier put in it.
HookDelivery ApplyAttempt(HookDelivery delivery, TimePoint at, const Status& outcome,
                          int max_attempts);

// The detail of the "notification" event recorded with an attempt, e.g.
// `channel=webhook target=http://h/... attempt=2/5 outcome=retry error="unavailable: HTTP 500"`
// (outcome: delivered | retry | failed).
std::string AttemptEventDetail(const HookDelivery& after, int max_attempts);

// The wait before attempt `attempt + 1` after attempt `attempt` (1-based) failed:
// base * 2^(attempt - 1), i.e. about 1, 2, 4, 8 s with a base of 1 s.
Millis NotificationRetryDelay(Millis base, int attempt);

}  // namespace exportd

#endif  // EXPORTD_CORE_NOTIFICATION_H_
