// OAuth 2.0 bearer tokens: JWTs signed RS256, ES256 or HS256, verified with cpp-jwt against the
// keys of a KeySetProvider.
//
// The key is chosen by the token's algorithm first (RS256 only with RSA keys, ES256 only with
// P-256 keys, HS256 only with shared "oct" secrets) and then by its "kid", so that a public key
// can never serve as an HMAC secret (algorithm confusion) and "alg": "none" never verifies.
// Claims: "exp" is required, "nbf" and "iat" are honoured, each with `leeway` for clock skew;
// "iss" must equal the configured issuer and "aud" (a string or an array) must contain the
// configured audience. The principal is "sub"; the role is the highest of reader < exporter <
// admin named by the roles claim (an array of strings, or a space-separated string like
// "scope").
#ifndef EXPORTD_API_JWT_VERIFIER_H_
#define EXPORTD_API_JWT_VERIFIER_H_

#include <chrono>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/json_web_key.h"
#include "core/role.h"
#include "core/status.h"

namespace exportd::api {

struct JwtOptions {
  std::string issuer;
  std::string audience;
  std::string roles_claim = "roles";
  std::chrono::seconds leeway{60};
};

struct JwtIdentity {
  std::string subject;
  Role role = Role::kReader;
};

// Thread-safe. The provider and clock must outlive the verifier.
class JwtVerifier {
 public:
  JwtVerifier(JwtOptions options, KeySetProvider& keys, const Clock& clock);

  // kUnauthenticated for every token that does not verify (the message says why, without
  // echoing the token); kPermissionDenied for a valid token that names no exportd role;
  // kUnavailable when the key set cannot be had.
  Result<JwtIdentity> Verify(std::string_view token) const;

  // The configured issuer, which every verified token's "iss" equals.
  const std::string& issuer() const { return options_.issuer; }

 private:
  JwtOptions options_;
  KeySetProvider& keys_;
  const Clock& clock_;
};

// Whether a bearer token has the shape of a JWT (three base64url parts) rather than an API key.
bool LooksLikeJwt(std::string_view token);

}  // namespace exportd::api

#endif  // EXPORTD_API_JWT_VERIFIER_H_
