// Source over one table of a SQLite file (see core/source.h for the contract).
#ifndef EXPORTD_STORAGE_SQLITE_SQLITE_SOURCE_H_
#define EXPORTD_STORAGE_SQLITE_SQLITE_SOURCE_H_

#include <cstdint>
#include <memory>

#include "core/dataset.h"
#include "core/source.h"
#include "core/status.h"
#include "storage/sqlite/sql_query.h"
#include "storage/sqlite/sqlite_db.h"

namespace exportd {

// Thread-safe: immutable after Open(); every Count() and Read() opens its own read-only
// connection (busy timeout from spec().source.busy_timeout_ms), so readers never share a handle.
// One Read() streams one prepared statement (no LIMIT/OFFSET) inside SQLite's implicit read
// transaction: the rows are one consistent snapshot; the reader holds a shared lock on a
// rollback-journal file until it is destroyed or reaches the end.
//
// Cells (valid until the next Next()):
//   INTEGER, REAL  kNumber with SQLite's own text (REAL: 15 significant digits, "1.0e+20";
//                  +-infinity, which is no JSON number, is kText "Inf"/"-Inf");
//                  an INTEGER in a boolean field is kBool ("false" for 0, "true" otherwise);
//                  an INTEGER in a unix-seconds time field is kText, RFC 3339 whole seconds
//   TEXT           kText
//   BLOB           kText, standard base64 with padding (RFC 4648 section 4)
//   NULL           kNull
//   document field from the DocumentFlattener (a malformed document is kDataLoss naming the
//                  row key)
// Errors: SQLite errors through SqliteStatus (busy/locked/I-O -> kUnavailable, missing table or
// column -> kFailedPrecondition), with the dataset name as context.
class SqliteSource final : public Source {
 public:
  // Reads the table's columns once to learn how the time field is stored.
  // REQUIRES: `dataset` was resolved by ResolveSqliteDataset.
  static Result<std::shared_ptr<SqliteSource>> Open(std::shared_ptr<const Dataset> dataset);

  // Reads the columns of the table (or view) now: the key, the time and partition fields, every
  // column field and the document column must still be there (kFailedPrecondition naming the
  // first one missing, and the dataset).
  Status CheckSchema() override;
  Result<int64_t> Count(const SourceQuery& query) override;
  Result<std::vector<std::string>> Partitions() override;
  Result<SourceSummary> Summarize(const SourceQuery& query,
                                  const std::vector<std::string>& count_distinct) override;
  Result<std::vector<FilterValue>> MissingKeys(const SourceQuery& query) override;
  Result<std::unique_ptr<RecordReader>> Read(const SourceQuery& query) override;
  // `count` readers in one snapshot: each opens a read transaction while the first one's shared
  // lock keeps writers from committing (rollback-journal mode). A WAL-mode file gets one reader,
  // as does a table with a NULL key (readers position themselves after keys), a query SQLite
  // answers by sorting its rows (served by a secondary index, e.g. a time window: each
  // repositioning would sort them again), and maybe a file whose writer is waiting to commit.
  Result<std::vector<std::unique_ptr<RecordReader>>> ReadShared(const SourceQuery& query,
                                                                int count) override;

  const Dataset& dataset() const { return *dataset_; }
  const SqlTableInfo& table_info() const { return table_; }

 private:
  SqliteSource(std::shared_ptr<const Dataset> dataset, SqlTableInfo table)
      : dataset_(std::move(dataset)), table_(table) {}

  // A reader over `db`; `in_transaction`: the caller began a transaction on it (ReadShared).
  Result<std::unique_ptr<RecordReader>> MakeReader(Database db, const SourceQuery& query,
                                                   bool in_transaction);

  const std::shared_ptr<const Dataset> dataset_;
  const SqlTableInfo table_;
};

// SqliteSource::Open as the core interface.
Result<std::shared_ptr<Source>> OpenSqliteSource(std::shared_ptr<const Dataset> dataset);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_SQLITE_SOURCE_H_
