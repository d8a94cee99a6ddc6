// ImportSink: where an import's rows go. Implemented in storage/ (storage/sqlite: a staging table
// beside the dataset's table, published in one transaction).
#ifndef EXPORTD_CORE_IMPORTS_IMPORT_SINK_H_
#define EXPORTD_CORE_IMPORTS_IMPORT_SINK_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/dataset.h"
#include "core/status.h"
#include "core/task.h"

namespace exportd {

// A value checked against its field's type (core/imports/import_values.h), ready for the table.
struct ImportValue {
  enum class Type : uint8_t { kNull, kInteger, kReal, kText, kBool };
  Type type = Type::kNull;
  int64_t integer = 0;  // kInteger; kBool: 0 or 1
  double real = 0;      // kReal
  // kText: the text. kInteger and kReal: the number as the file wrote it (a document keeps
  // this token, so a document value reads back as written). kBool: "true" or "false". A field
  // of type integer, real or boolean that is a table column (not Field::from_document) leaves
  // it empty: its column takes `integer` or `real`.
  std::string text;
};

// Where a staged row came from, for error details.
struct RowOrigin {
  int32_t file = 0;  // index into the import's inputs
  int64_t line = 0;
};

// One import's writes into one dataset. Nothing it stages is visible in the dataset until
// Publish() commits; destroying it unpublished leaves the staged rows for Begin() of the next
// attempt to drop. Not thread-safe.
class ImportTarget {
 public:
  virtual ~ImportTarget() = default;
  // Stages one row, one value per field of the dataset (Dataset::fields order). kAlreadyExists
  // when a staged row has the same key (a duplicate inside the import); the row is not staged.
  virtual Status Stage(std::span<const ImportValue> row, const RowOrigin& origin) = 0;
  // Makes the rows staged so far durable (ends one transaction of the staging table).
  virtual Status Flush() = 0;
  // Publishes every staged row into the dataset's table in one transaction, with the rule of
  // `on_conflict` for keys the table holds already, and records in that same transaction that
  // the task is published (Published() then returns the counts). With kError and such keys:
  // kAlreadyExists, nothing published, and the first `max_conflicts` of them in `conflicts`.
  struct Conflict {
    RowOrigin origin;
    std::string key;
  };
  virtual Result<ImportCounts> Publish(OnConflict on_conflict, size_t max_conflicts,
                                       std::vector<Conflict>* conflicts) = 0;
  // Drops the staged rows (a failed or cancelled import).
  virtual Status Discard() = 0;
};

// Thread-safe: each import has its own target.
class ImportSink {
 public:
  virtual ~ImportSink() = default;
  // The counts of task `task_id` if an earlier attempt published it (a crash after publishing,
  // before the task was recorded Succeeded); nullopt otherwise.
  virtual Result<std::optional<ImportCounts>> Published(const Dataset& dataset,
                                                        const std::string& task_id) = 0;
  // Starts staging for `task_id`, dropping whatever an earlier attempt of it staged.
  // kFailedPrecondition if the dataset's source cannot take imports.
  virtual Result<std::unique_ptr<ImportTarget>> Begin(const Dataset& dataset,
                                                      const std::string& task_id) = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_IMPORTS_IMPORT_SINK_H_
