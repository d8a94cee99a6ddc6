#include "core/notify_target.h"

#include <charconv>

namespace exportd {
namespace {

bool IsAsciiControlOrSpace(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7F;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

Status ValidateWebhookUrl(std::string_view url) {
  const std::string pointer = "/notify/webhook";
  if (url.size() > kMaxWebhookUrlBytes) {
    return InvalidArgument(
        "webhook URL is longer than " + std::to_string(kMaxWebhookUrlBytes) + " bytes", pointer);
  }
  for (char c : url) {
    if (IsAsciiControlOrSpace(c) || static_cast<unsigned char>(c) >= 0x80) {
      return InvalidArgument("webhook URL holds a space, control or non-ASCII character", pointer);
    }
  }
  size_t rest_at = 0;
  if (StartsWithNoCase(url, "https://")) {
    rest_at = 8;
  } else if (StartsWithNoCase(url, "http://")) {
    rest_at = 7;
  } else {
    return InvalidArgument("webhook must be an absolute http:// or https:// URL", pointer);
  }
  std::string_view rest = url.substr(rest_at);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("webhook URL must not carry user info", pointer);
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) {
      return InvalidArgument("webhook URL has a malformed IPv6 host", pointer);
    }
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return InvalidArgument("webhook URL has a malformed host", pointer);
      port = after.substr(1);
      if (port.empty()) return InvalidArgument("webhook URL has an empty port", pointer);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return InvalidArgument("webhook URL has an empty port", pointer);
  }
  if (host.empty()) return InvalidArgument("webhook URL has no host", pointer);
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return InvalidArgument("webhook URL has an invalid port", pointer);
    }
  }
  return Status::Ok();
}

Status ValidateEmailAddress(std::string_view address, const std::string& pointer) {
  if (address.empty() || address.size() > 254) {
    return InvalidArgument("an email address has 1 to 254 characters", pointer);
  }
  for (char c : address) {
    if (IsAsciiControlOrSpace(c) || c == ',' || c == ';' || c == '<' || c == '>') {
      return InvalidArgument(std::string("'").append(address) + "' is not an email address",
                             pointer);
    }
  }
  const size_t at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size() ||
      address.find('@', at + 1) != std::string_view::npos) {
    return InvalidArgument(std::string("'").append(address) + "' is not an email address", pointer);
  }
  return Status::Ok();
}

Status ValidateNotify(const Notify& notify) {
  if (notify.webhook) RETURN_IF_ERROR(ValidateWebhookUrl(*notify.webhook));
  if (notify.email.size() > kMaxEmails) {
    return InvalidArgument("at most " + std::to_string(kMaxEmails) + " email addresses",
                           "/notify/email");
  }
  for (size_t i = 0; i < notify.email.size(); ++i) {
    RETURN_IF_ERROR(ValidateEmailAddress(notify.email[i], "/notify/email/" + std::to_string(i)));
  }
  return Status::Ok();
}

}  // namespace exportd
