// The filter compiler: turns a SourceQuery over a resolved SQLite dataset into one
// parameterised SQL statement.
//
// Contract of the generated SQL:
//  - every value is a bound parameter ('?', bound in the order of CompiledSql::binds); the SQL
//    text holds only fixed keywords and identifiers of the Dataset, quoted with QuoteIdentifier;
//  - a field unknown to the Dataset is kInvalidArgument (core validates first; this is defence
//    in depth, so that no name from outside can reach the SQL text);
//  - document fields are read with a correlated scalar subquery,
//      (SELECT value FROM json_each(NULLIF("doc", '')) WHERE key = ?)
//    with the field name bound. Not json_extract: SQLite 3.40's JSON paths can neither address
//    a key containing '"' nor match a key written with escapes ("caf\u00e9"); json_each
//    compares unescaped keys, like the DocumentFlattener. A missing key (or a NULL or empty
//    document) is NULL; with duplicate keys the first one counts, as in the flattener;
//  - operators:
//      eq v        col = ?            (eq null: col IS NULL)
//      ne v        col IS NOT ?       matches rows whose value differs, NULL ones included
//                                     (ne null: col IS NOT NULL)
//      gt/gte/lt/lte                  col > ? ... (never match NULL)
//      in [v...]   col IN (?, ...)    (a null in the list adds OR col IS NULL)
//      prefix s    col >= s AND col < successor(s)  byte-wise, exact and case-sensitive;
//                                     '%', '_' and '\' are literal; matches text values only
//      null b      col IS NULL / col IS NOT NULL
//    Bools bind as 0/1.
//  - the time field (since/until, and conditions on it) is compared as an instant, exactly:
//      TimeStorage::kUnixSeconds: integer seconds against ceil/floor of the bound instant;
//      TimeStorage::kRfc3339Text: values must be 'YYYY-MM-DDTHH:MM:SS[.fraction]Z'. Plain text
//        order is wrong when fractions are mixed ('...:00.5Z' sorts before '...:00Z'), so the
//        column is normalised in SQL to a fixed-width 'YYYY-MM-DDTHH:MM:SS.nnnnnnnnn' (fraction
//        padded/truncated to nanoseconds) and compared with the bound instant in the same form.
//        A redundant range on the raw column (col >= 'YYYY-MM-DDTHH:MM:SS' for lower bounds,
//        col < successor('YYYY-MM-DDTHH:MM:SS') for upper bounds) lets SQLite use an index.
//    since/until is [since, until).
//  - partitions: part IN (?, ...); after_key: key > ?; always ORDER BY key (SELECT only).
//  - windows: ((part IN (?, ...) AND time >= ? AND time < ?) OR ...), one term per distinct
//    (since, until); an empty list is "0". keys: key IN (SELECT value FROM json_each(?)), the
//    keys bound as one JSON array (a list may be longer than SQLite's parameter limit).
#ifndef EXPORTD_STORAGE_SQLITE_SQL_QUERY_H_
#define EXPORTD_STORAGE_SQLITE_SQL_QUERY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dataset.h"
#include "core/request.h"
#include "core/source.h"
#include "core/status.h"

namespace exportd {

class Statement;

// How the dataset's time field is stored (decided from the column's declared type).
enum class TimeStorage { kRfc3339Text, kUnixSeconds };

// What the compiler needs to know about the table beyond the Dataset.
struct SqlTableInfo {
  TimeStorage time_storage = TimeStorage::kRfc3339Text;
};

struct CompiledSql {
  std::string sql;
  std::vector<FilterValue> binds;  // one per '?', in order
};

struct CompiledSelect {
  CompiledSql query;
  // Per SourceQuery::fields entry: the result column of a table field, or -1 for a document
  // field (filled from document_column by the flattener).
  std::vector<int> field_columns;
  int key_column = -1;       // result column holding the dataset key
  int document_column = -1;  // result column holding the document text; -1 if not selected
};

// SELECT COUNT(*) FROM table WHERE ...
Result<CompiledSql> CompileCount(const Dataset& dataset, const SourceQuery& query,
                                 const SqlTableInfo& table = {});

// SELECT fields..., key[, document] FROM table WHERE ... ORDER BY key
// With query.after_key set, its value is the last of the binds (CompileKeys too), so a reader
// may rebind it to start the same query after another key.
Result<CompiledSelect> CompileSelect(const Dataset& dataset, const SourceQuery& query,
                                     const SqlTableInfo& table = {});

// SELECT key FROM table WHERE ... ORDER BY key: the rows of CompileSelect, only their keys (a
// reader that passes over rows without loading their other columns).
Result<CompiledSql> CompileKeys(const Dataset& dataset, const SourceQuery& query,
                                const SqlTableInfo& table = {});

// The distinct values of the partition field as text, NULL excluded, in no particular order: a
// recursive "next value after this one" (`skip_scan`: one seek per value, for a table with an
// index that leads with the partition field) or SELECT DISTINCT (one pass over the rows).
// kFailedPrecondition without a partition field.
Result<CompiledSql> CompilePartitions(const Dataset& dataset, bool skip_scan);
// SELECT MIN(partition) ... WHERE partition > ?: the step of the skip scan, whose plan tells
// whether an index serves it.
Result<CompiledSql> CompileNextPartitionProbe(const Dataset& dataset);

// SELECT partition-as-text ('' for NULL or none), COUNT(*), COUNT(DISTINCT field)... FROM table
// WHERE ... GROUP BY 1 ORDER BY 1; query.fields and query.after_key are ignored.
Result<CompiledSql> CompileSummary(const Dataset& dataset, const SourceQuery& query,
                                   const std::vector<std::string>& count_distinct,
                                   const SqlTableInfo& table = {});

// The values of query.keys that no row matching the rest of the query has as its key, one per
// row, in key order (SQLite's order of the JSON values); query.after_key is ignored.
Result<CompiledSql> CompileMissingKeys(const Dataset& dataset, const SourceQuery& query,
                                       const SqlTableInfo& table = {});

// Binds `binds` to parameters 1..n of `stmt`.
void BindAll(Statement& stmt, const std::vector<FilterValue>& binds);

// The smallest byte string greater than every string that starts with `prefix`, or nullopt when
// there is none (empty or all 0xFF). Exposed for tests.
std::optional<std::string> PrefixSuccessor(std::string_view prefix);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_SQL_QUERY_H_
