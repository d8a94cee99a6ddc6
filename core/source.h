// Source and RecordReader: how core reads the rows of a dataset. Implemented in storage/.
#ifndef EXPORTD_CORE_SOURCE_H_
#define EXPORTD_CORE_SOURCE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/request.h"
#include "core/status.h"

namespace exportd {

enum class CellKind : uint8_t {
  kNull,
  kNumber,  // text is a JSON-compatible number literal, e.g. "42", "-1.5", "1e-05"
  kText,    // text is the UTF-8 string value (unescaped)
  kBool,    // text is "true" or "false"
  kJson,    // text is a raw JSON object or array (from a document)
};

// One value of one row. `text` points into the reader's buffers.
struct Cell {
  CellKind kind = CellKind::kNull;
  std::string_view text;
};

// One partition's share of an incremental export: its rows whose time is in [since, until).
struct PartitionWindow {
  std::string partition;
  std::optional<TimePoint> since;  // nullopt: from the beginning of the data
  TimePoint until{};

  friend bool operator==(const PartitionWindow&, const PartitionWindow&) = default;
};

// What to read: resolved by core before it reaches a Source. Every condition that is set must
// hold (they are ANDed).
struct SourceQuery {
  std::vector<std::string> fields;  // output columns in order; never empty
  std::vector<Condition> filter;
  std::optional<TimePoint> since;
  std::optional<TimePoint> until;
  std::vector<std::string> partitions;
  // When true, only rows whose partition is NULL (the NULL series of an export split by
  // partition). REQUIRES a partition field.
  bool null_partition = false;
  // Keyset resume: only rows whose key is greater than this one.
  std::optional<FilterValue> after_key;
  // When set, only rows of these windows: the row's partition is one of them and its time is in
  // that window. An empty list matches no row. REQUIRES a time and a partition field.
  std::optional<std::vector<PartitionWindow>> windows;
  // When set, only rows whose key is one of these (strings or integers, as the key's type).
  std::optional<std::vector<FilterValue>> keys;
};

// Per-partition figures of the rows a query matches, for a task's metrics. Partitions are named
// by their value as text; NULL, and every row of a dataset without a partition field, counts
// under "".
struct SourceSummary {
  std::map<std::string, int64_t> rows_by_partition;  // partitions with no rows are absent
  // field -> partition -> number of distinct non-NULL values of the field
  std::map<std::string, std::map<std::string, int64_t>> distinct;

  friend bool operator==(const SourceSummary&, const SourceSummary&) = default;
};

// Iterates rows in ascending key order:
//   for (; reader->Next();) { use reader->row(); }
//   RETURN_IF_ERROR(reader->status());
// Not thread-safe; one reader is used by one thread.
class RecordReader {
 public:
  virtual ~RecordReader() = default;
  // Advances to the next row. False at the end or on error.
  virtual bool Next() = 0;
  // Advances like Next() but leaves row() and key() unspecified until the next Next(): a reader
  // that shares the rows with others passes over theirs without decoding them.
  virtual bool Skip() { return Next(); }
  // REQUIRES: the last Next() returned true. Valid until the next call to Next().
  // One cell per SourceQuery::fields entry, in that order.
  virtual std::span<const Cell> row() const = 0;
  // REQUIRES: as row(). When set: the indices of the cells of row() that may be other than NULL,
  // ascending and unique; every other cell is NULL. A reader of sparse rows (documents that set
  // a few of thousands of fields) gives them so that writers can pass over the NULLs in bulk.
  // nullopt: any cell may be set.
  virtual std::optional<std::span<const uint32_t>> non_null_cells() const { return std::nullopt; }
  // REQUIRES: the last Next() returned true. The dataset key of the current row.
  virtual FilterValue key() const = 0;
  // OK unless Next() stopped because of an error.
  virtual Status status() const = 0;
};

// Thread-safe: several workers may count and read at once (each reader has its own connection).
// Errors: kUnavailable/kDeadlineExceeded for transient trouble (busy, locked, I/O),
// kFailedPrecondition/kNotFound for permanent trouble (missing table or column).
class Source {
 public:
  virtual ~Source() = default;
  // Called at the start of each export attempt (and by `exportd verify --source`): checks that
  // the source still has every column the dataset was resolved against, the document column
  // included. A column renamed or dropped since (in a table or a view) is kFailedPrecondition
  // naming it: permanent, as an export that read something else in its place would be silently
  // wrong. kUnavailable when the source cannot be read now. The default has nothing to check.
  virtual Status CheckSchema() { return Status::Ok(); }
  virtual Result<int64_t> Count(const SourceQuery& query) = 0;
  // The distinct values of the dataset's partition field (NULL excluded), as text, ascending.
  // kFailedPrecondition when the dataset has no partition field, or the source cannot list them
  // (the default).
  virtual Result<std::vector<std::string>> Partitions() {
    return FailedPrecondition("this source cannot list partitions");
  }
  // Rows per partition and the distinct counts of `count_distinct` (dataset fields) per partition
  // among the rows `query` matches (query.fields and query.after_key are ignored).
  // kFailedPrecondition from a source that cannot (the default).
  virtual Result<SourceSummary> Summarize(const SourceQuery& query,
                                          const std::vector<std::string>& count_distinct) {
    (void)query;
    (void)count_distinct;
    return FailedPrecondition("this source cannot summarise rows");
  }
  // The values of query.keys that no row matching the rest of `query` has as its key, in key
  // order (query.fields and query.after_key are ignored). REQUIRES: query.keys is set.
  // kFailedPrecondition from a source that cannot (the default).
  virtual Result<std::vector<FilterValue>> MissingKeys(const SourceQuery& query) {
    (void)query;
    return FailedPrecondition("this source cannot look up keys");
  }
  virtual Result<std::unique_ptr<RecordReader>> Read(const SourceQuery& query) = 0;
  // Up to `count` readers that yield the same rows in the same order (one snapshot), for threads
  // that each decode a share of the rows and Skip() the others. At least one on success; fewer
  // than asked when the source cannot promise one snapshot to several connections, or when more
  // readers would not be faster (the default gives Read(query) alone). Each reader is used by
  // one thread.
  virtual Result<std::vector<std::unique_ptr<RecordReader>>> ReadShared(const SourceQuery& query,
                                                                        int count) {
    (void)count;
    std::vector<std::unique_ptr<RecordReader>> readers;
    ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader, Read(query));
    readers.push_back(std::move(reader));
    return readers;
  }
};

}  // namespace exportd

#endif  // EXPORTD_CORE_SOURCE_H_
