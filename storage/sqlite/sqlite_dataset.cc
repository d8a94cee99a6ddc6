#include "storage/sqlite/sqlite_dataset.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "storage/sqlite/sqlite_db.h"

namespace exportd {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

Result<std::vector<SqliteColumn>> ReadTableColumns(Database& db, const std::string& table) {
  ASSIGN_OR_RETURN(Statement stmt, db.Prepare("PRAGMA table_info(" + QuoteIdentifier(table) + ")"));
  std::vector<SqliteColumn> columns;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    // table_info: cid, name, type, notnull, dflt_value, pk
    columns.push_back({stmt.ColumnText(1), stmt.ColumnText(2)});
  }
  if (columns.empty()) return FailedPrecondition("no table '" + table + "'");
  return columns;
}

FieldType FieldTypeFromDeclared(std::string_view declared_type) {
  const std::string t = Upper(declared_type);
  if (Contains(t, "BOOL")) return FieldType::kBoolean;
  if (Contains(t, "INT")) return FieldType::kInteger;
  if (Contains(t, "CHAR") || Contains(t, "CLOB") || Contains(t, "TEXT")) return FieldType::kText;
  if (Contains(t, "REAL") || Contains(t, "FLOA") || Contains(t, "DOUB") || Contains(t, "NUMERIC") ||
      Contains(t, "DECIMAL")) {
    return FieldType::kReal;
  }
  return FieldType::kAny;
}

TimeStorage TimeStorageFromDeclared(std::string_view declared_type) {
  return Contains(Upper(declared_type), "INT") ? TimeStorage::kUnixSeconds
                                               : TimeStorage::kRfc3339Text;
}

Result<Dataset> ResolveSqliteDataset(const DatasetSpec& spec) {
  const std::string where = "dataset '" + spec.name + "'";
  if (spec.source.type != "sqlite") {
    return FailedPrecondition(where + ": source type '" + spec.source.type + "' is not sqlite");
  }
  if (spec.key.empty()) return FailedPrecondition(where + ": no key field");
  auto db = Database::Open(spec.source.path, SQLITE_OPEN_READONLY, spec.source.busy_timeout_ms);
  if (!db.ok()) return db.status().WithContext(where);
  auto table_columns = ReadTableColumns(*db, spec.source.table);
  if (!table_columns.ok()) {
    return table_columns.status().WithContext(where + " (" + spec.source.path + ")");
  }

  auto find = [&](const std::string& name) -> const SqliteColumn* {
    for (const SqliteColumn& c : *table_columns) {
      if (c.name == name) return &c;
    }
    return nullptr;
  };
  auto require = [&](const std::string& role, const std::string& name) -> Status {
    if (find(name) == nullptr) {
      return FailedPrecondition(where + ": " + role + " '" + name + "' is not a column of table '" +
                                spec.source.table + "'");
    }
    return Status::Ok();
  };

  RETURN_IF_ERROR(require("key", spec.key));
  if (spec.time_field) {
    RETURN_IF_ERROR(require("time field", *spec.time_field));
    const std::string type = Upper(find(*spec.time_field)->declared_type);
    if (TimeStorageFromDeclared(type) == TimeStorage::kRfc3339Text &&
        (Contains(type, "REAL") || Contains(type, "FLOA") || Contains(type, "DOUB"))) {
      return FailedPrecondition(where + ": time field '" + *spec.time_field +
                                "' must be TEXT (RFC 3339) or INTEGER (unix seconds), not " + type);
    }
  }
  if (spec.partition_field) RETURN_IF_ERROR(require("partition field", *spec.partition_field));
  if (spec.document) RETURN_IF_ERROR(require("document column", spec.document->column));

  std::vector<std::string> column_names = spec.columns;
  if (column_names.empty()) {
    for (const SqliteColumn& c : *table_columns) {
      if (!spec.document || c.name != spec.document->column) column_names.push_back(c.name);
    }
  }
  std::vector<Field> fields;
  std::set<std::string, std::less<>> seen;
  for (const std::string& name : column_names) {
    RETURN_IF_ERROR(require("column", name));
    if (!seen.insert(name).second) {
      return FailedPrecondition(where + ": column '" + name + "' is listed twice");
    }
    FieldType type = (spec.time_field && name == *spec.time_field)
                         ? FieldType::kTimestamp
                         : FieldTypeFromDeclared(find(name)->declared_type);
    fields.push_back({name, type, false});
  }
  if (spec.document) {
    for (const std::string& name : spec.document->fields) {
      if (name.empty()) return FailedPrecondition(where + ": a document field has an empty name");
      if (find(name) != nullptr) {
        return FailedPrecondition(where + ": document field '" + name +
                                  "' has the name of a column of table '" + spec.source.table +
                                  "'; rename one of them");
      }
      if (!seen.insert(name).second) {
        return FailedPrecondition(where + ": document field '" + name + "' is declared twice");
      }
      fields.push_back({name, FieldType::kAny, true});
    }
  }
  return Dataset(spec, std::move(fields));
}

}  // namespace exportd
