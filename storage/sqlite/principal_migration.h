// The second half of migration 008 (principal namespaces, core/principal.h): tasks that tokens
// created before it are owned by "jwt:?#<sub>", since SQL cannot know the issuer; exportd gives
// them the configured issuer's namespace when it starts with OAuth configured.
#ifndef EXPORTD_STORAGE_SQLITE_PRINCIPAL_MIGRATION_H_
#define EXPORTD_STORAGE_SQLITE_PRINCIPAL_MIGRATION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace exportd {

// What migration 008 made of a pre-namespace token principal `<sub>`: "jwt:?#<sub>".
inline constexpr std::string_view kUnclaimedTokenPrefix = "jwt:?#";

// Rewrites every task principal "jwt:?#<sub>" in the exportd database at `db_path` to
// TokenPrincipal(issuer, sub) (column and body, revision bumped), in one transaction; returns
// how many tasks changed (0 once done). Safe to run at every start and beside other exportd
// processes. Opens the database with OpenStoreDatabase (so it migrates it first).
Result<int64_t> ClaimTokenPrincipals(const std::string& db_path, std::string_view issuer);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_PRINCIPAL_MIGRATION_H_
