#include "storage/sqlite/migrations.h"

#include <memory>
#include <string>

#include "storage/sqlite/commit_counter.h"

namespace exportd {
namespace {

// Long enough to ride out another connection's commit (an fsync) under load, short enough that
// a stuck writer surfaces as kUnavailable rather than a hung request.
constexpr int kBusyTimeoutMs = 5000;

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY NOT NULL,"
    " name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL)";
constexpr std::string_view kSelectVersion =
    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
constexpr std::string_view kInsertVersion =
    "INSERT INTO schema_migrations (version, name, applied_at)"
    " VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER) * 1000)";

Status CheckNumbering(std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return FailedPrecondition("migration " + std::string(migrations[i].name) + " has version " +
                                std::to_string(migrations[i].version) + ", expected " +
                                std::to_string(i + 1));
    }
  }
  return Status::Ok();
}

Status CheckNotNewer(int applied, std::span<const Migration> migrations) {
  if (applied > static_cast<int>(migrations.size())) {
    return FailedPrecondition("database schema version " + std::to_string(applied) +
                              " is newer than this binary supports (" +
                              std::to_string(migrations.size()) + "); upgrade exportd");
  }
  return Status::Ok();
}

// Runs a PRAGMA that answers with one text row and returns that row.
Result<std::string> PragmaText(Database& db, std::string_view pragma) {
  ASSIGN_OR_RETURN(Statement stmt, db.Prepare(pragma));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Internal(std::string(pragma) + " returned no row");
  return stmt.ColumnText(0);
}

}  // namespace

Result<int> SchemaVersion(Database& db) {
  RETURN_IF_ERROR(db.Exec(kCreateMigrationsTable).WithContext("schema_migrations"));
  ASSIGN_OR_RETURN(Statement stmt, db.Prepare(kSelectVersion));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Internal("schema version query returned no row");
  return static_cast<int>(stmt.ColumnInt(0));
}

Status ApplyMigrations(Database& db, std::span<const Migration> migrations) {
  RETURN_IF_ERROR(CheckNumbering(migrations));
  ASSIGN_OR_RETURN(int applied, SchemaVersion(db));
  RETURN_IF_ERROR(CheckNotNewer(applied, migrations));
  for (const Migration& migration : migrations) {
    if (migration.version <= applied) continue;
    Transaction tx(db);
    RETURN_IF_ERROR(tx.status());
    // Another connection may have migrated since the read above; the write lock is ours now.
    ASSIGN_OR_RETURN(applied, SchemaVersion(db));
    RETURN_IF_ERROR(CheckNotNewer(applied, migrations));
    if (migration.version <= applied) continue;
    const std::string context =
        "migration " + std::to_string(migration.version) + "_" + std::string(migration.name);
    RETURN_IF_ERROR(db.Exec(migration.sql).WithContext(context));
    ASSIGN_OR_RETURN(Statement insert, db.Prepare(kInsertVersion));
    insert.Bind(1, int64_t{migration.version}).Bind(2, migration.name);
    RETURN_IF_ERROR(insert.Run().WithContext(context));
    RETURN_IF_ERROR(tx.Commit().WithContext(context));
    applied = migration.version;
  }
  return Status::Ok();
}

Result<Database> OpenStoreDatabase(const std::string& path) {
  ASSIGN_OR_RETURN(Database db, Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                               kBusyTimeoutMs));
  // Before the first statement, so that every commit of every store connection is counted.
  ASSIGN_OR_RETURN(std::shared_ptr<CommitCounter> commits, CommitCounter::Open(path));
  db.CountCommits(std::move(commits));
  // WAL: readers never block the writer and a commit is one sequential append.
  ASSIGN_OR_RETURN(std::string mode, PragmaText(db, "PRAGMA journal_mode=WAL"));
  if (mode != "wal") {
    return FailedPrecondition("cannot use WAL journal for " + path + " (got " + mode + ")");
  }
  // FULL, not NORMAL: in WAL mode NORMAL syncs only at checkpoints, so a power loss can drop
  // commits that already returned OK. A 202 promises the task is on disk, and TaskStore promises
  // that an OK return is durable, so every commit syncs the WAL (one fsync per write).
  RETURN_IF_ERROR(db.Exec("PRAGMA synchronous=FULL").WithContext(path));
  // Per connection and off by default; events must not outlive or precede their task.
  RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys=ON").WithContext(path));
  RETURN_IF_ERROR(ApplyMigrations(db, EmbeddedMigrations()).WithContext(path));
  return db;
}

}  // namespace exportd
