#include "core/notification.h"

#include <algorithm>

#include "core/text.h"

namespace exportd {

std::string_view DeliveryStatusName(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kPending:
      return "pending";
    case DeliveryStatus::kDelivered:
      return "delivered";
    case DeliveryStatus::kFailed:
      return "failed";
  }
  return "pending";
}

std::optional<DeliveryStatus> ParseDeliveryStatus(std::string_view name) {
  if (name == "pending") return DeliveryStatus::kPending;
  if (name == "delivered") return DeliveryStatus::kDelivered;
  if (name == "failed") return DeliveryStatus::kFailed;
  return std::nullopt;
}

bool HasHooks(const Notify& notify) { return notify.webhook || !notify.email.empty(); }

std::vector<HookDelivery> HooksOf(const Notify& notify) {
  std::vector<HookDelivery> hooks;
  auto add = [&](std::string_view channel, const std::string& target) {
    HookDelivery d;
    d.hook = static_cast<int>(hooks.size());
    d.channel = std::string(channel);
    d.target = target;
    hooks.push_back(std::move(d));
  };
  if (notify.webhook) add(kWebhookChannel, *notify.webhook);
  for (const std::string& address : notify.email) add(kEmailChannel, address);
  return hooks;
}

std::string DeliveryId(const std::string& task_id, int hook) {
  return task_id + "-" + std::to_string(hook + 1);
}

std::string HookTargetForLog(std::string_view channel, std::string_view target) {
  return channel == kWebhookChannel ? UrlOriginForLog(target) : std::string(target);
}

HookDelivery ApplyAttempt(HookDelivery delivery, TimePoint at, const Status& outcome,
                          int max_attempts) {
  delivery.attempts += 1;
  delivery.last_attempt_at = at;
  if (outcome.ok()) {
    delivery.status = DeliveryStatus::kDelivered;
    delivery.delivered_at = at;
  } else {
    delivery.last_error = delivery.channel == kWebhookChannel
                              ? ScrubUrl(outcome.ToString(), delivery.target)
                              : outcome.ToString();
    if (delivery.attempts >= max_attempts) delivery.status = DeliveryStatus::kFailed;
  }
  return delivery;
}

namespace {

// Quotes a value for the key=value detail: backslash and double quote escaped, control
// characters dropped (an error text from a remote server may hold anything).
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

std::string AttemptEventDetail(const HookDelivery& after, int max_attempts) {
  std::string outcome = after.status == DeliveryStatus::kDelivered ? "delivered"
                        : after.status == DeliveryStatus::kFailed  ? "failed"
                                                                   : "retry";
  std::string out = "channel=" + after.channel +
                    " target=" + Quoted(HookTargetForLog(after.channel, after.target)) +
                    " attempt=" + std::to_string(after.attempts) + "/" +
                    std::to_string(max_attempts) + " outcome=" + outcome;
  if (after.status != DeliveryStatus::kDelivered && after.last_error) {
    out += " error=" + Quoted(*after.last_error);
  }
  return out;
}

Millis NotificationRetryDelay(Millis base, int attempt) {
  const int shift = std::clamp(attempt - 1, 0, 20);
  return base * (int64_t{1} << shift);
}

}  // namespace exportd
