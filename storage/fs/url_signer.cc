#include "storage/fs/url_signer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>

#include "core/time_format.h"
#include "storage/base/digest.h"
#include "storage/base/posix_error.h"

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
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open secret " + path, errno);
  std::string text;
  char buf[256];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("read secret " + path, errno);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > 4096) break;
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  if (!IsHexSecret(text)) {
    return FailedPrecondition("secret file " + path + " does not hold " +
                              std::to_string(kSecretHexLength) + " hex characters");
  }
  return text;
}

// Writes a new secret to a private temporary file and links it into place: link() never
// replaces an existing file, and readers never see a half-written secret.
Status CreateSecret(const std::string& path) {
  const std::string tmp = path + ".tmp-" + ToHex(RandomBytes(8));
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return PosixError("create secret " + tmp, errno);
  Status status = WriteFully(fd.get(), ToHex(RandomBytes(kSecretBytes)) + "\n", "write secret");
  if (status.ok() && ::fsync(fd.get()) != 0) status = PosixError("fsync secret " + tmp, errno);
  if (status.ok()) status = fd.Close("close secret " + tmp);
  if (status.ok() && ::link(tmp.c_str(), path.c_str()) != 0) {
    status = PosixError("link secret " + path, errno);
  }
  ::unlink(tmp.c_str());
  RETURN_IF_ERROR(status);
  std::string dir = std::filesystem::path(path).parent_path().string();
  return SyncDirectory(dir.empty() ? "." : dir);
}

}  // namespace

Result<std::string> UrlSigner::LoadOrCreateSecret(const std::string& path) {
  Result<std::string> existing = ReadSecret(path);
  if (existing.ok() || existing.status().code() != StatusCode::kNotFound) return existing;
  Status created = CreateSecret(path);
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
