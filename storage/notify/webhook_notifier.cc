#include "storage/notify/webhook_notifier.h"

#include <cctype>

#include "core/text.h"
#include "storage/base/digest.h"

namespace exportd {

std::string WebhookEventName(TaskState state) {
  std::string name(TaskStateName(state));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "export." + name;
}

std::string WebhookSignature(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  std::string signed_text = std::to_string(unix_seconds);
  signed_text += '.';
  signed_text.append(body);
  return "sha256=" + HmacSha256Hex(secret, signed_text);
}

HttpRequest BuildWebhookRequest(const std::string& url, std::string body, std::string event,
                                const std::string& delivery_id, int64_t unix_seconds,
                                const WebhookOptions& options) {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {
      {"Content-Type", "application/json"},
      {"User-Agent", "exportd-webhook"},
      {"X-Exportd-Event", std::move(event)},
      {"X-Exportd-Delivery", delivery_id},
      {"X-Exportd-Timestamp", std::to_string(unix_seconds)},
      {"X-Exportd-Signature", WebhookSignature(options.secret, unix_seconds, body)},
  };
  request.body = std::move(body);
  request.connect_timeout = options.connect_timeout;
  request.timeout = options.timeout;
  request.follow_redirects = false;
  return request;
}

WebhookNotifier::WebhookNotifier(TaskJsonRenderer render, const Clock& clock,
                                 WebhookOptions options)
    : render_(std::move(render)), clock_(clock), options_(std::move(options)) {}

Status WebhookNotifier::Deliver(const Task& task, const HookDelivery& delivery) {
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  HttpRequest request =
      BuildWebhookRequest(delivery.target, render_(task), WebhookEventName(task.state),
                          DeliveryId(task.id, delivery.hook), now, options_);
  // Logs and events show the receiver's origin only: paths often carry tokens.
  const std::string context = "webhook POST " + UrlOriginForLog(delivery.target);
  if (options_.policy != nullptr) {
    Result<PinnedTarget> target = options_.policy->Check(delivery.target);
    if (!target.ok()) return target.status().WithContext(context);
    request.resolve = {target->CurlResolveEntry()};
  }
  Result<HttpResponse> response = PerformHttp(request);
  if (!response.ok()) {
    // libcurl's text (and PerformHttp's context) names the URL: only its origin may remain.
    return Status(response.status().code(),
                  "webhook " + ScrubUrl(response.status().message(), delivery.target));
  }
  // A redirect is not followed: the receiver must name its final URL.
  if (response->status >= 300 && response->status < 400) {
    return Unavailable(context + ": HTTP " + std::to_string(response->status) +
                       " (redirects are not followed)");
  }
  return RemoteHttpStatus(response->status, context);
}

}  // namespace exportd
