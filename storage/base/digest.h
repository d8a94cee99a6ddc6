// SHA-256 and HMAC-SHA256 through OpenSSL's EVP interface.
#ifndef EXPORTD_STORAGE_BASE_DIGEST_H_
#define EXPORTD_STORAGE_BASE_DIGEST_H_

#include <memory>
#include <string>
#include <string_view>

namespace exportd {

std::string Sha256Hex(std::string_view data);
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// The raw 32-byte HMAC-SHA256 (for key derivations such as SigV4's signing key).
std::string HmacSha256(std::string_view key, std::string_view data);
std::string ToHex(std::string_view bytes);
// Constant-time comparison of two strings (length may leak).
bool ConstantTimeEquals(std::string_view a, std::string_view b);
// `n` bytes from OpenSSL's CSPRNG.
std::string RandomBytes(size_t n);

// Incremental SHA-256. Not thread-safe.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  // Lowercase hex. At most once.
  std::string FinishHex();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_BASE_DIGEST_H_
