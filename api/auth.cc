#include <algorithm>
#include <cctype>
#include <string_view>

#include "api/handlers.h"
#include "core/principal.h"

namespace exportd::api {

Result<Caller> Authenticate(const HandlerContext& ctx, const httplib::Request& req) {
  // The whole value: get_header_value() stops at a NUL, and cpp-httplib percent-decodes header
  // values, so "Bearer <key>%00<anything>" would otherwise pass as the key.
  const auto field = req.headers.find("Authorization");
  const std::string header = field == req.headers.end() ? std::string() : field->second;
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), header.begin(), [](char a, char b) {
        // std::tolower of a negative char (a byte >= 0x80) is undefined.
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      })) {
    return Status(StatusCode::kUnauthenticated,
                  "missing bearer token (Authorization: Bearer <key>)");
  }
  std::string token = header.substr(kScheme.size());
  while (!token.empty() && token.back() == ' ') token.pop_back();
  // RFC 6750 b64token, which API keys and JWTs are made of; a NUL or a control is no credential.
  const bool b64token = std::all_of(token.begin(), token.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
           c == '~' || c == '+' || c == '/' || c == '=';
  });
  if (!b64token) return Status(StatusCode::kUnauthenticated, "invalid bearer token");
  if (ctx.deps.jwt != nullptr && LooksLikeJwt(token)) {
    if (token.size() > 16384)
      return Status(StatusCode::kUnauthenticated, "invalid bearer token: too long");
    ASSIGN_OR_RETURN(JwtIdentity identity, ctx.deps.jwt->Verify(token));
    // A namespace of its own (core/principal.h): a sub equal to an API key id is not that key.
    RETURN_IF_ERROR(CheckTokenSubject(identity.subject));
    return Caller{Principal{TokenPrincipal(ctx.deps.jwt->issuer(), identity.subject),
                            identity.role == Role::kAdmin, ClientAddress(ctx, req)},
                  identity.role};
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
  return Caller{
      Principal{KeyPrincipal(found.id), found.role == Role::kAdmin, ClientAddress(ctx, req)},
      found.role};
}

}  // namespace exportd::api
