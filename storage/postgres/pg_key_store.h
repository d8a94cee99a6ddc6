// ApiKeyStore on PostgreSQL (the api_keys table of the database PgTaskStore uses).
#ifndef EXPORTD_STORAGE_POSTGRES_PG_KEY_STORE_H_
#define EXPORTD_STORAGE_POSTGRES_PG_KEY_STORE_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/key_store.h"
#include "core/status.h"
#include "storage/postgres/pg_pool.h"

namespace exportd {

// Thread-safe (one pooled connection per call). Times are kept to the millisecond. The active
// keys found are kept for at most a second, so that authenticating a request rarely costs a
// round trip: a revocation through this store counts at once, one by another instance (or
// `exportd keys revoke`) within a second.
class PgKeyStore final : public ApiKeyStore {
 public:
  // REQUIRES: the schema is migrated (PgTaskStore::Open on the same database).
  explicit PgKeyStore(std::shared_ptr<PgPool> pool) : pool_(std::move(pool)) {}

  Status Insert(const ApiKey& key) override;
  Result<std::optional<ApiKey>> FindActiveByDigest(const std::string& sha256) override;
  // Oldest first (created_at, then id).
  Result<std::vector<ApiKey>> List() override;
  // Revoking a revoked key is OK and keeps the first revocation time.
  Status Revoke(const std::string& id, TimePoint now) override;
  Result<int64_t> CountActive() override;

 private:
  static constexpr auto kKeptFor = std::chrono::seconds(1);
  static constexpr size_t kMaxKept = 1024;
  struct Kept {
    ApiKey key;
    std::chrono::steady_clock::time_point until;
  };

  std::shared_ptr<PgPool> pool_;
  std::mutex mu_;
  std::unordered_map<std::string, Kept> kept_;  // by digest; guarded by mu_
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_POSTGRES_PG_KEY_STORE_H_
