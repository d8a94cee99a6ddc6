// Resolving a configured SQLite dataset against its table.
#ifndef EXPORTD_STORAGE_SQLITE_SQLITE_DATASET_H_
#define EXPORTD_STORAGE_SQLITE_SQLITE_DATASET_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/dataset.h"
#include "core/status.h"
#include "storage/sqlite/sql_query.h"

namespace exportd {

class Database;

struct SqliteColumn {
  std::string name;
  std::string declared_type;  // as written in CREATE TABLE, possibly empty
};

// The columns of `table` in table order (PRAGMA table_info). kFailedPrecondition if the table
// does not exist; SQLite errors through SqliteStatus (busy/locked -> kUnavailable).
Result<std::vector<SqliteColumn>> ReadTableColumns(Database& db, const std::string& table);

// The field type of a column from its declared type (case-insensitive, first match wins):
// BOOL -> kBoolean; INT -> kInteger; CHAR/CLOB/TEXT -> kText; REAL/FLOA/DOUB/NUMERIC/DECIMAL ->
// kReal; anything else (including no type) -> kAny.
FieldType FieldTypeFromDeclared(std::string_view declared_type);

// The time field's storage: declared INTEGER (contains "INT") -> unix seconds; otherwise RFC
// 3339 text.
TimeStorage TimeStorageFromDeclared(std::string_view declared_type);

// Opens spec.source.path read-only and checks the spec against the table: the key, time field,
// partition field, every listed column and the document column must exist (kFailedPrecondition
// naming the dataset and the field); listed columns must be unique; document field names must
// be non-empty, unique, and differ from every column of the table. The time field must not be
// declared REAL/FLOAT/DOUBLE (unix seconds are INTEGER, RFC 3339 is text).
// Fields: the listed columns (empty: every table column but the document column) in that order,
// typed by FieldTypeFromDeclared (the time field is kTimestamp), then the document fields
// (kAny, from_document) in declared order.
Result<Dataset> ResolveSqliteDataset(const DatasetSpec& spec);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_SQLITE_DATASET_H_
