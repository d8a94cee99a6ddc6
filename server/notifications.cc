#include "server/notifications.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "api/task_json.h"
#include "core/time_format.h"
#include "server/object_store_factory.h"
#include "storage/fs/url_signer.h"

namespace exportd {

TaskJsonRenderer MakeTaskJsonRenderer(ObjectStore& objects, const Clock& clock,
                                      std::optional<std::chrono::seconds> max_link_ttl) {
  return [&objects, &clock, max_link_ttl](const Task& task) {
    api::TaskViewContext view{&objects, clock.Now()};
    view.links_until_files_expire = true;
    view.max_link_ttl = max_link_ttl;
    if (max_link_ttl && !task.files.empty() && task.files_expire_at &&
        api::LinkExpiry(task, view) <
            std::chrono::floor<std::chrono::seconds>(*task.files_expire_at)) {
      spdlog::info(
          "task {}: the links its notification sends expire at {}, before its files "
          "({}): S3 pre-signed URLs live at most {} days; GET /v1/exports/{} gives "
          "fresh links",
          task.id, FormatRfc3339Seconds(api::LinkExpiry(task, view)),
          FormatRfc3339Seconds(*task.files_expire_at), max_link_ttl->count() / 86400, task.id);
    }
    return api::TaskToJson(task, view)
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
}

Result<std::string> LoadWebhookSecret(const Config& config) {
  if (const char* value = std::getenv(config.webhook_secret_env.c_str());
      value != nullptr && *value != '\0') {
    spdlog::info("webhook signing secret taken from ${}", config.webhook_secret_env);
    return std::string(value);
  }
  const std::string path = (std::filesystem::path(config.data_dir) / "webhook_secret").string();
  ASSIGN_OR_RETURN(std::string secret, UrlSigner::LoadOrCreateSecret(path));
  spdlog::info("webhook signing secret in {} (${} is not set)", path, config.webhook_secret_env);
  return secret;
}

Result<std::unique_ptr<Notifications>> Notifications::Create(const Config& config, TaskStore& tasks,
                                                             ObjectStore& objects,
                                                             const Clock& clock, Logger& logger,
                                                             const std::string& instance_id,
                                                             Telemetry* telemetry) {
  std::unique_ptr<Notifications> n(new Notifications());
  TaskJsonRenderer render = MakeTaskJsonRenderer(
      objects, clock, DirectS3Downloads(config) ? std::optional(kMaxDirectLinkTtl) : std::nullopt);
  WebhookOptions webhook;
  ASSIGN_OR_RETURN(webhook.secret, LoadWebhookSecret(config));
  std::vector<IpNetwork> allow;
  for (const std::string& cidr : config.webhook_allowlist) {
    ASSIGN_OR_RETURN(IpNetwork net, ParseCidr(cidr));
    allow.push_back(net);
  }
  n->webhook_policy_ = std::make_unique<OutboundPolicy>(std::move(allow));
  webhook.policy = n->webhook_policy_.get();
  n->webhook_ = std::make_unique<WebhookNotifier>(render, clock, std::move(webhook));
  if (const auto& c = config.smtp) {
    SmtpOptions smtp;
    smtp.url = c->url;
    smtp.from = c->from;
    smtp.username = c->username;
    smtp.starttls = c->starttls;
    smtp.ca_file = c->ca_file;
    smtp.insecure = c->insecure;
    if (!c->password_env.empty()) {
      const char* password = std::getenv(c->password_env.c_str());
      if (password == nullptr) {
        return FailedPrecondition("smtp.password_env names $" + c->password_env +
                                  ", which is not set");
      }
      smtp.password = password;
    }
    RETURN_IF_ERROR(ValidateSmtpOptions(smtp));
    if (smtp.insecure) spdlog::warn("smtp.insecure: the SMTP server's certificate is not verified");
    spdlog::info("email notifications via {} from {}{}", smtp.url, smtp.from,
                 smtp.starttls ? " (STARTTLS required)" : "");
    n->smtp_ = std::make_unique<SmtpNotifier>(render, clock, std::move(smtp));
  } else {
    spdlog::info(
        "email notifications are off (no smtp configured): requests with "
        "notify.email are refused");
  }
  DispatcherOptions options;
  options.retry_base = Millis(config.notification_retry_base_ms);
  options.attempts = config.notification_attempts;
  options.telemetry = telemetry;
  options.owner = instance_id;
  n->dispatcher_ = std::make_unique<NotificationDispatcher>(tasks, tasks, clock, logger, options);
  n->dispatcher_->SetNotifier(kWebhookChannel, *n->webhook_);
  if (n->smtp_) n->dispatcher_->SetNotifier(kEmailChannel, *n->smtp_);
  return n;
}

std::function<void(const Task&)> Notifications::observer() {
  NotificationDispatcher* dispatcher = dispatcher_.get();
  return [dispatcher](const Task& task) { dispatcher->OnTerminal(task); };
}

}  // namespace exportd
