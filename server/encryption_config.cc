#include "server/encryption_config.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "server/config_json.h"
#include "storage/crypto/master_keys.h"

namespace exportd {
namespace {

template <typename T>
Status ReadEncryptionKey(const nlohmann::json& obj, const char* key, T& out) {
  return ReadConfigKey(obj, key, out, "encryption.");
}

}  // namespace

Status ParseEncryptionConfig(const nlohmann::json& block, const std::string& base_dir,
                             EncryptionConfig& out, std::vector<std::string>& ignored) {
  if (!block.is_object()) return ConfigError("encryption must be an object");
  static const std::set<std::string> known = {"enabled", "key_file", "active_key_id",
                                              "allow_plaintext"};
  if (block.contains("enabled") && !block["enabled"].is_null()) {
    bool enabled = true;
    RETURN_IF_ERROR(ReadEncryptionKey(block, "enabled", enabled));
    out.enabled = enabled;
  }
  RETURN_IF_ERROR(ReadEncryptionKey(block, "key_file", out.key_file));
  RETURN_IF_ERROR(ReadEncryptionKey(block, "active_key_id", out.active_key_id));
  RETURN_IF_ERROR(ReadEncryptionKey(block, "allow_plaintext", out.allow_plaintext));
  if (!out.key_file.empty() && !base_dir.empty() &&
      !std::filesystem::path(out.key_file).is_absolute()) {
    out.key_file = (std::filesystem::path(base_dir) / out.key_file).lexically_normal().string();
  }
  for (const auto& [key, value] : block.items()) {
    if (!known.count(key)) ignored.push_back("encryption." + key);
  }
  return Status::Ok();
}

Status ApplyEncryptionEnvironment(
    EncryptionConfig& encryption,
    const std::function<std::optional<std::string>(const std::string&)>& env) {
  if (auto v = env("EXPORTD_ENCRYPTION"); v && !v->empty()) {
    if (*v == "on") {
      encryption.enabled = true;
    } else if (*v == "off") {
      encryption.enabled = false;
    } else {
      return ConfigError("EXPORTD_ENCRYPTION must be on or off");
    }
  }
  if (auto v = env("EXPORTD_MASTER_KEY_FILE"); v && !v->empty()) encryption.key_file = *v;
  if (auto v = env("EXPORTD_MASTER_KEY_ID"); v && !v->empty()) encryption.active_key_id = *v;
  if (auto v = env("EXPORTD_MASTER_KEY"); v && !v->empty()) encryption.env_keys = *v;
  return Status::Ok();
}

Status ValidateEncryptionConfig(const EncryptionConfig& encryption) {
  if (!encryption.active_key_id.empty()) {
    if (Status valid = ValidateMasterKeyId(encryption.active_key_id); !valid.ok()) {
      return ConfigError("encryption.active_key_id: " + valid.message());
    }
  }
  return Status::Ok();
}

}  // namespace exportd
