// Where exportd may send outbound requests that users choose (webhooks): OWASP API7:2023,
// server-side request forgery. By default only public unicast addresses; an operator allowlist
// of CIDRs opens internal receivers. The check runs on the resolved addresses, and the caller
// connects to exactly the address that was checked (CURLOPT_RESOLVE pinning), so a name that
// resolves differently a moment later (DNS rebinding) cannot slip through.
#ifndef EXPORTD_STORAGE_NOTIFY_OUTBOUND_POLICY_H_
#define EXPORTD_STORAGE_NOTIFY_OUTBOUND_POLICY_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace exportd {

// An IPv4 or IPv6 network; IPv4 is held as its IPv4-mapped IPv6 form (::ffff:a.b.c.d).
struct IpNetwork {
  std::array<uint8_t, 16> address{};
  int prefix = 128;  // in IPv6 bits (an IPv4 /24 is /120)

  bool Contains(const std::array<uint8_t, 16>& ip) const;
};

// "10.1.2.0/24", "127.0.0.1", "fd00::/8", "::1". kInvalidArgument otherwise.
Result<IpNetwork> ParseCidr(std::string_view text);

// Loopback, private (RFC 1918, fc00::/7), link-local (169.254/16 with the cloud metadata
// address, fe80::/10), CGNAT, multicast, unspecified, reserved and documentation ranges, and
// IPv6 forms embedding such an IPv4 address (mapped, NAT64).
bool IsNonPublicAddress(const std::array<uint8_t, 16>& ip);

// "203.0.113.7" or "2001:db8::1" -> 16 bytes (IPv4 mapped). false if not an address literal.
bool ParseIpAddress(std::string_view text, std::array<uint8_t, 16>& out);
std::string FormatIpAddress(const std::array<uint8_t, 16>& ip);  // IPv4 mapped -> dotted quad

// A checked destination: connect to `address` (and nothing else) for `host`:`port`.
struct PinnedTarget {
  std::string host;
  int port = 0;
  std::string address;
  // For CURLOPT_RESOLVE: "host:port:address" (IPv6 in brackets).
  std::string CurlResolveEntry() const;
};

// Thread-safe (immutable).
class OutboundPolicy {
 public:
  explicit OutboundPolicy(std::vector<IpNetwork> allowlist) : allowlist_(std::move(allowlist)) {}

  bool Allows(const std::array<uint8_t, 16>& ip) const;
  // Parses the http(s) URL, resolves its host and returns the first address allowed.
  // kPermissionDenied when every address is refused (the message names the address and why);
  // kUnavailable when the name does not resolve now; kInvalidArgument for a malformed URL.
  Result<PinnedTarget> Check(const std::string& url) const;
  // The part of Check that needs no DNS, for a quick answer when a hook is registered: refuses
  // an address literal or a "localhost" name that Check would refuse; OK otherwise.
  Status CheckWithoutDns(const std::string& url) const;

 private:
  std::vector<IpNetwork> allowlist_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_NOTIFY_OUTBOUND_POLICY_H_
