// The filter compiler (storage/sqlite/sql_query.h) on requests decoded from fuzz input: a JSON body
// through ParseCreateExportJson + PrepareRequest (properties of fuzz_support.h), then the
// SourceQuery the export would run (ExportQuery), compiled for both ways of storing the time
// field. Properties:
//  - a prepared request compiles (text time storage; unix seconds may refuse 'prefix' on the
//    time field, with kInvalidArgument);
//  - the number of '?' outside quoted identifiers and string literals equals binds.size();
//  - values are only bound, never spliced: the SQL text is the same when every value is
//    replaced by a different one of the same shape, and every string value of a condition on a
//    non-time field, and every partition, is one of the binds;
//  - SQLite prepares the SQL against a table with the dataset's columns, reports as many
//    parameters as there are binds, and runs it to completion over a few rows without error.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/export_runner.h"
#include "core/source.h"
#include "core/time_format.h"
#include "storage/sqlite/sql_query.h"
#include "storage/sqlite/sqlite_db.h"
#include "tests/fuzz/fuzz_support.h"

namespace exportd::fuzz {
namespace {

// '?' in the SQL text, outside "identifiers" and 'literals' (both with doubled-quote escapes).
size_t CountPlaceholders(std::string_view sql) {
  size_t n = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: the same count
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '?') {
      ++n;
    }
  }
  if (quote != 0) Fail("the SQL's quotes are balanced", std::string(sql));
  return n;
}

bool IsTimeField(const std::string& name) {
  const Field* f = TheDataset().FindField(name);
  return f != nullptr && !f->from_document && name == *TheDataset().spec().time_field;
}

// A whole day keeps whole seconds whole; move towards the epoch to stay representable.
TimePoint Shift(TimePoint t) {
  const auto day = std::chrono::hours(24);
  return t < TimePoint{} ? t + day : t - day;
}

// A different value of the same shape: same type and length, same "has a prefix successor",
// same whole-second-ness for instants.
void Mutate(FilterValue& v, bool time_field) {
  if (auto* s = std::get_if<std::string>(&v)) {
    if (time_field) {
      if (auto t = ParseRfc3339(*s)) *s = FormatRfc3339(Shift(*t));
      return;
    }
    if (!PrefixSuccessor(*s)) return;  // "" or all 0xFF: a prefix without an upper bound
    for (char& c : *s) c = c == 'Q' ? 'R' : 'Q';
  } else if (auto* i = std::get_if<int64_t>(&v)) {
    *i ^= 1;
  } else if (auto* d = std::get_if<double>(&v)) {
    *d = *d == 0 ? 1.0 : -*d;
  }
}

SourceQuery Mutated(SourceQuery q) {
  for (Condition& c : q.filter) {
    if (c.op == FilterOp::kNull) continue;  // its bool decides IS NULL / IS NOT NULL
    for (FilterValue& v : c.values) Mutate(v, IsTimeField(c.field));
  }
  for (std::string& p : q.partitions) {
    FilterValue v = p;
    Mutate(v, false);
    p = std::get<std::string>(v);
  }
  if (q.since) q.since = Shift(*q.since);
  if (q.until) q.until = Shift(*q.until);
  if (q.after_key) Mutate(*q.after_key, false);
  return q;
}

// An in-memory table with the dataset's columns and a few rows, the time field stored as RFC
// 3339 text or as unix seconds.
Database MakeTable(TimeStorage storage) {
  const bool unix = storage == TimeStorage::kUnixSeconds;
  auto db = Database::Open(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db.ok()) Fail("open an in-memory database", db.status().ToString());
  std::string create = "CREATE TABLE " + QuoteIdentifier(TheDataset().spec().source.table) + " (";
  for (const Field& f : TheDataset().fields()) {
    if (f.from_document) continue;
    std::string type = "TEXT";
    if (f.type == FieldType::kInteger) type = "INTEGER";
    if (f.type == FieldType::kReal) type = "REAL";
    if (f.type == FieldType::kBoolean) type = "BOOLEAN";
    if (f.type == FieldType::kAny) type = "";
    if (f.type == FieldType::kTimestamp && unix) type = "INTEGER";
    create += QuoteIdentifier(f.name) + " " + type + ", ";
  }
  create += "doc TEXT)";
  if (Status s = db->Exec(create); !s.ok()) Fail("create the table", s.ToString());
  // Columns: id, study, collected_at, rock_type, depth_m, verified, we"ird, sp ace, ünï, doc.
  const std::string t1 = unix ? "1709294400" : "'2024-03-01T12:00:00Z'";
  const std::string t2 = unix ? "1709294401" : "'2024-03-01T12:00:00.5Z'";
  const std::string rows =
      "INSERT INTO \"tab le\" VALUES "
      "(1, 'north', " +
      t1 +
      ", 'basalt', 1.5, 1, '''; --', 5, 'x', "
      "'{\"extra\": 1, \"geo.lat\": 2.5, \"a/b~c\": \"q\", \"x\\\"y\": \"z\"}'), "
      "(2, 'south', " +
      t2 +
      ", '', -2, 0, NULL, NULL, 7, ''), "
      "(3, NULL, NULL, NULL, NULL, NULL, '%_\\', 0, NULL, NULL), "
      "(4, 'east', " +
      t1 + ", 'QQQ', 0.0, 1, 'Q', -1, 2.5, '{\"extra\": [1, {}], \"geo.lat\": null}')";
  if (Status s = db->Exec(rows); !s.ok()) Fail("fill the table", s.ToString());
  return std::move(db).value();
}

Database& Table(TimeStorage storage) {
  static Database* text = new Database(MakeTable(TimeStorage::kRfc3339Text));
  static Database* unix = new Database(MakeTable(TimeStorage::kUnixSeconds));
  return storage == TimeStorage::kUnixSeconds ? *unix : *text;
}

void RunInSqlite(const CompiledSql& compiled, TimeStorage storage) {
  auto stmt = Table(storage).Prepare(compiled.sql);
  if (!stmt.ok()) Fail("SQLite prepares the SQL", compiled.sql + "\n" + stmt.status().ToString());
  const int params = sqlite3_bind_parameter_count(stmt->get());
  if (static_cast<size_t>(params) != compiled.binds.size()) {
    Fail("SQLite sees one parameter per bind", compiled.sql);
  }
  BindAll(*stmt, compiled.binds);
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok())
      Fail("the SQL runs without error", compiled.sql + "\n" + row.status().ToString());
    if (!*row) break;
  }
}

bool IsBound(const std::vector<FilterValue>& binds, const std::string& s) {
  return std::any_of(binds.begin(), binds.end(), [&](const FilterValue& b) {
    const auto* bs = std::get_if<std::string>(&b);
    return bs != nullptr && *bs == s;
  });
}

void CheckCompiled(const SourceQuery& query, const CompiledSql& sql, const CompiledSql& skeleton,
                   TimeStorage storage) {
  if (CountPlaceholders(sql.sql) != sql.binds.size()) {
    Fail("one bind per '?'", sql.sql + "\nbinds: " + std::to_string(sql.binds.size()));
  }
  if (sql.sql != skeleton.sql || sql.binds.size() != skeleton.binds.size()) {
    Fail("values are bound, never spliced (the SQL does not depend on them)",
         sql.sql + "\n" + skeleton.sql);
  }
  for (const Condition& c : query.filter) {
    if (IsTimeField(c.field) || c.op == FilterOp::kNull) continue;
    for (const FilterValue& v : c.values) {
      if (const auto* s = std::get_if<std::string>(&v); s != nullptr && !IsBound(sql.binds, *s)) {
        Fail("every string value is bound", sql.sql + "\nvalue: " + *s);
      }
    }
  }
  for (const std::string& p : query.partitions) {
    if (!IsBound(sql.binds, p)) Fail("every partition is bound", sql.sql + "\npartition: " + p);
  }
  RunInSqlite(sql, storage);
}

void CompileAndCheck(const SourceQuery& query, TimeStorage storage) {
  const SqlTableInfo table{storage};
  auto select = CompileSelect(TheDataset(), query, table);
  auto count = CompileCount(TheDataset(), query, table);
  if (select.ok() != count.ok()) Fail("SELECT and COUNT compile alike", "");
  if (!select.ok()) {
    if (storage == TimeStorage::kRfc3339Text ||
        select.status().code() != StatusCode::kInvalidArgument) {
      Fail("a prepared request compiles", select.status().ToString());
    }
    return;
  }
  if (select->field_columns.size() != query.fields.size() || select->key_column < 0) {
    Fail("one result column per field, and the key", select->query.sql);
  }
  const SourceQuery other = Mutated(query);
  auto other_select = CompileSelect(TheDataset(), other, table);
  auto other_count = CompileCount(TheDataset(), other, table);
  if (!other_select.ok() || !other_count.ok()) {
    Fail("a query with other values of the same shape compiles",
         other_select.ok() ? other_count.status().ToString() : other_select.status().ToString());
  }
  CheckCompiled(query, select->query, other_select->query, storage);
  CheckCompiled(query, *count, *other_count, storage);
}

}  // namespace
}  // namespace exportd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exportd;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  std::optional<ExportRequest> request = fuzz::PrepareAndCheck(api::ParseCreateExportJson(body));
  if (!request) return 0;
  // As the scheduler hands it over: an incremental export has fixed its window by then.
  Task task;
  task.request = *request;
  if (request->incremental) {
    TaskWindow window{.until = TimePoint(std::chrono::seconds(1767225600)), .partitions = {}};
    for (const std::string& p : request->partitions) {
      window.partitions.push_back({.partition = p, .since = request->since, .until = window.until});
    }
    if (request->partitions.empty()) window.partitions.push_back({"p", std::nullopt, window.until});
    task.window = window;
  }
  auto query = ExportQuery(task, fuzz::TheDataset());
  if (!query.ok()) {
    fuzz::CheckClientError(query.status(), "ExportQuery");
    return 0;
  }
  // Keyset resume, as a retried export would compile it; a key value taken from the input.
  if (size % 2 == 1) query->after_key = static_cast<int64_t>(size);
  fuzz::CompileAndCheck(*query, TimeStorage::kRfc3339Text);
  fuzz::CompileAndCheck(*query, TimeStorage::kUnixSeconds);
  return 0;
}
