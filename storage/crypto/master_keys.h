// Master keys of the envelope encryption (storage/crypto/envelope_cipher.h): named AES-256 keys
// that wrap the data key of each export file. The id of the wrapping key is stored in the file, so
// a key ring holding the old and the new key reads files of both: that is key rotation.
//
// Text form (a key file, or the EXPORTD_MASTER_KEY environment variable): entries
// "id:base64(32 bytes)", one per line (commas and blanks also separate entries); blank lines
// and lines starting with '#' are ignored. Ids are 1..64 of [A-Za-z0-9._-].
#ifndef EXPORTD_STORAGE_CRYPTO_MASTER_KEYS_H_
#define EXPORTD_STORAGE_CRYPTO_MASTER_KEYS_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace exportd {

inline constexpr size_t kMasterKeyBytes = 32;

// Immutable after construction, so thread-safe. Move-only; key bytes are wiped from memory
// when the ring is destroyed. Never logs or prints key material (ids only).
class MasterKeyRing {
 public:
  // `active_id` empty: the last entry is active. `source` names where the text came from, for
  // messages ("key file /etc/exportd/master_keys"). kInvalidArgument for a malformed entry,
  // bad base64, a key that is not 32 bytes, a duplicate id, an unknown active id, or no key.
  static Result<MasterKeyRing> Parse(std::string_view text, std::string_view active_id,
                                     std::string_view source);
  // Reads a key file. A file that group or others may access at all is refused
  // (kPermissionDenied: it must be chmod 600), as is a missing one (kNotFound).
  static Result<MasterKeyRing> LoadFile(const std::string& path, std::string_view active_id);
  // LoadFile, after creating `path` with one random key (mode 0600, never replacing an existing
  // file) when it does not exist. `*created` tells whether this call made it.
  static Result<MasterKeyRing> LoadOrCreateFile(const std::string& path, std::string_view active_id,
                                                bool* created);
  // One entry "id:base64" with a new random key: what an operator appends to rotate.
  static std::string NewEntry(std::string_view id);

  MasterKeyRing(MasterKeyRing&&) = default;
  MasterKeyRing& operator=(MasterKeyRing&&) = default;
  MasterKeyRing(const MasterKeyRing&) = delete;
  MasterKeyRing& operator=(const MasterKeyRing&) = delete;
  ~MasterKeyRing();

  // The id new files are wrapped with.
  const std::string& active_id() const { return active_id_; }
  // The 32 key bytes of `id`; nullptr if the ring has no such key.
  const std::string* Find(std::string_view id) const;
  // Every id, sorted (for messages).
  std::vector<std::string> ids() const;

 private:
  MasterKeyRing() = default;

  std::map<std::string, std::string, std::less<>> keys_;  // id -> 32 bytes
  std::string active_id_;
};

// kInvalidArgument unless `id` is 1..64 of [A-Za-z0-9._-].
Status ValidateMasterKeyId(std::string_view id);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_CRYPTO_MASTER_KEYS_H_
