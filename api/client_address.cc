#include <cctype>
#include <string_view>

#include "api/handlers.h"

namespace exportd::api {
namespace {

std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// An address as a proxy writes it: IPv4, IPv6 (possibly bracketed) or an obfuscated token;
// never longer than this, never with characters that could forge log or CSV structure.
constexpr size_t kMaxAddress = 64;
bool Plausible(std::string_view address) {
  if (address.empty() || address.size() > kMaxAddress) return false;
  for (char c : address) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' ||
                    c == '[' || c == ']' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string ClientAddress(const HandlerContext& ctx, const httplib::Request& req) {
  if (ctx.options.trust_forwarded_for && req.has_header("X-Forwarded-For")) {
    // Several header lines count as one comma-separated list; the trusted proxy appended last.
    const size_t count = req.get_header_value_count("X-Forwarded-For");
    const std::string line = req.get_header_value("X-Forwarded-For", count - 1);
    std::string_view last = line;
    if (size_t comma = last.rfind(','); comma != std::string_view::npos) {
      last = last.substr(comma + 1);
    }
    last = Trimmed(last);
    if (Plausible(last)) return std::string(last);
  }
  return req.remote_addr;
}

}  // namespace exportd::api
