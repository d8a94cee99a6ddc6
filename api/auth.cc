#include <string_view>

#include "api/handlers.h"

namespace exportd::api {

Result<Principal> Authenticate(const HandlerContext& ctx, const httplib::Request& req) {
  std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), header.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return Status(StatusCode::kUnauthenticated, "missing bearer token (Authorization: Bearer <key>)");
  }
  std::string token = header.substr(kScheme.size());
  while (!token.empty() && token.back() == ' ') token.pop_back();
  if (token.empty() || token.size() > 512) {
    return Status(StatusCode::kUnauthenticated, "invalid API key");
  }
  // Only digests are stored, and they are looked up by an indexed equality: the comparison
  // never touches the secret itself, so its timing reveals nothing about it.
  Result<std::optional<ApiKey>> key = ctx.deps.keys->FindActiveByDigest(ctx.deps.sha256_hex(token));
  if (!key.ok()) return key.status();
  if (!key->has_value()) return Status(StatusCode::kUnauthenticated, "invalid API key");
  return Principal{(*key)->id, (*key)->admin};
}

}  // namespace exportd::api
