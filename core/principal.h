// Principal names: who owns a task and who an audit row says acted.
//
// Principals of different kinds live in separate namespaces, so that no credential of one kind
// can act as a principal of another: an API key is "key:<key id>", an OAuth token is
// "jwt:<issuer>#<sub>". A token whose `sub` equals an API key id is therefore a different
// principal from that key, and neither can be one of the names exportd itself writes as an
// event's actor ("link", "exportd", an instance id), which carry no prefix.
#ifndef EXPORTD_CORE_PRINCIPAL_H_
#define EXPORTD_CORE_PRINCIPAL_H_

#include <string>
#include <string_view>

#include "core/status.h"

namespace exportd {

// Who is asking. A principal sees only its own tasks and schedules; an admin sees every one.
struct Principal {
  std::string id;
  bool admin = false;
  std::string remote;  // the client's address, recorded with the events the request causes
};

inline constexpr std::string_view kKeyPrincipalPrefix = "key:";
inline constexpr std::string_view kTokenPrincipalPrefix = "jwt:";

// "key:<key id>".
std::string KeyPrincipal(std::string_view key_id);
// "jwt:<issuer>#<subject>".
std::string TokenPrincipal(std::string_view issuer, std::string_view subject);

// Whether a token's `sub` may name a principal: kUnauthenticated (with the reason) when it is
// empty, longer than 255 bytes, holds a control character, or is one of the actor names exportd
// writes for itself ("link", "exportd", "system", ...), compared without regard to case. Such a
// token could only confuse a reader of the audit trail, whatever its prefix.
Status CheckTokenSubject(std::string_view subject);

}  // namespace exportd

#endif  // EXPORTD_CORE_PRINCIPAL_H_
