// Email notifications through SMTP (libcurl): one message per address
// (storage/notify/email_message.h).
//
// `smtp://host:port` sends in the clear unless `starttls` is set, in which case STARTTLS is
// required (the send fails rather than fall back to plain text); `smtps://host:port` is TLS from
// the first byte. AUTH is used when a username is given.
#ifndef EXPORTD_STORAGE_NOTIFY_SMTP_NOTIFIER_H_
#define EXPORTD_STORAGE_NOTIFY_SMTP_NOTIFIER_H_

#include <chrono>
#include <string>

#include "core/clock.h"
#include "core/notifier.h"
#include "storage/notify/webhook_notifier.h"

namespace exportd {

struct SmtpOptions {
  std::string url;       // smtp://host:port or smtps://host:port
  std::string from;      // envelope sender and From header
  std::string username;  // empty: no AUTH
  std::string password;
  bool starttls = false;
  std::string ca_file;    // empty: the system's CAs
  bool insecure = false;  // tests only: skip certificate verification
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds timeout{30000};
};

// kInvalidArgument naming the problem: scheme, from address (no CR/LF, one '@'), starttls with
// smtps://.
Status ValidateSmtpOptions(const SmtpOptions& options);

// Sends `message` (a whole RFC 5322 message, CRLF line ends) to `to` through the server. One
// blocking attempt; errors through CurlStatus (a rejected recipient or message is
// kUnavailable or kPermissionDenied as libcurl reports it).
Status SendMail(const SmtpOptions& options, const std::string& to, const std::string& message);

// Thread-safe.
class SmtpNotifier final : public Notifier {
 public:
  SmtpNotifier(TaskJsonRenderer render, const Clock& clock, SmtpOptions options);
  Status Deliver(const Task& task, const HookDelivery& delivery) override;

 private:
  TaskJsonRenderer render_;
  const Clock& clock_;
  const SmtpOptions options_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_NOTIFY_SMTP_NOTIFIER_H_
