// Source over one table or view of a PostgreSQL database (see core/source.h for the contract).
#ifndef EXPORTD_STORAGE_POSTGRES_SOURCE_PG_SOURCE_H_
#define EXPORTD_STORAGE_POSTGRES_SOURCE_PG_SOURCE_H_

#include <memory>
#include <string>
#include <vector>

#include "core/dataset.h"
#include "core/source.h"
#include "core/status.h"
#include "storage/postgres_source/pg_query.h"

namespace exportd {

class PgConnection;

// The columns of `table` ("schema.table" or "table", found through the connection's search_path)
// in table order. kFailedPrecondition when there is no such table or view.
Result<PgTableInfo> ReadPgTable(PgConnection& conn, const std::string& table);

// Connects to spec.source.url and checks the spec against the table, as ResolveSqliteDataset
// does for SQLite (the same rules and messages), and the types PostgreSQL adds: the key is an
// integer or text column; the time field is timestamptz, timestamp or an integer (unix seconds);
// the document column is json, jsonb or text. Field types: integers kInteger, real/double/numeric
// kReal, text/varchar/char kText, boolean kBoolean, the time field kTimestamp, others kAny.
// kUnavailable (naming the dataset) when the server cannot be reached; kInvalidArgument for a
// URL libpq cannot parse.
Result<Dataset> ResolvePgDataset(const DatasetSpec& spec);

// Thread-safe: immutable after Open(); every call opens its own connection (libpq, the URL of
// spec().source), in a read-only session with TimeZone UTC, DateStyle ISO, extra_float_digits 1
// and bytea_output hex, which the cell conversions rely on.
//
// A Read() streams `COPY (SELECT ...) TO STDOUT` (text format) in a read-only transaction; the
// SELECT's values are set as settings of that transaction (PgParamStyle::kSetting), never
// spliced into its text. Rows are decoded one at a time and never all held; the server produces
// the next ones while the current one is written. ReadShared() opens `count` connections in one
// snapshot: the first exports it (pg_export_snapshot() in a REPEATABLE READ transaction), the
// others import it (SET TRANSACTION SNAPSHOT), and each runs the same COPY.
//
// Cells (valid until the next Next()), the SQLite source's text for the same data:
//   integer types          kNumber, the digits
//   real, double           kNumber, the shortest text of the double; NaN NULL; +-Infinity
//                          kText "Inf"/"-Inf"
//   numeric                kNumber as a value of a SQLite NUMERIC column (pg_values.h)
//   boolean                kBool
//   timestamptz, timestamp kText RFC 3339 UTC, "2024-01-02T03:04:05.25Z" (timestamp read as UTC)
//   integer time field     kText RFC 3339 whole seconds
//   bytea                  kText, standard base64 with padding
//   anything else          kText, PostgreSQL's text output (date "2024-01-02", uuid, json, ...)
//   NULL                   kNull
//   document fields        from the DocumentFlattener over the json/jsonb/text document
// Errors: connection loss, a server shutting down or refusing connections are kUnavailable
// (retried); a missing table, column or privilege (SQLSTATE class 42) kFailedPrecondition.
class PgSource final : public Source {
 public:
  // Reads the table's columns and types. REQUIRES: `dataset` was resolved by ResolvePgDataset.
  static Result<std::shared_ptr<PgSource>> Open(std::shared_ptr<const Dataset> dataset);

  Status CheckSchema() override;
  Result<int64_t> Count(const SourceQuery& query) override;
  Result<std::vector<std::string>> Partitions() override;
  Result<SourceSummary> Summarize(const SourceQuery& query,
                                  const std::vector<std::string>& count_distinct) override;
  Result<std::vector<FilterValue>> MissingKeys(const SourceQuery& query) override;
  Result<std::unique_ptr<RecordReader>> Read(const SourceQuery& query) override;
  // One reader when the query selects no document field: every reader makes the server produce
  // every row, which costs more than decoding plain columns on another thread saves (the narrow
  // bench table: 4.0 s with one reader, 5.6 s with two on two cores); flattening documents is
  // the work worth sharing. Also one when the key column may hold NULLs (the readers' order of
  // equal keys is not defined) or when a second connection cannot join the snapshot.
  Result<std::vector<std::unique_ptr<RecordReader>>> ReadShared(const SourceQuery& query,
                                                                int count) override;

  // A quick probe for readiness: connects (2 s timeout) and runs SELECT 1.
  Status CheckReachable() const;

  const Dataset& dataset() const { return *dataset_; }
  const PgTableInfo& table() const { return table_; }

 private:
  PgSource(std::shared_ptr<const Dataset> dataset, PgTableInfo table)
      : dataset_(std::move(dataset)), table_(std::move(table)) {}

  // Starts the COPY on `conn`, whose transaction has begun, and wraps it in a reader.
  Result<std::unique_ptr<RecordReader>> MakeReader(std::unique_ptr<PgConnection> conn,
                                                   const SourceQuery& query);

  const std::shared_ptr<const Dataset> dataset_;
  const PgTableInfo table_;
};

// PgSource::Open as the core interface.
Result<std::shared_ptr<Source>> OpenPgSource(std::shared_ptr<const Dataset> dataset);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_POSTGRES_SOURCE_PG_SOURCE_H_
