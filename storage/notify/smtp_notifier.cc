#include "storage/notify/smtp_notifier.h"

#include <algorithm>
#include <cstring>

#include "storage/base/curl_util.h"
#include "storage/notify/email_message.h"

namespace exportd {
namespace {

// Feeds the message to libcurl's upload.
struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, upload->data->size() - upload->offset);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

std::string DomainOf(const std::string& address) {
  const size_t at = address.rfind('@');
  return at == std::string::npos ? "exportd.invalid" : address.substr(at + 1);
}

}  // namespace

Status ValidateSmtpOptions(const SmtpOptions& o) {
  const bool smtp = o.url.rfind("smtp://", 0) == 0;
  const bool smtps = o.url.rfind("smtps://", 0) == 0;
  if (!smtp && !smtps) return InvalidArgument("smtp.url must start with smtp:// or smtps://");
  if (smtps && o.starttls) {
    return InvalidArgument("smtp.starttls applies to smtp:// only (smtps:// is TLS already)");
  }
  RETURN_IF_ERROR(CheckHeaderValue("From", o.from));
  const size_t at = o.from.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == o.from.size() ||
      o.from.find_first_of(" <>,;") != std::string::npos) {
    return InvalidArgument("smtp.from must be a plain address like exportd@example.org");
  }
  return Status::Ok();
}

Status SendMail(const SmtpOptions& o, const std::string& to, const std::string& message) {
  RETURN_IF_ERROR(CheckHeaderValue("recipient", to));
  ASSIGN_OR_RETURN(CurlEasy easy, NewCurlEasy());
  CURL* curl = easy.get();
  CurlSlist recipients;
  RETURN_IF_ERROR(recipients.Append("<" + to + ">"));
  const std::string from = "<" + o.from + ">";
  Upload upload{&message};
  curl_easy_setopt(curl, CURLOPT_URL, o.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, &ReadUpload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  if (o.starttls) curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!o.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, o.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, o.password.c_str());
  }
  if (!o.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, o.ca_file.c_str());
  if (o.insecure) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) return CurlStatus(code, "SMTP to <" + to + "> via " + o.url);
  return Status::Ok();
}

SmtpNotifier::SmtpNotifier(TaskJsonRenderer render, const Clock& clock, SmtpOptions options)
    : render_(std::move(render)), clock_(clock), options_(std::move(options)) {}

Status SmtpNotifier::Deliver(const Task& task, const HookDelivery& delivery) {
  EmailEnvelope envelope;
  envelope.from = options_.from;
  envelope.to = {delivery.target};
  // The same across retries, so a receiving mailbox can drop a duplicate.
  envelope.message_id = std::string("<").append(DeliveryId(task.id, delivery.hook)) + "@" +
                        DomainOf(options_.from) + ">";
  envelope.date = clock_.Now();
  ASSIGN_OR_RETURN(std::string message, BuildTaskEmail(task, render_(task), envelope));
  return SendMail(options_, delivery.target, message);
}

}  // namespace exportd
