// JSON Web Key Sets (RFC 7517): parsing into JsonWebKeys, and the two KeySetProviders.
#ifndef EXPORTD_STORAGE_AUTH_JWKS_H_
#define EXPORTD_STORAGE_AUTH_JWKS_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_web_key.h"
#include "core/status.h"

namespace exportd {

// {"keys": [...]}: RSA keys (n, e), EC keys on P-256 (crv, x, y) and oct keys (k), all
// base64url. Keys whose "use" is not "sig", of other types or curves, or private members only
// are skipped; a malformed member of a key we would use is kInvalidArgument, as is a set with
// no usable key.
Result<std::vector<JsonWebKey>> ParseJwks(std::string_view json_text);

// A JWKS file, read at construction and again on every refresh (so replacing the file rotates
// keys without a restart).
class FileKeySetProvider final : public KeySetProvider {
 public:
  static Result<std::unique_ptr<FileKeySetProvider>> Open(std::string path);
  Result<std::vector<JsonWebKey>> Keys(bool refresh) override;

 private:
  explicit FileKeySetProvider(std::string path) : path_(std::move(path)) {}
  Status Load();

  const std::string path_;
  std::mutex mu_;
  std::vector<JsonWebKey> keys_;  // guarded by mu_
};

// An issuer's key set over HTTP(S): `jwks_url`, or when empty the jwks_uri of
// `issuer`/.well-known/openid-configuration (OpenID Connect Discovery). Cached for `ttl`;
// a refresh for an unknown key id is honoured at most once per `min_refresh`.
class UrlKeySetProvider final : public KeySetProvider {
 public:
  UrlKeySetProvider(std::string issuer, std::string jwks_url, std::chrono::seconds ttl,
                    std::chrono::seconds min_refresh = std::chrono::seconds(30));
  Result<std::vector<JsonWebKey>> Keys(bool refresh) override;

 private:
  Result<std::string> ResolveJwksUrl();

  const std::string issuer_;
  const std::chrono::seconds ttl_;
  const std::chrono::seconds min_refresh_;
  std::mutex mu_;
  std::string jwks_url_;          // guarded by mu_; resolved once
  std::vector<JsonWebKey> keys_;  // guarded by mu_
  std::optional<std::chrono::steady_clock::time_point> fetched_at_;  // guarded by mu_
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_AUTH_JWKS_H_
