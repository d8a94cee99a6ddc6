#include "storage/sqlite/principal_migration.h"

#include "core/principal.h"
#include "storage/sqlite/migrations.h"

namespace exportd {
namespace {

// ?1: the new prefix "jwt:<issuer>#"; ?2: kUnclaimedTokenPrefix; ?3: its length + 1 (substr is
// 1-based). The LIKE pattern escapes nothing: '?' and '#' are no LIKE wildcards, ':' neither.
constexpr std::string_view kClaim =
    "UPDATE tasks"
    "   SET principal = ?1 || substr(principal, ?3),"
    "       body = json_set(body, '$.principal', ?1 || substr(principal, ?3)),"
    "       revision = revision + 1"
    " WHERE substr(principal, 1, ?3 - 1) = ?2";

}  // namespace

Result<int64_t> ClaimTokenPrincipals(const std::string& db_path, std::string_view issuer) {
  ASSIGN_OR_RETURN(Database db, OpenStoreDatabase(db_path));
  Transaction tx(db);
  RETURN_IF_ERROR(tx.status());
  ASSIGN_OR_RETURN(Statement claim, db.Prepare(kClaim));
  const std::string prefix = TokenPrincipal(issuer, "");
  claim.Bind(1, std::string_view(prefix))
      .Bind(2, kUnclaimedTokenPrefix)
      .Bind(3, static_cast<int64_t>(kUnclaimedTokenPrefix.size()) + 1);
  RETURN_IF_ERROR(claim.Run().WithContext("claiming token principals"));
  const int64_t changed = sqlite3_changes64(db.get());
  RETURN_IF_ERROR(tx.Commit().WithContext("claiming token principals"));
  return changed;
}

}  // namespace exportd
