// Webhook notifications: a signed POST of the finished task's JSON to the hook's URL.
//
//   POST <url>
//   Content-Type: application/json
//   X-Exportd-Event: export.succeeded | export.failed | export.cancelled
//   X-Exportd-Delivery: <delivery id, the same across retries of one notification>
//   X-Exportd-Timestamp: <unix seconds of this attempt>
//   X-Exportd-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// The body is what GET /v1/exports/{id} returns at the time of the attempt. Receivers verify the
// signature with the deployment's secret and reject old timestamps (replays). No redirects are
// followed; any non-2xx answer or transport error is a failed attempt.
#ifndef EXPORTD_STORAGE_NOTIFY_WEBHOOK_NOTIFIER_H_
#define EXPORTD_STORAGE_NOTIFY_WEBHOOK_NOTIFIER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/notifier.h"
#include "storage/base/curl_util.h"
#include "storage/notify/outbound_policy.h"

namespace exportd {

// "export.succeeded", "export.failed", "export.cancelled" (and "export.<state>" otherwise).
std::string WebhookEventName(TaskState state);

// "sha256=" + lowercase hex HMAC-SHA256(secret, timestamp + "." + body).
std::string WebhookSignature(std::string_view secret, int64_t unix_seconds, std::string_view body);

struct WebhookOptions {
  std::string secret;  // the per-deployment signing secret
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{10000};
  // Where hooks may go (SSRF guard); must outlive the notifier. Null: anywhere (tests only).
  const OutboundPolicy* policy = nullptr;
};

// The request of one attempt (pure; for tests and for the notifier).
HttpRequest BuildWebhookRequest(const std::string& url, std::string body, std::string event,
                                const std::string& delivery_id, int64_t unix_seconds,
                                const WebhookOptions& options);

// Renders a task as the API shows it (GET /v1/exports/{id}); given by server/ since storage/
// cannot reach api/. Must be thread-safe.
using TaskJsonRenderer = std::function<std::string(const Task&)>;

// Thread-safe.
class WebhookNotifier final : public Notifier {
 public:
  WebhookNotifier(TaskJsonRenderer render, const Clock& clock, WebhookOptions options);
  Status Deliver(const Task& task, const HookDelivery& delivery) override;

 private:
  TaskJsonRenderer render_;
  const Clock& clock_;
  const WebhookOptions options_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_NOTIFY_WEBHOOK_NOTIFIER_H_
