// The test source: a SQLite file with a known table, and the SQL that reads expected rows back.
//
// Table `items` (rowid table, rollback journal, never WAL, so that a test can lock it):
//   id INTEGER PRIMARY KEY   1..N, the dataset key and the export order
//   name TEXT                commas, quotes, CR, LF, CRLF, tabs, backslashes, non-ASCII, "" and
//   NULL qty INTEGER              negatives, NULLs, integers beyond 2^53 and near INT64_MIN price
//   REAL               fractions, tiny and huge exponents, NULLs observed_at TEXT         RFC 3339
//   UTC, 2024-01-01T00:00:00Z + id hours (the time field) region TEXT north|south|east|west (the
//   partition field) doc TEXT                 a JSON object with sparse keys alpha (real), beta
//   (text), gamma
//                            (integer) and an undeclared key zeta; NULL on some rows
#ifndef EXPORTD_TESTS_INTEGRATION_SOURCE_DB_H_
#define EXPORTD_TESTS_INTEGRATION_SOURCE_DB_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

struct sqlite3;

namespace exportd::itest {

// One SQLite cell as read back: NULL, INTEGER, REAL or TEXT.
using Value = std::variant<std::monostate, int64_t, double, std::string>;
using Row = std::vector<Value>;

std::string DescribeValue(const Value& v);  // NULL, 42, 1.5, "text" (escaped)

// Every exportable field of the items dataset, in dataset order: the columns, then the
// document fields.
const std::vector<std::string>& ItemsFields();
inline constexpr const char* kItemsTimeField = "observed_at";
inline constexpr const char* kItemsPartitionField = "region";

// Creates `path` (replacing it) with `rows` rows of table items.
void CreateItemsDb(const std::string& path, int rows);

// A dataset entry for the config, pointing at `path`.
nlohmann::json ItemsDatasetConfig(const std::string& name, const std::string& path,
                                  int busy_timeout_ms = 5000);

// The SQL expression that yields `field` of the items dataset (a column, or json_extract of
// the document).
std::string ItemsFieldExpr(const std::string& field);

// Runs `SELECT <fields> FROM items [WHERE where] ORDER BY id` on `path`. Throws on error.
std::vector<Row> QueryItems(const std::string& path, const std::vector<std::string>& fields,
                            const std::string& where = "");

// Runs any SELECT and returns every row. Throws on error.
std::vector<Row> QuerySql(const std::string& path, const std::string& sql);
// The same through a connection that may write: it rolls back a transaction a crash left (a
// hot journal), which a read-only connection cannot read past.
std::vector<Row> QuerySqlWritable(const std::string& path, const std::string& sql);

// Runs statements that return no rows (e.g. DDL) on `path`. Throws on error.
void ExecSql(const std::string& path, const std::string& sql);

// Column names of `table` in `path`, in table order.
std::vector<std::string> TableColumns(const std::string& path, const std::string& table);

// Holds an exclusive lock on a rollback-journal SQLite file (BEGIN EXCLUSIVE) until Release()
// or destruction, so that every reader gets SQLITE_BUSY.
class SqliteExclusiveLock {
 public:
  explicit SqliteExclusiveLock(const std::string& path);  // throws if the lock cannot be taken
  ~SqliteExclusiveLock();
  SqliteExclusiveLock(const SqliteExclusiveLock&) = delete;
  SqliteExclusiveLock& operator=(const SqliteExclusiveLock&) = delete;
  void Release();

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace exportd::itest

#endif  // EXPORTD_TESTS_INTEGRATION_SOURCE_DB_H_
