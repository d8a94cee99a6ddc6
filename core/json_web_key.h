// Keys that sign the OAuth 2.0 bearer tokens (JWTs) exportd accepts, and where they come from.
// Implemented in storage/ (a JWKS file, or an issuer's published key set fetched over HTTPS).
#ifndef EXPORTD_CORE_JSON_WEB_KEY_H_
#define EXPORTD_CORE_JSON_WEB_KEY_H_

#include <string>
#include <vector>

#include "core/status.h"

namespace exportd {

// One verification key, already in the form a JWT library takes.
struct JsonWebKey {
  std::string kid;         // may be empty
  std::string kty;         // "RSA", "EC" (P-256) or "oct"
  std::string alg;         // the "alg" the key set pins, or empty
  std::string public_pem;  // RSA and EC: SubjectPublicKeyInfo PEM
  std::string secret;      // oct: the raw shared secret
};

// Thread-safe.
class KeySetProvider {
 public:
  virtual ~KeySetProvider() = default;
  // The current keys. `refresh` asks for a fresh copy because a token named an unknown key id
  // (the issuer may have rotated its keys); implementations may serve a cached copy anyway
  // when they refreshed very recently, so that bad tokens cannot make them hammer the issuer.
  virtual Result<std::vector<JsonWebKey>> Keys(bool refresh) = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_JSON_WEB_KEY_H_
