// ImportSink for datasets whose source is a SQLite table.
//
// Each import stages its rows in a SQLite file of its own, <staging_dir>/<task id>.db (table
// "rows": the dataset table's columns, the key UNIQUE, plus where each row came from), committed
// every batch of rows, so staging never holds a lock on the dataset's file. Publish attaches the
// staging file to a connection to the dataset's file and, in one transaction of that file,
// inserts the staged rows (INSERT .. SELECT, with on_conflict's rule), and records the task in
// the table "_exportd_imports" of the dataset's file. A crash before that commit leaves the table
// as it was (the staging file is dropped by the next attempt's Begin); a crash after it leaves
// every row and the record, and the next attempt finds the record (Published) and does nothing
// again. The dataset's document column, when it has one, receives a JSON object rebuilt from
// the document fields (those that are not NULL, in declared order, numbers as written).
#ifndef EXPORTD_STORAGE_SQLITE_SQLITE_IMPORT_SINK_H_
#define EXPORTD_STORAGE_SQLITE_SQLITE_IMPORT_SINK_H_

#include <string>

#include "core/imports/import_sink.h"

namespace exportd {

class SqliteImportSink final : public ImportSink {
 public:
  // `staging_dir` is created on first use. `busy_timeout_ms`: how long Publish waits for readers
  // of the dataset's file (running exports) to let it write; past it the attempt fails with
  // kUnavailable (retried).
  explicit SqliteImportSink(std::string staging_dir, int busy_timeout_ms = 60000);

  Result<std::optional<ImportCounts>> Published(const Dataset& dataset,
                                                const std::string& task_id) override;
  Result<std::unique_ptr<ImportTarget>> Begin(const Dataset& dataset,
                                              const std::string& task_id) override;

  // Rolls back what a direct import cut short by a crash left in the dataset's file (a hot
  // rollback journal, which read-only connections such as an export's cannot roll back: they
  // fail until a writer opens the file). Called at start-up for each importable dataset.
  Status Recover(const Dataset& dataset);

 private:
  std::string staging_dir_;
  int busy_timeout_ms_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_SQLITE_IMPORT_SINK_H_
