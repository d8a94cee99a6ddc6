// Wiring of notifications: the webhook secret, the notifiers of the configured channels and the
// dispatcher, built from the configuration.
#ifndef EXPORTD_SERVER_NOTIFICATIONS_H_
#define EXPORTD_SERVER_NOTIFICATIONS_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/logger.h"
#include "core/notification_dispatcher.h"
#include "core/object_store.h"
#include "core/task_store.h"
#include "server/config.h"
#include "storage/notify/outbound_policy.h"
#include "storage/notify/smtp_notifier.h"
#include "storage/notify/webhook_notifier.h"

namespace exportd {

// The task JSON as GET /v1/exports/{id} sends it at the time of the call, except that file links
// are valid until the task's files expire rather than for download_url_ttl_seconds: a
// notification is read hours or days later. `max_link_ttl` caps them (S3 pre-signed URLs live at
// most 7 days); a cap that cuts a link short of the files' expiry is logged.
TaskJsonRenderer MakeTaskJsonRenderer(ObjectStore& objects, const Clock& clock,
                                      std::optional<std::chrono::seconds> max_link_ttl);

// The webhook signing secret: the value of the variable named by config.webhook_secret_env
// when set and not empty; otherwise DATA_DIR/webhook_secret, created (mode 0600) on first use.
// Logs where it came from, never the secret.
Result<std::string> LoadWebhookSecret(const Config& config);

// Owns the notifiers and the dispatcher. Declare it before the Scheduler and ExportService that
// report to it, so that it outlives them.
class Notifications {
 public:
  // kInvalidArgument / kFailedPrecondition for a bad smtp section or a missing password.
  // `instance_id` claims deliveries in the store (instances sharing it deliver each hook once).
  static Result<std::unique_ptr<Notifications>> Create(const Config& config, TaskStore& tasks,
                                                       ObjectStore& objects, const Clock& clock,
                                                       Logger& logger,
                                                       const std::string& instance_id,
                                                       Telemetry* telemetry = nullptr);

  // For SchedulerOptions::on_terminal and ServiceOptions::on_terminal.
  std::function<void(const Task&)> observer();
  bool email_enabled() const { return smtp_ != nullptr; }
  // Where webhooks may go; for the quick check when a hook is registered.
  const OutboundPolicy& webhook_policy() const { return *webhook_policy_; }
  Status Start() { return dispatcher_->Start(); }
  void Stop() { dispatcher_->Stop(); }
  // Deliveries queued or in flight now.
  size_t queued() const { return dispatcher_->queued(); }

 private:
  Notifications() = default;

  std::unique_ptr<OutboundPolicy> webhook_policy_;
  std::unique_ptr<WebhookNotifier> webhook_;
  std::unique_ptr<SmtpNotifier> smtp_;
  std::unique_ptr<NotificationDispatcher> dispatcher_;  // declared last: stopped first
};

}  // namespace exportd

#endif  // EXPORTD_SERVER_NOTIFICATIONS_H_
