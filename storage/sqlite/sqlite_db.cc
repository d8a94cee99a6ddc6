#include "storage/sqlite/sqlite_db.h"

#include <utility>

#include "storage/sqlite/commit_counter.h"

namespace exportd {

// Per connection, touched only by the thread inside one of the connection's calls.
struct CommitWatch {
  std::shared_ptr<CommitCounter> counter;  // null: commits are not counted
  bool in_flight = false;                  // Starting was called, Ended not yet
};

namespace {

// SQLite's commit hook: called inside a call, just before a transaction commits. Returning 0
// lets the commit go ahead.
int OnCommit(void* arg) {
  auto* watch = static_cast<CommitWatch*>(arg);
  if (!watch->in_flight) {
    watch->in_flight = true;
    watch->counter->Starting();
  }
  return 0;
}

// After each call that can commit: whatever it committed is now visible to every reader.
void Settle(CommitWatch* watch) {
  if (watch != nullptr && watch->in_flight) {
    watch->in_flight = false;
    watch->counter->Ended();
  }
}

// Debian's SQLite keeps allocation statistics (SQLITE_DEFAULT_MEMSTATUS), which takes one
// process-wide mutex on every malloc and free inside SQLite. exportd never reads them, and its
// export lanes and HTTP threads allocate in SQLite at the same time: both lanes of a wide export
// blocked on that mutex while they read 40 KB documents (docs/perf/history.md). The setting
// only takes before SQLite initialises itself; later it is refused (SQLITE_MISUSE), harmlessly.
void TurnOffSqliteMemoryStatistics() {
  static const int result = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)result;
}

}  // namespace

Status SqliteStatus(int rc, sqlite3* db, std::string_view context) {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return Status::Ok();
  std::string msg(context);
  msg += ": ";
  if (db != nullptr && sqlite3_errcode(db) == rc) {
    msg += sqlite3_errmsg(db);
  } else {
    msg += sqlite3_errstr(rc);
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_INTERRUPT:
    case SQLITE_NOMEM:
      return Status(StatusCode::kUnavailable, std::move(msg));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status(StatusCode::kDataLoss, std::move(msg));
    case SQLITE_CONSTRAINT:
      return Status(StatusCode::kAlreadyExists, std::move(msg));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Status(StatusCode::kPermissionDenied, std::move(msg));
    default:
      return Status(StatusCode::kFailedPrecondition, std::move(msg));
  }
}

Result<Database> Database::Open(const std::string& path, int flags, int busy_timeout_ms) {
  TurnOffSqliteMemoryStatistics();
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Database db(raw, std::make_shared<CommitWatch>());  // owns the handle even when open failed
  if (rc != SQLITE_OK) return SqliteStatus(rc, raw, "open " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  // SQLite's legacy fallback reads a double-quoted identifier that names no column as a string
  // literal: after a column of a source was renamed, `SELECT "value"` exported the text "value"
  // in every row. Identifiers are always double-quoted here (QuoteIdentifier) and strings are
  // always bound or single-quoted, so the fallback is turned off on every connection.
  for (const int option : {SQLITE_DBCONFIG_DQS_DML, SQLITE_DBCONFIG_DQS_DDL}) {
    rc = sqlite3_db_config(raw, option, 0, nullptr);
    if (rc != SQLITE_OK) return SqliteStatus(rc, raw, "open " + path + ": turn off DQS");
  }
  return db;
}

Database::Database() = default;

Database::Database(sqlite3* db, std::shared_ptr<CommitWatch> watch)
    : db_(db), watch_(std::move(watch)) {}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), watch_(std::move(other.watch_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    watch_ = std::move(other.watch_);
  }
  return *this;
}

void Database::CountCommits(std::shared_ptr<CommitCounter> counter) {
  Settle(watch_.get());
  watch_->counter = std::move(counter);
  sqlite3_commit_hook(db_, watch_->counter != nullptr ? OnCommit : nullptr, watch_.get());
}

const std::shared_ptr<CommitCounter>& Database::commit_counter() const {
  static const std::shared_ptr<CommitCounter> kNone;
  return watch_ != nullptr ? watch_->counter : kNone;
}

Database::~Database() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status Database::Exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  Settle(watch_.get());
  return SqliteStatus(rc, db_, "exec");
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteStatus(rc, db_, "prepare");
  }
  return Statement(stmt, db_, watch_);
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Finalize();
    stmt_ = std::exchange(other.stmt_, nullptr);
    db_ = other.db_;
    watch_ = std::move(other.watch_);
  }
  return *this;
}

Statement::~Statement() { Finalize(); }

void Statement::Finalize() {
  if (stmt_ == nullptr) return;
  sqlite3_finalize(std::exchange(stmt_, nullptr));
  Settle(watch_.get());
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, std::string_view value) {
  sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Statement& Statement::Bind(int index, const std::optional<std::string>& value) {
  return value ? Bind(index, std::string_view(*value)) : BindNull(index);
}
Statement& Statement::Bind(int index, const std::optional<int64_t>& value) {
  return value ? Bind(index, *value) : BindNull(index);
}
Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}
Statement& Statement::Bind(int index, const FilterValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          BindNull(index);
        } else if constexpr (std::is_same_v<T, bool>) {
          Bind(index, int64_t{v ? 1 : 0});
        } else if constexpr (std::is_same_v<T, std::string>) {
          Bind(index, std::string_view(v));
        } else {
          Bind(index, v);
        }
      },
      value);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  Settle(watch_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteStatus(rc, db_, "step");
}

Status Statement::Run() {
  for (;;) {
    Result<bool> row = Step();
    if (!row.ok()) {
      Reset();
      return row.status();
    }
    if (!*row) break;
  }
  Reset();
  return Status::Ok();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  Settle(watch_.get());
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::ColumnText(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  int len = sqlite3_column_bytes(stmt_, col);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), len);
}

std::optional<std::string> Statement::ColumnOptText(int col) const {
  if (ColumnIsNull(col)) return std::nullopt;
  return ColumnText(col);
}

std::optional<int64_t> Statement::ColumnOptInt(int col) const {
  if (ColumnIsNull(col)) return std::nullopt;
  return ColumnInt(col);
}

Transaction::Transaction(Database& db) : db_(db) { status_ = db_.Exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (status_.ok() && !done_) (void)db_.Exec("ROLLBACK");
}

Status Transaction::Commit() {
  RETURN_IF_ERROR(status_);
  done_ = true;
  Status s = db_.Exec("COMMIT");
  if (!s.ok()) (void)db_.Exec("ROLLBACK");
  return s;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace exportd
