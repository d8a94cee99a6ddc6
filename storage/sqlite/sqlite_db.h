// RAII handles for SQLite and the one function that translates SQLite errors into Status.
#ifndef EXPORTD_STORAGE_SQLITE_SQLITE_DB_H_
#define EXPORTD_STORAGE_SQLITE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/request.h"
#include "core/status.h"

namespace exportd {

// Maps a SQLite result code to a Status:
//   BUSY, LOCKED, IOERR, FULL, CANTOPEN, PROTOCOL, INTERRUPT -> kUnavailable (transient)
//   CORRUPT, NOTADB                                          -> kDataLoss
//   CONSTRAINT                                               -> kAlreadyExists
//   READONLY, PERM, AUTH                                     -> kPermissionDenied
//   anything else (e.g. "no such table")                     -> kFailedPrecondition
// `db` may be null; when set, its error message is included.
Status SqliteStatus(int rc, sqlite3* db, std::string_view context);

class CommitCounter;
class Statement;
struct CommitWatch;  // a connection's link to its CommitCounter (sqlite_db.cc)

// One connection. Not thread-safe: guard it or give each thread its own.
class Database {
 public:
  // flags: SQLITE_OPEN_READONLY, or SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE.
  // Always adds SQLITE_OPEN_NOMUTEX (callers serialise), sets the busy timeout and turns off
  // the double-quoted string literal fallback (SQLITE_DBCONFIG_DQS_DML/DDL): a double-quoted name
  // that is no column is an error ("no such column"), never the text of the name.
  static Result<Database> Open(const std::string& path, int flags, int busy_timeout_ms = 5000);

  Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  sqlite3* get() const { return db_; }
  // Runs one or more statements without results.
  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);

  // From now on every commit on this connection is counted in `counter`: SQLite's commit hook
  // marks the start, and each call that can commit (Exec, and a Statement's Step, Reset and
  // destruction) marks the end before it returns, whether the commit succeeded or not.
  // REQUIRES: an open connection, not inside a call of its own.
  void CountCommits(std::shared_ptr<CommitCounter> counter);
  // The counter given to CountCommits, or null.
  const std::shared_ptr<CommitCounter>& commit_counter() const;

 private:
  Database(sqlite3* db, std::shared_ptr<CommitWatch> watch);
  sqlite3* db_ = nullptr;
  // Set by Open (null only when default-constructed or moved from). Its address is the commit
  // hook's argument, so it stays put when the Database moves; shared with the Statements, which
  // SQLite lets outlive the connection.
  std::shared_ptr<CommitWatch> watch_;
};

// A prepared statement. Binding indexes are 1-based, as in SQLite.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept
      : stmt_(std::exchange(other.stmt_, nullptr)),
        db_(other.db_),
        watch_(std::move(other.watch_)) {}
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  sqlite3_stmt* get() const { return stmt_; }

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view value);  // copied (SQLITE_TRANSIENT)
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& Bind(int index, const std::optional<std::string>& value);
  Statement& Bind(int index, const std::optional<int64_t>& value);
  Statement& BindNull(int index);
  Statement& Bind(int index, const FilterValue& value);

  // Steps once: true if a row is available, false when done. Errors are translated.
  Result<bool> Step();
  // Steps to completion, expecting no rows.
  Status Run();
  void Reset();

  int64_t ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  double ColumnDouble(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string ColumnText(int col) const;
  std::optional<std::string> ColumnOptText(int col) const;
  std::optional<int64_t> ColumnOptInt(int col) const;
  bool ColumnIsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, sqlite3* db, std::shared_ptr<CommitWatch> watch)
      : stmt_(stmt), db_(db), watch_(std::move(watch)) {}
  void Finalize();
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  std::shared_ptr<CommitWatch> watch_;  // its Database's: settled after each call that can commit
};

// BEGIN IMMEDIATE on construction (check status()), ROLLBACK on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  const Status& status() const { return status_; }
  Status Commit();

 private:
  Database& db_;
  Status status_;
  bool done_ = false;
};

// Quotes an identifier for SQL: "name" with inner quotes doubled.
std::string QuoteIdentifier(std::string_view name);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_SQLITE_DB_H_
