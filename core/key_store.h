// ApiKeyStore: API keys, kept as SHA-256 digests only. Implemented in storage/.
#ifndef EXPORTD_CORE_KEY_STORE_H_
#define EXPORTD_CORE_KEY_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/role.h"
#include "core/status.h"

namespace exportd {

struct ApiKey {
  std::string id;      // short public id, the principal name of tasks it creates
  std::string name;    // operator's label
  std::string sha256;  // hex digest of the secret key
  Role role = Role::kExporter;
  TimePoint created_at{};
  std::optional<TimePoint> revoked_at;
};

// Thread-safe.
class ApiKeyStore {
 public:
  virtual ~ApiKeyStore() = default;
  virtual Status Insert(const ApiKey& key) = 0;  // kAlreadyExists on a duplicate id or digest
  // The unrevoked key with this digest; nullopt if none.
  virtual Result<std::optional<ApiKey>> FindActiveByDigest(const std::string& sha256) = 0;
  virtual Result<std::vector<ApiKey>> List() = 0;
  virtual Status Revoke(const std::string& id, TimePoint now) = 0;  // kNotFound
  virtual Result<int64_t> CountActive() = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_KEY_STORE_H_
