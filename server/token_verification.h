// The OAuth 2.0 bearer-token verifier of a configuration, with the key set it reads.
#ifndef EXPORTD_SERVER_TOKEN_VERIFICATION_H_
#define EXPORTD_SERVER_TOKEN_VERIFICATION_H_

#include <memory>

#include "api/jwt_verifier.h"
#include "core/clock.h"
#include "core/json_web_key.h"
#include "core/status.h"
#include "server/config.h"

namespace exportd {

// The verifier refers to `keys`: keep them together (declared in this order, destroyed in the
// reverse).
struct TokenVerification {
  std::unique_ptr<KeySetProvider> keys;
  std::unique_ptr<api::JwtVerifier> verifier;
};

// The keys from oauth.jwks_file, or fetched from oauth.jwks_url and cached; `clock` outlives the
// result. An error if the key file cannot be read.
Result<TokenVerification> MakeTokenVerification(const OAuthConfig& oauth, const Clock& clock);

}  // namespace exportd

#endif  // EXPORTD_SERVER_TOKEN_VERIFICATION_H_
