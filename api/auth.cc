#include <string_view>

#include "api/handlers.h"

namespace exportd::api {

Result<Caller> Authenticate(const HandlerContext& ctx, const httplib::Request& req) {
  std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), header.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return Status(StatusCode::kUnauthenticated, "missing bearer token (Authorization: Bearer <key>)");
  }
  std::string token = header.substr(kScheme.size());
  while (!token.empty() && token.back() == ' ') token.pop_back();
  if (ctx.deps.jwt != nullptr && LooksLikeJwt(token)) {
    if (token.size() > 16384) return Status(StatusCode::kUnauthenticated, "invalid bearer token: too long");
    ASSIGN_OR_RETURN(JwtIdentity identity, ctx.deps.jwt->Verify(token));
    return Caller{Principal{identity.subject, identity.role == Role::kAdmin}, identity.role};
  }
  if (token.empty() || token.size() > 512) {
    return Status(StatusCode::kUnauthenticated, "invalid API key");
  }
  // Only digests are stored, and they are looked up by an indexed equality: the comparison
  // never touches the secret itself, so its timing reveals nothing about it.
  Result<std::optional<ApiKey>> key = ctx.deps.keys->FindActiveByDigest(ctx.deps.sha256_hex(token));
  if (!key.ok()) return key.status();
  if (!key->has_value()) return Status(StatusCode::kUnauthenticated, "invalid API key");
  const ApiKey& found = **key;
  return Caller{Principal{found.id, found.role == Role::kAdmin}, found.role};
}

}  // namespace exportd::api
