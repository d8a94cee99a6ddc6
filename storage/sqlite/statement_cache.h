// Prepared statements kept for the life of one connection.
#ifndef EXPORTD_STORAGE_SQLITE_STATEMENT_CACHE_H_
#define EXPORTD_STORAGE_SQLITE_STATEMENT_CACHE_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"
#include "storage/sqlite/sqlite_db.h"

namespace exportd {

// Statement::Bind has no std::string overload (a string converts equally well to string_view,
// optional<string> and FilterValue), so std::string values are bound through this.
inline std::string_view AsText(const std::string& s) { return s; }

// A cached statement on loan: reset (and its bindings cleared) when the loan ends, so that no
// statement keeps a read open between calls. REQUIRES: the StatementCache outlives it.
class CachedStatement {
 public:
  explicit CachedStatement(Statement* stmt) : stmt_(stmt) {}
  CachedStatement(CachedStatement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  CachedStatement& operator=(CachedStatement&&) = delete;
  CachedStatement(const CachedStatement&) = delete;
  CachedStatement& operator=(const CachedStatement&) = delete;
  ~CachedStatement() {
    if (stmt_ != nullptr) stmt_->Reset();
  }

  Statement& operator*() const { return *stmt_; }
  Statement* operator->() const { return stmt_; }

 private:
  Statement* stmt_;
};

// Not thread-safe: the owner serialises use together with the connection's. REQUIRES: `db`
// outlives the cache (declare the cache after the Database it uses).
class StatementCache {
 public:
  explicit StatementCache(Database& db) : db_(db) {}
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // The statement for `sql`, prepared on first use. At most one loan per sql at a time.
  Result<CachedStatement> Get(std::string_view sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(sql));
      it = statements_.emplace(std::string(sql), std::move(stmt)).first;
    }
    return CachedStatement(&it->second);
  }

 private:
  Database& db_;
  std::map<std::string, Statement, std::less<>> statements_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_STATEMENT_CACHE_H_
