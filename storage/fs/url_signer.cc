#include "storage/fs/url_signer.h"

#include <charconv>

#include "core/time_format.h"
#include "storage/base/digest.h"
#include "storage/base/small_file.h"

namespace exportd {
namespace {

constexpr size_t kSecretBytes = 32;
constexpr size_t kSecretHexLength = 2 * kSecretBytes;

bool IsHexSecret(std::string_view s) {
  if (s.size() != kSecretHexLength) return false;
  for (char c : s) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

// Reads the secret; kNotFound when the file does not exist.
Result<std::string> ReadSecret(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, "secret"));
  if (!IsHexSecret(text)) {
    return FailedPrecondition("secret file " + path + " does not hold " +
                              std::to_string(kSecretHexLength) + " hex characters");
  }
  return text;
}

}  // namespace

Result<std::string> UrlSigner::LoadOrCreateSecret(const std::string& path) {
  Result<std::string> existing = ReadSecret(path);
  if (existing.ok() || existing.status().code() != StatusCode::kNotFound) return existing;
  Status created = CreateFileOnce(path, ToHex(RandomBytes(kSecretBytes)) + "\n", "secret");
  // kAlreadyExists: another process created it first; use theirs.
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
  return ReadSecret(path);
}

std::string UrlSigner::Sign(std::string_view task_id, std::string_view name,
                            int64_t expires_unix) const {
  std::string message;
  message.reserve(task_id.size() + name.size() + 24);
  message.append(task_id);
  message.push_back('\n');
  message.append(name);
  message.push_back('\n');
  message.append(std::to_string(expires_unix));
  return HmacSha256Hex(secret_, message);
}

Status UrlSigner::Verify(std::string_view task_id, std::string_view name,
                         std::string_view expires_text, std::string_view signature_hex,
                         TimePoint now) const {
  int64_t expires = 0;
  const char* end = expires_text.data() + expires_text.size();
  auto [ptr, ec] = std::from_chars(expires_text.data(), end, expires);
  if (expires_text.empty() || ec != std::errc() || ptr != end || expires < 0 ||
      std::to_string(expires) != expires_text) {
    return PermissionDenied("download link has a bad expiry");
  }
  if (ToUnixSeconds(now) >= expires) return PermissionDenied("download link has expired");
  if (!ConstantTimeEquals(Sign(task_id, name, expires), signature_hex)) {
    return PermissionDenied("download link signature does not match");
  }
  return Status::Ok();
}

std::string SignedDownloadUrl(const UrlSigner& signer, std::string_view base_url,
                              std::string_view task_id, std::string_view name,
                              TimePoint expires_at) {
  const int64_t expires = ToUnixSeconds(expires_at);
  std::string url(base_url);
  url.append("/v1/exports/");
  url.append(task_id);
  url.append("/files/");
  url.append(name);
  url.append("?expires=");
  url.append(std::to_string(expires));
  url.append("&signature=");
  url.append(signer.Sign(task_id, name, expires));
  return url;
}

}  // namespace exportd
