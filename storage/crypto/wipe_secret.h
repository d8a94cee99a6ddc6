// Key material is overwritten before its memory is given back, so that a core dump or a reused
// heap block does not hold it.
#ifndef EXPORTD_STORAGE_CRYPTO_WIPE_SECRET_H_
#define EXPORTD_STORAGE_CRYPTO_WIPE_SECRET_H_

#include <openssl/crypto.h>

#include <string>

namespace exportd {

// Zeroes the bytes of `s` (OPENSSL_cleanse, which the compiler cannot drop as a dead store).
inline void WipeSecret(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

}  // namespace exportd

#endif  // EXPORTD_STORAGE_CRYPTO_WIPE_SECRET_H_
