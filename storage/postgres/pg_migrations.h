// Versioned schema migrations of the exportd database on PostgreSQL.
//
// Migrations are storage/postgres/migrations/NNN_name.sql, compiled into the binary at build time
// (the SQLite store's generator, storage/sqlite/migrations/generate.cmake). Applied versions are
// rows of exportd_schema_migrations, in the schema the connection's search_path names first.
#ifndef EXPORTD_STORAGE_POSTGRES_PG_MIGRATIONS_H_
#define EXPORTD_STORAGE_POSTGRES_PG_MIGRATIONS_H_

#include <span>
#include <string_view>

#include "core/status.h"
#include "storage/postgres/pg_connection.h"

namespace exportd {

struct PgMigration {
  int version;            // 1, 2, ... without gaps
  std::string_view name;  // "init"
  std::string_view sql;   // one or more statements; no BEGIN/COMMIT of its own
};

// The migrations built into this binary, in version order. Static storage.
std::span<const PgMigration> PgEmbeddedMigrations();

// Brings the database behind `conn` up to the last of `migrations`. Holds a session advisory lock
// (one key per schema) for the whole run, so when several instances start at once one migrates
// and the others wait, then find nothing left to do; each migration commits with its version row
// in one transaction. kFailedPrecondition if the database has a version newer than the last of
// `migrations` (an older binary on a newer schema), or if they are not numbered 1, 2, ...
Status ApplyPgMigrations(PgConnection& conn, std::span<const PgMigration> migrations);

// The highest applied version, 0 for an empty database.
Result<int> PgSchemaVersion(PgConnection& conn);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_POSTGRES_PG_MIGRATIONS_H_
