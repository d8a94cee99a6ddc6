#include "storage/postgres/pg_connection.h"

#include <charconv>
#include <cstring>
#include <regex>
#include <string>

namespace exportd {
namespace {

// SQLSTATE codes (PostgreSQL manual, appendix A) whose meaning the callers act on.
bool IsTransient(std::string_view state) {
  return state.starts_with("08")      // connection exception
         || state.starts_with("57P")  // admin shutdown, crash shutdown, cannot connect now
         || state == "53300"          // too many connections
         || state == "40001"          // serialization failure
         || state == "40P01"          // deadlock detected
         || state == "55P03";         // lock not available
}

StatusCode CodeOf(std::string_view state) {
  if (IsTransient(state)) return StatusCode::kUnavailable;
  if (state == "23505") return StatusCode::kAlreadyExists;
  if (state.starts_with("23") || state == "P0001") return StatusCode::kFailedPrecondition;
  if (state.starts_with("22")) return StatusCode::kInvalidArgument;
  if (state == "57014") return StatusCode::kDeadlineExceeded;  // statement timeout, cancel
  return StatusCode::kInternal;
}

std::string Trimmed(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string PgResult::Text(int row, int col) const {
  return std::string(PQgetvalue(result_.get(), row, col),
                     static_cast<size_t>(PQgetlength(result_.get(), row, col)));
}

int64_t PgResult::Int(int row, int col) const {
  const char* begin = PQgetvalue(result_.get(), row, col);
  const char* end = begin + PQgetlength(result_.get(), row, col);
  int64_t value = 0;
  std::from_chars(begin, end, value);
  return value;
}

std::optional<std::string> PgResult::OptText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Text(row, col);
}

std::optional<int64_t> PgResult::OptInt(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Int(row, col);
}

int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(result_.get());
  int64_t value = 0;
  if (n) std::from_chars(n, n + std::strlen(n), value);
  return value;
}

PgParams& PgParams::Text(std::string_view value) {
  values_.emplace_back(value);
  null_.push_back(false);
  return *this;
}

PgParams& PgParams::Int(int64_t value) { return Text(std::to_string(value)); }

PgParams& PgParams::OptText(const std::optional<std::string>& value) {
  return value ? Text(*value) : Null();
}

PgParams& PgParams::OptInt(const std::optional<int64_t>& value) {
  return value ? Int(*value) : Null();
}

PgParams& PgParams::Null() {
  values_.emplace_back();
  null_.push_back(true);
  return *this;
}

std::vector<const char*> PgParams::Pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (size_t i = 0; i < values_.size(); ++i) {
    out.push_back(null_[i] ? nullptr : values_[i].c_str());
  }
  return out;
}

std::string RedactPgUrl(const std::string& url) {
  std::string out = std::regex_replace(url, std::regex(R"(://([^:/@]*):[^@]*@)"), "://$1:***@");
  return std::regex_replace(out, std::regex(R"(password=[^&\s]*)"), "password=***");
}

Status PgError(std::string_view context, PGconn* conn, const PGresult* result) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = Trimmed(result ? PQresultErrorMessage(result) : nullptr);
  if (message.empty()) message = Trimmed(conn ? PQerrorMessage(conn) : nullptr);
  if (message.empty()) message = "unknown PostgreSQL error";
  StatusCode code = state ? CodeOf(state) : StatusCode::kInternal;
  // No SQLSTATE and a dead connection: the server went away mid-call.
  if (conn && PQstatus(conn) != CONNECTION_OK) code = StatusCode::kUnavailable;
  std::string text = "PostgreSQL: " + message;
  if (state) text += " (SQLSTATE " + std::string(state) + ")";
  return Status(code, std::string(context).append(context.empty() ? "" : ": ").append(text));
}

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const std::string& url,
                                                         int connect_timeout_seconds) {
  // A URL libpq cannot parse is the configuration's fault, not the server's.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string message = Trimmed(parse_error ? parse_error : "out of memory");
    PQfreemem(parse_error);
    return InvalidArgument("PostgreSQL: bad connection URL: " + message);
  }
  PQconninfoFree(parsed);
  // Keywords and values, so that a URL and a key=value string both work (expand_dbname). The
  // defaults come first: what the URL says (application_name=..., connect_timeout=...) wins.
  const char* keywords[] = {"application_name", "connect_timeout", "dbname", nullptr};
  const std::string timeout =
      connect_timeout_seconds > 0 ? std::to_string(connect_timeout_seconds) : "10";
  const char* values[] = {"exportd", timeout.c_str(), url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Unavailable("PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return Unavailable("PostgreSQL: cannot connect: " + message);
  }
  auto connection = std::unique_ptr<PgConnection>(new PgConnection(conn));
  // Times are unix milliseconds in BIGINT columns: no session time zone is involved. Keep the
  // server's notices (e.g. "relation already exists, skipping") out of stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return connection;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

Result<PgResult> PgConnection::Exec(std::string_view sql, const PgParams& params) {
  auto it = prepared_.find(std::string(sql));
  if (it == prepared_.end()) {
    std::string name = std::string("s").append(std::to_string(prepared_.size() + 1));
    PGresult* result = PQprepare(conn_, name.c_str(), std::string(sql).c_str(), 0, nullptr);
    if (result == nullptr || PQresultStatus(result) != PGRES_COMMAND_OK) {
      Status error = PgError("", conn_, result);
      PQclear(result);
      return error;
    }
    PQclear(result);
    it = prepared_.emplace(std::string(sql), std::move(name)).first;
  }
  std::vector<const char*> values = params.Pointers();
  PGresult* result = PQexecPrepared(conn_, it->second.c_str(), params.size(), values.data(),
                                    nullptr, nullptr, /*resultFormat=*/0);
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Status error = PgError("", conn_, result);
    PQclear(result);
    return error;
  }
  return PgResult(result);
}

Status PgConnection::ExecScript(std::string_view sql) {
  PGresult* result = PQexec(conn_, std::string(sql).c_str());
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  Status out = Status::Ok();
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) out = PgError("", conn_, result);
  PQclear(result);
  return out;
}

}  // namespace exportd
