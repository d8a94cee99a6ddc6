// Versioned schema migrations of the exportd database, and the one way stores open it.
//
// Migrations are storage/sqlite/migrations/NNN_name.sql, compiled into the binary at build time
// (storage/sqlite/migrations/generate.cmake). Applied versions are rows of schema_migrations.
#ifndef EXPORTD_STORAGE_SQLITE_MIGRATIONS_H_
#define EXPORTD_STORAGE_SQLITE_MIGRATIONS_H_

#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/sqlite/sqlite_db.h"

namespace exportd {

struct Migration {
  int version;            // 1, 2, ... without gaps
  std::string_view name;  // "init"
  std::string_view sql;   // one or more statements; no BEGIN/COMMIT of its own
};

// The migrations built into this binary, in version order. Static storage.
std::span<const Migration> EmbeddedMigrations();

// Brings `db` up to the last of `migrations`. Each migration runs in its own BEGIN IMMEDIATE
// transaction that first re-reads the applied version, so several connections or processes may
// migrate one file at once and each migration still runs exactly once. kFailedPrecondition if the
// database has a version newer than the last of `migrations` (an older binary on a newer file),
// or if `migrations` is not numbered 1, 2, ...
Status ApplyMigrations(Database& db, std::span<const Migration> migrations);

// The highest applied version, 0 for a fresh file.
Result<int> SchemaVersion(Database& db);

// Opens (creating if missing) the exportd database at `path` and migrates it with
// EmbeddedMigrations(). The connection has journal_mode=WAL, synchronous=FULL, foreign_keys=ON
// and a busy timeout; see the .cc for why. The directory must exist.
Result<Database> OpenStoreDatabase(const std::string& path);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_MIGRATIONS_H_
