// The filter compiler of PostgreSQL sources: a SourceQuery over a resolved dataset -> one SQL
// statement with parameters $1, $2, ..., the PostgreSQL counterpart of storage/sqlite/sql_query.h
// (same operators, same meaning; what differs is stated here).
//
// Contract of the generated SQL:
//  - every value is a parameter, sent as text and cast in the SQL text to the type it is compared
//    as ($1::bigint, $2::text, ...); the SQL text holds only fixed keywords and identifiers of
//    the dataset, double-quoted (QuotePgIdentifier); a field unknown to the dataset is
//    kInvalidArgument. A select compiled with PgParamStyle::kSetting reads parameter n from the
//    transaction's setting PgParamSettingName(n) instead of $n (for COPY, which takes no bind
//    parameters): the caller sets them with set_config(name, value, true) in the same
//    transaction, so values still never enter the SQL text;
//  - a value is compared as the column's type when it fits it (integers and floats with numeric
//    columns, booleans with boolean columns, any value as text with text columns); otherwise the
//    column's text output is compared with the value's text (SQLite compares a stored TEXT the
//    same way);
//  - text is ordered byte by byte, as SQLite's BINARY collation: ranges, prefixes, the key order
//    and keyset positions on a text column add COLLATE "C" unless the column's collation already
//    orders bytes (C, POSIX, or the database's default when that is C or C.UTF-8);
//  - document fields: NULLIF(doc -> $k, 'null'::jsonb) (json documents cast to jsonb), compared
//    with to_jsonb($v::type); a missing key and a JSON null are NULL. jsonb orders values of
//    different JSON types by type, so a comparison across types (a string field against a
//    number) can differ from SQLite's; with duplicate keys PostgreSQL takes the last one;
//  - the time field is a timestamptz or timestamp column (compared with $n::timestamptz /
//    $n::timestamp, RFC 3339 text with nanoseconds, which PostgreSQL rounds to microseconds) or
//    an integer column of unix seconds (whole seconds, as the SQLite compiler);
//  - partitions compare the partition column's text output; keys: key = ANY($n::bigint[]) or
//    ANY($n::text[]); after_key: key > $n; ORDER BY key.
#ifndef EXPORTD_STORAGE_POSTGRES_SOURCE_PG_QUERY_H_
#define EXPORTD_STORAGE_POSTGRES_SOURCE_PG_QUERY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dataset.h"
#include "core/source.h"
#include "core/status.h"
#include "storage/postgres_source/pg_values.h"

namespace exportd {

struct PgColumn {
  std::string name;
  uint32_t type_oid = 0;    // the base type of a domain
  std::string type_name;    // format_type(), for messages
  bool byte_order = false;  // text compares byte by byte under the column's collation
  bool not_null = false;    // declared NOT NULL
  PgKind kind() const { return PgKindOfType(type_oid); }
};

// What the compiler needs to know about the table beyond the Dataset.
struct PgTableInfo {
  std::string relation;  // "schema"."table" or "table", quoted
  std::vector<PgColumn> columns;
  // nullptr if unknown.
  const PgColumn* Find(std::string_view name) const;
};

struct PgCompiledSql {
  std::string sql;
  std::vector<std::string> params;  // $1, $2, ... as text (never NULL)
};

struct PgCompiledSelect {
  PgCompiledSql query;
  // Per SourceQuery::fields entry: the result column of a table field, or -1 for a document
  // field (filled from document_column by the flattener).
  std::vector<int> field_columns;
  int key_column = -1;
  int document_column = -1;  // -1 if not selected
};

// How the SQL text refers to parameter n.
enum class PgParamStyle : uint8_t {
  kBound,    // $n, bound by PQexecParams
  kSetting,  // current_setting('exportd.pn'), set by set_config in the same transaction
};

// The setting that holds parameter n (1-based) under PgParamStyle::kSetting: "exportd.pn".
std::string PgParamSettingName(size_t n);

// "a" -> "\"a\"" ('"' doubled).
std::string QuotePgIdentifier(std::string_view name);
// "schema.table" -> "\"schema\".\"table\"" (split at the first '.'), "table" -> "\"table\"".
std::string QuotePgRelation(std::string_view table);

Result<PgCompiledSql> PgCompileCount(const Dataset& dataset, const SourceQuery& query,
                                     const PgTableInfo& table);
// SELECT fields..., key[, document] FROM table WHERE ... ORDER BY key.
Result<PgCompiledSelect> PgCompileSelect(const Dataset& dataset, const SourceQuery& query,
                                         const PgTableInfo& table,
                                         PgParamStyle style = PgParamStyle::kBound);
// SELECT DISTINCT partition::text ... WHERE partition IS NOT NULL (no order).
Result<PgCompiledSql> PgCompilePartitions(const Dataset& dataset, const PgTableInfo& table);
// partition as text ('' for NULL or none), COUNT(*), COUNT(DISTINCT field)... GROUP BY 1.
Result<PgCompiledSql> PgCompileSummary(const Dataset& dataset, const SourceQuery& query,
                                       const std::vector<std::string>& count_distinct,
                                       const PgTableInfo& table);
// The values of query.keys that no row matching the rest of the query has as its key, in key
// order.
Result<PgCompiledSql> PgCompileMissingKeys(const Dataset& dataset, const SourceQuery& query,
                                           const PgTableInfo& table);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_POSTGRES_SOURCE_PG_QUERY_H_
