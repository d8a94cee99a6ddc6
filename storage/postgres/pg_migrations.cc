#include "storage/postgres/pg_migrations.h"

#include <string>

namespace exportd {
namespace {

// One advisory lock key per schema: two deployments in separate schemas of one database do not
// wait for each other.
constexpr std::string_view kLock =
    "SELECT pg_advisory_lock(hashtext('exportd migrations ' || current_schema()))";
constexpr std::string_view kUnlock =
    "SELECT pg_advisory_unlock(hashtext('exportd migrations ' || current_schema()))";
constexpr std::string_view kCreateVersions =
    "CREATE TABLE IF NOT EXISTS exportd_schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";
constexpr std::string_view kSelectVersion =
    "SELECT COALESCE(MAX(version), 0) FROM exportd_schema_migrations";
constexpr std::string_view kInsertVersion =
    "INSERT INTO exportd_schema_migrations (version, name) VALUES ($1, $2)";
constexpr std::string_view kVersionsExist = "SELECT to_regclass('exportd_schema_migrations')";

Status Migrate(PgConnection& conn, std::span<const PgMigration> migrations) {
  RETURN_IF_ERROR(conn.ExecScript(kCreateVersions));
  ASSIGN_OR_RETURN(int current, PgSchemaVersion(conn));
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  if (current > latest) {
    return FailedPrecondition("the PostgreSQL task store has schema version " +
                              std::to_string(current) + ", newer than this exportd (" +
                              std::to_string(latest) + "): upgrade exportd");
  }
  for (const PgMigration& m : migrations) {
    if (m.version <= current) continue;
    RETURN_IF_ERROR(conn.ExecScript("BEGIN"));
    Status status = conn.ExecScript(m.sql);
    if (status.ok()) {
      status = conn.Exec(kInsertVersion, PgParams().Int(m.version).Text(m.name)).status();
    }
    if (status.ok()) status = conn.ExecScript("COMMIT");
    if (!status.ok()) {
      (void)conn.ExecScript("ROLLBACK");
      return status.WithContext("migration " + std::to_string(m.version) + " (" +
                                std::string(m.name) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<int> PgSchemaVersion(PgConnection& conn) {
  ASSIGN_OR_RETURN(PgResult exists, conn.Exec(kVersionsExist));
  if (exists.rows() == 0 || exists.IsNull(0, 0)) return 0;
  ASSIGN_OR_RETURN(PgResult version, conn.Exec(kSelectVersion));
  return static_cast<int>(version.Int(0, 0));
}

Status ApplyPgMigrations(PgConnection& conn, std::span<const PgMigration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return FailedPrecondition("migrations must be numbered 1, 2, ... without gaps");
    }
  }
  RETURN_IF_ERROR(conn.Exec(kLock).status().WithContext("lock for migrations"));
  Status status = Migrate(conn, migrations);
  // A lost connection releases the lock by itself.
  Status unlocked = conn.Exec(kUnlock).status();
  if (status.ok()) status = unlocked;
  return status;
}

}  // namespace exportd
