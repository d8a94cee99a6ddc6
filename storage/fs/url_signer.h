// Pre-signed download links for the local object store: the signature is the credential.
#ifndef EXPORTD_STORAGE_FS_URL_SIGNER_H_
#define EXPORTD_STORAGE_FS_URL_SIGNER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace exportd {

// Signs and verifies (task id, file name, expiry) triples with HMAC-SHA256.
// Immutable after construction, so thread-safe.
class UrlSigner {
 public:
  // `secret` is used as the HMAC key as given (LoadOrCreateSecret returns 64 hex characters).
  explicit UrlSigner(std::string secret) : secret_(std::move(secret)) {}

  // Reads the secret stored at `path`, or creates one (32 random bytes, hex) with mode 0600.
  // A file that exists but does not hold 64 hex characters is an error (kFailedPrecondition),
  // never silently replaced: links already handed out would stop working.
  static Result<std::string> LoadOrCreateSecret(const std::string& path);

  // Lowercase hex HMAC-SHA256 over "task_id\nname\nexpires_unix".
  std::string Sign(std::string_view task_id, std::string_view name, int64_t expires_unix) const;

  // OK when `signature_hex` is Sign(task_id, name, expires) and `now` is before `expires`.
  // kPermissionDenied for a missing, non-numeric or non-canonical expiry (e.g. leading zeros),
  // an expired link, or a signature mismatch (compared in constant time).
  Status Verify(std::string_view task_id, std::string_view name, std::string_view expires_text,
                std::string_view signature_hex, TimePoint now) const;

 private:
  std::string secret_;
};

// exportd's own download link: base_url + "/v1/exports/<task_id>/files/<name>?expires=<unix
// seconds>&signature=<hex>" (api/download_handler.cc serves it). `base_url` has no trailing '/';
// `task_id` and `name` must already be valid (they are not percent-encoded).
std::string SignedDownloadUrl(const UrlSigner& signer, std::string_view base_url,
                              std::string_view task_id, std::string_view name,
                              TimePoint expires_at);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_FS_URL_SIGNER_H_
