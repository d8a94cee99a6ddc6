// The "encryption" block of the configuration: whether export files are encrypted at rest
// (storage/crypto/encrypting_object_store.h) and where the master keys come from. Parsed, completed
// from the EXPORTD_MASTER_KEY* environment variables and checked here, so config.cc only calls
// in; the keys themselves are read at start-up (server/object_store_factory.cc).
#ifndef EXPORTD_SERVER_ENCRYPTION_CONFIG_H_
#define EXPORTD_SERVER_ENCRYPTION_CONFIG_H_

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace exportd {

struct EncryptionConfig {
  // Unset: on for local storage, off for S3 (whose uploads ask for server-side encryption, so
  // pre-signed URLs keep serving plaintext). On with S3: the same client-side envelope as local
  // storage, and downloads go through exportd instead of pre-signed S3 URLs.
  std::optional<bool> enabled;
  // "id:base64" lines (storage/crypto/master_keys.h), mode 0600. Empty: DATA_DIR/master_keys,
  // created on first start, unless the keys come from EXPORTD_MASTER_KEY.
  std::string key_file;
  // The key new files are wrapped with; empty: the last one listed.
  std::string active_key_id;
  // Serve files stored without encryption (written before it was switched on) as they are.
  bool allow_plaintext = false;
  // The text of EXPORTD_MASTER_KEY ("id:base64" entries): a secret, never logged. When set it
  // replaces the key file.
  std::string env_keys;

  bool Enabled(const std::string& storage_type) const {
    return enabled.value_or(storage_type != "s3");
  }
};

// Reads the keys of the "encryption" object; relative key_file paths are resolved against
// `base_dir`. Unknown keys are added to `ignored` as "encryption.<key>". kInvalidArgument for
// wrong types.
Status ParseEncryptionConfig(const nlohmann::json& block, const std::string& base_dir,
                             EncryptionConfig& out, std::vector<std::string>& ignored);
// EXPORTD_MASTER_KEY (key entries), EXPORTD_MASTER_KEY_FILE, EXPORTD_MASTER_KEY_ID and
// EXPORTD_ENCRYPTION ("on" / "off") override the file.
Status ApplyEncryptionEnvironment(
    EncryptionConfig& encryption,
    const std::function<std::optional<std::string>(const std::string&)>& env);
// Shape checks (the active key id's form); the key material is checked when it is loaded.
Status ValidateEncryptionConfig(const EncryptionConfig& encryption);

}  // namespace exportd

#endif  // EXPORTD_SERVER_ENCRYPTION_CONFIG_H_
