#include "core/principal.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/task.h"

namespace exportd {

std::string KeyPrincipal(std::string_view key_id) {
  return std::string(kKeyPrincipalPrefix) + std::string(key_id);
}

std::string TokenPrincipal(std::string_view issuer, std::string_view subject) {
  return std::string(kTokenPrincipalPrefix) + std::string(issuer) + "#" + std::string(subject);
}

Status CheckTokenSubject(std::string_view subject) {
  if (subject.empty()) return Status(StatusCode::kUnauthenticated, "token has no subject (sub)");
  if (subject.size() > 255) {
    return Status(StatusCode::kUnauthenticated, "token subject (sub) is longer than 255 bytes");
  }
  if (std::any_of(subject.begin(), subject.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return Status(StatusCode::kUnauthenticated, "token subject (sub) holds a control character");
  }
  // The actors exportd writes for itself (TaskEvent::actor), and names that read like them.
  static constexpr std::array<std::string_view, 6> kReserved = {
      "link", kHousekeepingActor, "system", "scheduler", "janitor", "admin"};
  std::string lower(subject);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view reserved : kReserved) {
    if (lower == reserved) {
      return Status(StatusCode::kUnauthenticated,
                    "token subject (sub) '" + lower + "' is reserved for exportd's own actors");
    }
  }
  return Status::Ok();
}

}  // namespace exportd
