#include "server/token_verification.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "storage/auth/jwks.h"

namespace exportd {

Result<TokenVerification> MakeTokenVerification(const OAuthConfig& o, const Clock& clock) {
  TokenVerification t;
  if (!o.jwks_file.empty()) {
    ASSIGN_OR_RETURN(t.keys, FileKeySetProvider::Open(o.jwks_file));
  } else {
    t.keys = std::make_unique<UrlKeySetProvider>(o.issuer, o.jwks_url,
                                                 std::chrono::seconds(o.jwks_cache_seconds));
  }
  api::JwtOptions options;
  options.issuer = o.issuer;
  options.audience = o.audience;
  options.roles_claim = o.roles_claim;
  options.leeway = std::chrono::seconds(o.leeway_seconds);
  t.verifier = std::make_unique<api::JwtVerifier>(options, *t.keys, clock);
  spdlog::info("accepting OAuth 2.0 bearer tokens from {} for audience {}", o.issuer, o.audience);
  return t;
}

}  // namespace exportd
