// ApiKeyStore on the exportd SQLite file (the one SqliteTaskStore uses).
#ifndef EXPORTD_STORAGE_SQLITE_SQLITE_KEY_STORE_H_
#define EXPORTD_STORAGE_SQLITE_SQLITE_KEY_STORE_H_

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/key_store.h"
#include "core/status.h"
#include "storage/sqlite/committed_read_cache.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/statement_cache.h"

namespace exportd {

// Thread-safe: one connection of its own, serialised by a mutex. Times are kept to the
// millisecond. The active keys found are kept until the next commit to the file by any exportd
// process (a revocation by `exportd keys revoke` among them), so that authenticating a request
// takes no read transaction (CommittedReadCache).
class SqliteKeyStore final : public ApiKeyStore {
 public:
  // Opens or creates the database at `path` and applies pending migrations (see
  // SqliteTaskStore::Open; either may be opened first).
  static Result<std::unique_ptr<SqliteKeyStore>> Open(const std::string& path);

  SqliteKeyStore(const SqliteKeyStore&) = delete;
  SqliteKeyStore& operator=(const SqliteKeyStore&) = delete;

  Status Insert(const ApiKey& key) override;
  Result<std::optional<ApiKey>> FindActiveByDigest(const std::string& sha256) override;
  // Oldest first (created_at, then id).
  Result<std::vector<ApiKey>> List() override;
  // Revoking a revoked key is OK and keeps the first revocation time.
  Status Revoke(const std::string& id, TimePoint now) override;
  Result<int64_t> CountActive() override;

 private:
  explicit SqliteKeyStore(Database db)
      : db_(std::move(db)), statements_(db_), active_keys_(db_.commit_counter(), kMaxKeysKept) {}

  static constexpr size_t kMaxKeysKept = 1024;

  std::mutex mu_;
  Database db_;                // guarded by mu_
  StatementCache statements_;  // guarded by mu_; declared after db_, destroyed before it
  CommittedReadCache<ApiKey> active_keys_;  // by digest; thread-safe itself
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_SQLITE_KEY_STORE_H_
