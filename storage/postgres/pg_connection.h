// libpq behind RAII: a connection, a result, text parameters, and the one translation of
// PostgreSQL's errors into Status.
#ifndef EXPORTD_STORAGE_POSTGRES_PG_CONNECTION_H_
#define EXPORTD_STORAGE_POSTGRES_PG_CONNECTION_H_

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace exportd {

// A query's result rows. Columns are read as text (the text result format); a NULL reads as
// nullopt from the Opt readers and as ""/0 from the others.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* result) : result_(result) {}

  int rows() const { return result_ ? PQntuples(result_.get()) : 0; }
  bool IsNull(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  std::string Text(int row, int col) const;
  int64_t Int(int row, int col) const;
  std::optional<std::string> OptText(int row, int col) const;
  std::optional<int64_t> OptInt(int row, int col) const;
  // Rows changed by an INSERT, UPDATE or DELETE.
  int64_t affected() const;

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

// The parameters $1, $2, ... of a statement, as text (PostgreSQL casts them to the column types).
class PgParams {
 public:
  PgParams& Text(std::string_view value);
  PgParams& Int(int64_t value);
  PgParams& OptText(const std::optional<std::string>& value);
  PgParams& OptInt(const std::optional<int64_t>& value);
  PgParams& Null();

  int size() const { return static_cast<int>(values_.size()); }
  // REQUIRES: no parameter is added while the pointers are in use.
  std::vector<const char*> Pointers() const;

 private:
  std::vector<std::string> values_;
  std::vector<bool> null_;
};

// Translates a failed result (or, with a null `result`, the connection's last error) into a
// Status. Connection loss, a server shutting down or refusing connections, serialization failures
// and deadlocks are kUnavailable (retry the call); a unique violation is kAlreadyExists; a
// foreign-key or check violation, or an exception raised by a trigger, kFailedPrecondition; bad
// data kInvalidArgument; anything else kInternal. `context` prefixes the message.
Status PgError(std::string_view context, PGconn* conn, const PGresult* result);

// `url` with its password hidden, for logs and messages: user:password@ -> user:***@,
// password=... -> password=***.
std::string RedactPgUrl(const std::string& url);

// One libpq connection. Not thread-safe: one user at a time (PgPool hands it out).
class PgConnection {
 public:
  // Connects with a libpq connection string or URL ("postgresql://user@host:5432/db",
  // "host=... dbname=..."); passwords may also come from PGPASSWORD or PGPASSFILE.
  // kUnavailable if the server cannot be reached; kInvalidArgument for a malformed URL.
  // `connect_timeout_seconds` > 0 replaces the default of 10 s (a connect_timeout in the URL
  // still wins).
  static Result<std::unique_ptr<PgConnection>> Open(const std::string& url,
                                                    int connect_timeout_seconds = 0);

  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection();

  // Runs one statement with parameters, prepared on first use and kept prepared for the life of
  // the connection (one name per distinct text).
  Result<PgResult> Exec(std::string_view sql, const PgParams& params = {});
  // Runs a script of several statements (no parameters): migrations, BEGIN, COMMIT.
  Status ExecScript(std::string_view sql);
  // False once the connection is lost; the pool then drops it instead of reusing it.
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  PGconn* get() { return conn_; }

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}

  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_POSTGRES_PG_CONNECTION_H_
