#include "tests/integration/source_db.h"

#include <sqlite3.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <stdexcept>

namespace exportd::itest {
namespace {

// Texts that break naive writers. None ends with CR, so a TSV line end stays unambiguous.
const std::vector<std::string>& TrickyTexts() {
  static const std::vector<std::string> kTexts = {
      "plain",
      "comma, inside",
      "quote \"inside\" here",
      "\"",
      "line\nfeed",
      "carriage\rreturn",
      "crlf\r\nboth",
      "tab\there",
      "back\\slash",
      "backslash-n literal \\n and \\t",
      "\xC3\xBCn\xC3\xAF"
      "c\xC3\xB6"
      "d\xC3\xA9 \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC",  // ünïcödé ✓ 日本
      "emoji \xF0\x9F\x9A\x80",
      "  padded  ",
      ",",
      "=1+2",
      "mixed,\"all\"\t\\\n\r\nend",
      "NULL",
      "{\"looks\": \"like json\"}",
  };
  return kTexts;
}

class Db {
 public:
  explicit Db(const std::string& path, int flags = SQLITE_OPEN_READONLY) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("open " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  sqlite3* get() const { return db_; }

  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(sql + ": " + msg);
    }
  }

 private:
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db));
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

std::string Rfc3339(int64_t unix_seconds) {
  std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

constexpr int64_t kBaseTime = 1704067200;  // 2024-01-01T00:00:00Z

}  // namespace

std::string DescribeValue(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return "NULL";
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", *d);
    return buf;
  }
  return nlohmann::json(std::get<std::string>(v))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const std::vector<std::string>& ItemsFields() {
  static const std::vector<std::string> kFields = {
      "id", "name", "qty", "price", "observed_at", "region", "alpha", "beta", "gamma"};
  return kFields;
}

std::string ItemsFieldExpr(const std::string& field) {
  if (field == "alpha" || field == "beta" || field == "gamma") {
    return "json_extract(doc, '$." + field + "')";
  }
  return "\"" + field + "\"";
}

void CreateItemsDb(const std::string& path, int rows) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  Db db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  db.Exec("PRAGMA journal_mode=DELETE");
  db.Exec(
      "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL, "
      "observed_at TEXT NOT NULL, region TEXT NOT NULL, doc TEXT)");
  db.Exec("BEGIN");
  {
    Stmt ins(db.get(), "INSERT INTO items VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    static const char* kRegions[] = {"north", "south", "east", "west"};
    const auto& texts = TrickyTexts();
    for (int i = 1; i <= rows; ++i) {
      sqlite3_stmt* s = ins.get();
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
      sqlite3_bind_int64(s, 1, i);
      // name
      if (i % 7 == 0) {
        sqlite3_bind_null(s, 2);
      } else if (i % 11 == 0) {
        sqlite3_bind_text(s, 2, "", 0, SQLITE_TRANSIENT);
      } else {
        std::string name = texts[static_cast<size_t>(i) % texts.size()];
        if (i % 2 == 0) name += " #" + std::to_string(i);
        sqlite3_bind_text(s, 2, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
      }
      // qty
      if (i % 13 == 0) {
        sqlite3_bind_null(s, 3);
      } else if (i == 5) {
        sqlite3_bind_int64(s, 3, 9007199254740993LL);  // 2^53 + 1: not exact as a double
      } else if (i == 6) {
        sqlite3_bind_int64(s, 3, -9223372036854775807LL);
      } else {
        sqlite3_bind_int64(s, 3, (i * 37) % 101 - 50);
      }
      // price
      if (i % 17 == 0) {
        sqlite3_bind_null(s, 4);
      } else if (i == 3) {
        sqlite3_bind_double(s, 4, 1.5e300);
      } else if (i == 4) {
        sqlite3_bind_double(s, 4, -2.5e-7);
      } else if (i % 10 == 0) {
        sqlite3_bind_double(s, 4, static_cast<double>(i));  // integral real
      } else {
        sqlite3_bind_double(s, 4, i * 0.1 + 1.0 / 3.0);
      }
      std::string at = Rfc3339(kBaseTime + int64_t{i} * 3600);
      sqlite3_bind_text(s, 5, at.data(), static_cast<int>(at.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(s, 6, kRegions[i % 4], -1, SQLITE_STATIC);
      if (i % 19 == 0) {
        sqlite3_bind_null(s, 7);
      } else {
        nlohmann::json doc = nlohmann::json::object();
        if (i % 3 == 0) doc["alpha"] = i * 0.25 + 0.125;
        if (i % 4 == 0) doc["beta"] = texts[static_cast<size_t>(i / 4) % texts.size()];
        if (i % 5 == 0) doc["gamma"] = i * 1000 - 7;
        if (i % 6 == 0) doc["zeta"] = "undeclared";
        std::string text = doc.dump();
        sqlite3_bind_text(s, 7, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
      }
      if (sqlite3_step(s) != SQLITE_DONE) {
        throw std::runtime_error(std::string("insert: ") + sqlite3_errmsg(db.get()));
      }
    }
  }
  db.Exec("COMMIT");
}

nlohmann::json ItemsDatasetConfig(const std::string& name, const std::string& path,
                                  int busy_timeout_ms) {
  return {
      {"name", name},
      {"description", "integration test items"},
      {"source",
       {{"type", "sqlite"},
        {"path", path},
        {"table", "items"},
        {"busy_timeout_ms", busy_timeout_ms}}},
      {"key", "id"},
      {"time_field", kItemsTimeField},
      {"partition_field", kItemsPartitionField},
      {"columns", {"id", "name", "qty", "price", "observed_at", "region"}},
      {"document", {{"column", "doc"}, {"fields", {"alpha", "beta", "gamma"}}}},
  };
}

namespace {

std::vector<Row> Query(const std::string& path, const std::string& sql, int flags) {
  Db db(path, flags);
  Stmt stmt(db.get(), sql);
  std::vector<Row> rows;
  for (;;) {
    int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) throw std::runtime_error(sql + ": " + sqlite3_errmsg(db.get()));
    const int n = sqlite3_column_count(stmt.get());
    Row row;
    row.reserve(static_cast<size_t>(n));
    for (int c = 0; c < n; ++c) {
      switch (sqlite3_column_type(stmt.get(), c)) {
        case SQLITE_NULL:
          row.emplace_back(std::monostate{});
          break;
        case SQLITE_INTEGER:
          row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt.get(), c)));
          break;
        case SQLITE_FLOAT:
          row.emplace_back(sqlite3_column_double(stmt.get(), c));
          break;
        default: {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), c));
          row.emplace_back(
              std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt.get(), c))));
        }
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

std::vector<Row> QuerySql(const std::string& path, const std::string& sql) {
  return Query(path, sql, SQLITE_OPEN_READONLY);
}

std::vector<Row> QuerySqlWritable(const std::string& path, const std::string& sql) {
  return Query(path, sql, SQLITE_OPEN_READWRITE);
}

std::vector<Row> QueryItems(const std::string& path, const std::vector<std::string>& fields,
                            const std::string& where) {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) sql += ", ";
    sql += ItemsFieldExpr(fields[i]);
  }
  sql += " FROM items";
  if (!where.empty()) sql += " WHERE " + where;
  sql += " ORDER BY id";
  return QuerySql(path, sql);
}

void ExecSql(const std::string& path, const std::string& sql) {
  Db db(path, SQLITE_OPEN_READWRITE);
  db.Exec(sql);
}

std::vector<std::string> TableColumns(const std::string& path, const std::string& table) {
  std::vector<std::string> names;
  for (const Row& r : QuerySql(path, "SELECT name FROM pragma_table_info('" + table + "')")) {
    names.push_back(std::get<std::string>(r.at(0)));
  }
  return names;
}

SqliteExclusiveLock::SqliteExclusiveLock(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("open " + path);
  }
  sqlite3_busy_timeout(db_, 5000);
  char* err = nullptr;
  if (sqlite3_exec(db_, "BEGIN EXCLUSIVE", nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("BEGIN EXCLUSIVE on " + path + ": " + msg);
  }
}

SqliteExclusiveLock::~SqliteExclusiveLock() { Release(); }

void SqliteExclusiveLock::Release() {
  if (db_ == nullptr) return;
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db_);
  db_ = nullptr;
}

}  // namespace exportd::itest
