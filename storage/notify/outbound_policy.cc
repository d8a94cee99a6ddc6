#include "storage/notify/outbound_policy.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cctype>
#include <charconv>
#include <cstring>
#include <memory>

#include "storage/base/curl_util.h"

namespace exportd {
namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::array<uint8_t, 16> Mapped(const uint8_t v4[4]) {
  std::array<uint8_t, 16> out{};
  std::copy(kMappedPrefix.begin(), kMappedPrefix.end(), out.begin());
  std::copy(v4, v4 + 4, out.begin() + 12);
  return out;
}

bool IsMapped(const std::array<uint8_t, 16>& ip) {
  return std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), ip.begin());
}

IpNetwork Net(const char* cidr) { return *ParseCidr(cidr); }

const std::vector<IpNetwork>& NonPublicNetworks() {
  static const std::vector<IpNetwork> nets = {
      // IPv4 (held mapped)
      Net("0.0.0.0/8"), Net("10.0.0.0/8"), Net("100.64.0.0/10"), Net("127.0.0.0/8"),
      Net("169.254.0.0/16"), Net("172.16.0.0/12"), Net("192.0.0.0/24"), Net("192.0.2.0/24"),
      Net("192.88.99.0/24"), Net("192.168.0.0/16"), Net("198.18.0.0/15"), Net("198.51.100.0/24"),
      Net("203.0.113.0/24"), Net("224.0.0.0/4"), Net("240.0.0.0/4"),
      // IPv6
      Net("::/128"), Net("::1/128"), Net("100::/64"), Net("2001:db8::/32"), Net("fc00::/7"),
      Net("fe80::/10"), Net("ff00::/8")};
  return nets;
}

struct CurlUrlFree {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

std::string UrlPart(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK || value == nullptr) return "";
  std::string out(value);
  curl_free(value);
  return out;
}

std::string Why(const std::array<uint8_t, 16>& ip) {
  return FormatIpAddress(ip) +
         " is not a public address (loopback, private, link-local, "
         "metadata or reserved) and is not in webhook_allowlist";
}

}  // namespace

bool IpNetwork::Contains(const std::array<uint8_t, 16>& ip) const {
  int bits = prefix;
  for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((ip[i] & mask) != (address[i] & mask)) return false;
  }
  return true;
}

bool ParseIpAddress(std::string_view text, std::array<uint8_t, 16>& out) {
  std::string s(text);
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  uint8_t v4[4];
  if (inet_pton(AF_INET, s.c_str(), v4) == 1) {
    out = Mapped(v4);
    return true;
  }
  return inet_pton(AF_INET6, s.c_str(), out.data()) == 1;
}

std::string FormatIpAddress(const std::array<uint8_t, 16>& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (IsMapped(ip)) {
    inet_ntop(AF_INET, ip.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, ip.data(), buf, sizeof buf);
  }
  return buf;
}

Result<IpNetwork> ParseCidr(std::string_view text) {
  const size_t slash = text.find('/');
  IpNetwork net;
  if (!ParseIpAddress(text.substr(0, slash), net.address)) {
    return InvalidArgument(std::string("'").append(text) + "' is not an IP address or CIDR");
  }
  const bool v4 = IsMapped(net.address) && text.find(':') == std::string_view::npos;
  net.prefix = 128;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    int bits = -1;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    const int max = v4 ? 32 : 128;
    if (ec != std::errc() || p != digits.data() + digits.size() || bits < 0 || bits > max) {
      return InvalidArgument(std::string("'").append(text) + "' has a bad prefix length");
    }
    net.prefix = v4 ? 96 + bits : bits;
  }
  return net;
}

bool IsNonPublicAddress(const std::array<uint8_t, 16>& ip) {
  // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds: judge that one. The deprecated
  // IPv4-compatible form (::/96) has no legitimate use as a destination.
  static const IpNetwork nat64 = Net("64:ff9b::/96");
  static const IpNetwork compatible = Net("::/96");
  if (nat64.Contains(ip)) return IsNonPublicAddress(Mapped(ip.data() + 12));
  if (compatible.Contains(ip)) return true;
  for (const IpNetwork& net : NonPublicNetworks()) {
    if (net.Contains(ip)) return true;
  }
  return false;
}

bool OutboundPolicy::Allows(const std::array<uint8_t, 16>& ip) const {
  for (const IpNetwork& net : allowlist_) {
    if (net.Contains(ip)) return true;
  }
  return !IsNonPublicAddress(ip);
}

std::string PinnedTarget::CurlResolveEntry() const {
  const bool v6 = address.find(':') != std::string::npos;
  return host + ":" + std::to_string(port) + ":" + (v6 ? "[" + address + "]" : address);
}

Status OutboundPolicy::CheckWithoutDns(const std::string& url_text) const {
  EnsureCurlGlobalInit();
  std::unique_ptr<CURLU, CurlUrlFree> url(curl_url());
  if (!url || curl_url_set(url.get(), CURLUPART_URL, url_text.c_str(), 0) != CURLUE_OK) {
    return InvalidArgument("not a valid URL");
  }
  std::string host = UrlPart(url.get(), CURLUPART_HOST);
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::array<uint8_t, 16> ip{};
  if (host == "localhost" || (host.size() > 10 && host.ends_with(".localhost"))) {
    ParseIpAddress("127.0.0.1", ip);
  } else if (!ParseIpAddress(host, ip)) {
    return Status::Ok();
  }
  if (!Allows(ip)) return Status(StatusCode::kPermissionDenied, Why(ip));
  return Status::Ok();
}

Result<PinnedTarget> OutboundPolicy::Check(const std::string& url_text) const {
  EnsureCurlGlobalInit();
  std::unique_ptr<CURLU, CurlUrlFree> url(curl_url());
  if (!url || curl_url_set(url.get(), CURLUPART_URL, url_text.c_str(), 0) != CURLUE_OK) {
    return InvalidArgument("not a valid URL");
  }
  const std::string scheme = UrlPart(url.get(), CURLUPART_SCHEME);
  if (scheme != "http" && scheme != "https") return InvalidArgument("only http and https URLs");
  PinnedTarget target;
  target.host = UrlPart(url.get(), CURLUPART_HOST);
  std::string port = UrlPart(url.get(), CURLUPART_PORT);
  target.port = port.empty() ? (scheme == "https" ? 443 : 80) : std::atoi(port.c_str());
  if (target.host.empty()) return InvalidArgument("URL without a host");

  std::array<uint8_t, 16> literal{};
  if (ParseIpAddress(target.host, literal)) {
    if (!Allows(literal)) return Status(StatusCode::kPermissionDenied, Why(literal));
    target.address = FormatIpAddress(literal);
    return target;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(target.host.c_str(), nullptr, &hints, &found);
  if (rc != 0) return Unavailable("cannot resolve " + target.host + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, &freeaddrinfo);
  std::string refused;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    std::array<uint8_t, 16> ip{};
    if (ai->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      ip = Mapped(reinterpret_cast<const uint8_t*>(&sin->sin_addr));
    } else if (ai->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      std::memcpy(ip.data(), &sin6->sin6_addr, 16);
    } else {
      continue;
    }
    if (Allows(ip)) {
      target.address = FormatIpAddress(ip);
      return target;
    }
    if (refused.empty()) refused = Why(ip);
  }
  return Status(StatusCode::kPermissionDenied,
                target.host + " resolves only to refused addresses: " + refused);
}

}  // namespace exportd
