// ApiKeyStore on PostgreSQL (the api_keys table of the database PgTaskStore uses).
#ifndef EXPORTD_STORAGE_POSTGRES_PG_KEY_STORE_H_
#define EXPORTD_STORAGE_POSTGRES_PG_KEY_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/key_store.h"
#include "core/status.h"
#include "storage/postgres/pg_pool.h"

namespace exportd {

// Thread-safe (one pooled connection per call). Times are kept to the millisecond. Every lookup
// reads the table, so a revocation by any instance counts at once everywhere.
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
  std::shared_ptr<PgPool> pool_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_POSTGRES_PG_KEY_STORE_H_
