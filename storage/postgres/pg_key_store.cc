#include "storage/postgres/pg_key_store.h"

#include "core/time_format.h"

namespace exportd {
namespace {

constexpr std::string_view kInsertKey =
    "INSERT INTO api_keys (id, name, sha256, role, created_at, revoked_at)"
    " VALUES ($1, $2, $3, $4, $5, $6)";
constexpr std::string_view kSelectActiveByDigest =
    "SELECT id, name, sha256, role, created_at, revoked_at FROM api_keys"
    " WHERE sha256 = $1 AND revoked_at IS NULL";
constexpr std::string_view kSelectAllKeys =
    "SELECT id, name, sha256, role, created_at, revoked_at FROM api_keys"
    " ORDER BY created_at, id";
constexpr std::string_view kRevoke =
    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1";
constexpr std::string_view kCountActive = "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL";

ApiKey ReadKey(const PgResult& r, int row) {
  ApiKey key;
  key.id = r.Text(row, 0);
  key.name = r.Text(row, 1);
  key.sha256 = r.Text(row, 2);
  // The column's CHECK admits only the three names; reader is the safe reading of anything else.
  key.role = ParseRole(r.Text(row, 3)).value_or(Role::kReader);
  key.created_at = FromUnixMillis(r.Int(row, 4));
  if (std::optional<int64_t> revoked = r.OptInt(row, 5)) key.revoked_at = FromUnixMillis(*revoked);
  return key;
}

}  // namespace

Status PgKeyStore::Insert(const ApiKey& key) {
  return pool_->Run([&](PgConnection& c) {
    std::optional<int64_t> revoked_at;
    if (key.revoked_at) revoked_at = ToUnixMillis(*key.revoked_at);
    // The only constraints that can fail are the id and digest uniqueness: kAlreadyExists.
    return c
        .Exec(kInsertKey, PgParams()
                              .Text(key.id)
                              .Text(key.name)
                              .Text(key.sha256)
                              .Text(RoleName(key.role))
                              .Int(ToUnixMillis(key.created_at))
                              .OptInt(revoked_at))
        .status()
        .WithContext("insert api key " + key.id);
  });
}

Result<std::optional<ApiKey>> PgKeyStore::FindActiveByDigest(const std::string& sha256) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = kept_.find(sha256);
    if (it != kept_.end() && std::chrono::steady_clock::now() < it->second.until) {
      return std::optional<ApiKey>(it->second.key);
    }
  }
  // Digests that match no key are not kept: they are refused requests, and anyone can send many.
  const auto until = std::chrono::steady_clock::now() + kKeptFor;
  std::optional<ApiKey> found;
  RETURN_IF_ERROR(pool_->Run([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kSelectActiveByDigest, PgParams().Text(sha256)));
    if (r.rows() > 0) found = ReadKey(r, 0);
    return Status::Ok();
  }));
  if (found) {
    std::lock_guard<std::mutex> lock(mu_);
    if (kept_.size() >= kMaxKept) kept_.clear();
    kept_[sha256] = Kept{*found, until};
  }
  return found;
}

Result<std::vector<ApiKey>> PgKeyStore::List() {
  std::vector<ApiKey> keys;
  RETURN_IF_ERROR(pool_->Run([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kSelectAllKeys));
    keys.clear();
    for (int i = 0; i < r.rows(); ++i) keys.push_back(ReadKey(r, i));
    return Status::Ok();
  }));
  return keys;
}

Status PgKeyStore::Revoke(const std::string& id, TimePoint now) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    kept_.clear();
  }
  return pool_->Run([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kRevoke, PgParams().Text(id).Int(ToUnixMillis(now))));
    if (r.affected() == 0) return NotFound("api key " + id + " not found");
    return Status::Ok();
  });
}

Result<int64_t> PgKeyStore::CountActive() {
  int64_t count = 0;
  RETURN_IF_ERROR(pool_->Run([&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(PgResult r, c.Exec(kCountActive));
    count = r.Int(0, 0);
    return Status::Ok();
  }));
  return count;
}

}  // namespace exportd
