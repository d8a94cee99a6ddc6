#include "server/key_commands.h"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/time_format.h"
#include "server/data_dir.h"
#include "server/stores.h"
#include "storage/base/digest.h"

namespace exportd {
namespace {

std::string NewKeySecret() { return "xd_" + ToHex(RandomBytes(24)); }
std::string NewKeyId() { return "key_" + ToHex(RandomBytes(6)); }

Status InsertKey(ApiKeyStore& keys, const std::string& name, const std::string& secret, Role role,
                 ApiKey* inserted) {
  ApiKey key;
  key.id = NewKeyId();
  key.name = name;
  key.sha256 = Sha256Hex(secret);
  key.role = role;
  key.created_at = SystemClock().Now();
  RETURN_IF_ERROR(keys.Insert(key));
  if (inserted != nullptr) *inserted = key;
  return Status::Ok();
}

}  // namespace

Status EnsureBootstrapKey(ApiKeyStore& keys) {
  const char* given = std::getenv("EXPORTD_BOOTSTRAP_KEY");
  if (given != nullptr && *given != '\0') {
    ASSIGN_OR_RETURN(std::optional<ApiKey> existing, keys.FindActiveByDigest(Sha256Hex(given)));
    if (existing) return Status::Ok();
    Status inserted = InsertKey(keys, "bootstrap", given, Role::kAdmin, nullptr);
    if (inserted.code() == StatusCode::kAlreadyExists) {
      spdlog::warn("EXPORTD_BOOTSTRAP_KEY names a revoked key; it stays revoked");
      return Status::Ok();
    }
    RETURN_IF_ERROR(inserted);
    spdlog::info("admin API key taken from EXPORTD_BOOTSTRAP_KEY");
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(int64_t active, keys.CountActive());
  if (active > 0) return Status::Ok();
  std::string secret = NewKeySecret();
  ApiKey key;
  RETURN_IF_ERROR(InsertKey(keys, "bootstrap", secret, Role::kAdmin, &key));
  std::cout << "admin API key: " << secret << std::endl;
  spdlog::info("created admin API key {} (printed once on stdout)", key.id);
  return Status::Ok();
}

Status CreateKeyCommand(const Config& config, const std::string& name, Role role) {
  RETURN_IF_ERROR(PrepareDataDir(config));
  ASSIGN_OR_RETURN(std::shared_ptr<ApiKeyStore> keys, OpenKeyStore(config));
  std::string secret = NewKeySecret();
  ApiKey key;
  RETURN_IF_ERROR(InsertKey(*keys, name, secret, role, &key));
  std::cout << secret << std::endl;
  std::cerr << "created " << RoleName(role) << " key " << key.id << " ('" << name
            << "'); the secret above is shown only once\n";
  return Status::Ok();
}

Status ListKeysCommand(const Config& config) {
  ASSIGN_OR_RETURN(std::shared_ptr<ApiKeyStore> keys, OpenKeyStore(config));
  ASSIGN_OR_RETURN(std::vector<ApiKey> list, keys->List());
  for (const ApiKey& k : list) {
    std::cout << k.id << "\t" << k.name << "\t" << RoleName(k.role) << "\t"
              << FormatRfc3339Seconds(k.created_at) << "\t"
              << (k.revoked_at ? "revoked " + FormatRfc3339Seconds(*k.revoked_at) : "active")
              << "\n";
  }
  return Status::Ok();
}

Status RevokeKeyCommand(const Config& config, const std::string& id) {
  ASSIGN_OR_RETURN(std::shared_ptr<ApiKeyStore> keys, OpenKeyStore(config));
  RETURN_IF_ERROR(keys->Revoke(id, SystemClock().Now()));
  std::cerr << "revoked key " << id << "\n";
  return Status::Ok();
}

}  // namespace exportd
