#include "storage/sqlite/sqlite_key_store.h"

#include <utility>

#include "core/time_format.h"
#include "storage/sqlite/migrations.h"

namespace exportd {
namespace {

constexpr std::string_view kInsertKey =
    "INSERT INTO api_keys (id, name, sha256, role, admin, created_at, revoked_at)"
    " VALUES (?1, ?2, ?3, ?4, ?4 = 'admin', ?5, ?6)";
constexpr std::string_view kSelectActiveByDigest =
    "SELECT id, name, sha256, role, created_at, revoked_at FROM api_keys"
    " WHERE sha256 = ?1 AND revoked_at IS NULL";
constexpr std::string_view kSelectAllKeys =
    "SELECT id, name, sha256, role, created_at, revoked_at FROM api_keys"
    " ORDER BY created_at, id";
constexpr std::string_view kRevoke =
    "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";
constexpr std::string_view kKeyExists = "SELECT 1 FROM api_keys WHERE id = ?1";
constexpr std::string_view kCountActive = "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL";

// REQUIRES: the current row is (id, name, sha256, role, created_at, revoked_at).
ApiKey ReadKey(const Statement& stmt) {
  ApiKey key;
  key.id = stmt.ColumnText(0);
  key.name = stmt.ColumnText(1);
  key.sha256 = stmt.ColumnText(2);
  // The column's CHECK admits only the three names; reader is the safe reading of anything else.
  key.role = ParseRole(stmt.ColumnText(3)).value_or(Role::kReader);
  key.created_at = FromUnixMillis(stmt.ColumnInt(4));
  if (std::optional<int64_t> revoked = stmt.ColumnOptInt(5)) {
    key.revoked_at = FromUnixMillis(*revoked);
  }
  return key;
}

}  // namespace

Result<std::unique_ptr<SqliteKeyStore>> SqliteKeyStore::Open(const std::string& path) {
  ASSIGN_OR_RETURN(Database db, OpenStoreDatabase(path));
  return std::unique_ptr<SqliteKeyStore>(new SqliteKeyStore(std::move(db)));
}

Status SqliteKeyStore::Insert(const ApiKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kInsertKey));
  std::optional<int64_t> revoked_at;
  if (key.revoked_at) revoked_at = ToUnixMillis(*key.revoked_at);
  stmt->Bind(1, AsText(key.id))
      .Bind(2, AsText(key.name))
      .Bind(3, AsText(key.sha256))
      .Bind(4, RoleName(key.role))
      .Bind(5, ToUnixMillis(key.created_at))
      .Bind(6, revoked_at);
  // The only constraints that can fail are the id and digest uniqueness: kAlreadyExists.
  return stmt->Run().WithContext("insert api key " + key.id);
}

Result<std::optional<ApiKey>> SqliteKeyStore::FindActiveByDigest(const std::string& sha256) {
  if (std::optional<ApiKey> kept = active_keys_.Find(sha256)) return kept;
  // Digests that match no key are not kept: they are refused requests, and anyone can send many.
  const auto stamp = active_keys_.StampBeforeRead();
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectActiveByDigest));
  stmt->Bind(1, AsText(sha256));
  ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::optional<ApiKey>();
  ApiKey key = ReadKey(*stmt);
  if (stamp) active_keys_.Put(*stamp, sha256, key);
  return std::optional<ApiKey>(std::move(key));
}

Result<std::vector<ApiKey>> SqliteKeyStore::List() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kSelectAllKeys));
  std::vector<ApiKey> keys;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    keys.push_back(ReadKey(*stmt));
  }
  return keys;
}

Status SqliteKeyStore::Revoke(const std::string& id, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  {
    ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kRevoke));
    stmt->Bind(1, AsText(id)).Bind(2, ToUnixMillis(now));
    RETURN_IF_ERROR(stmt->Run().WithContext("revoke api key " + id));
    if (sqlite3_changes(db_.get()) == 1) return Status::Ok();
  }
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kKeyExists));
  stmt->Bind(1, AsText(id));
  ASSIGN_OR_RETURN(bool exists, stmt->Step());
  if (!exists) return NotFound("api key " + id + " not found");
  return Status::Ok();
}

Result<int64_t> SqliteKeyStore::CountActive() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(CachedStatement stmt, statements_.Get(kCountActive));
  ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return Internal("count of api keys returned no row");
  return stmt->ColumnInt(0);
}

}  // namespace exportd
