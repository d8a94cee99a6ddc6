// ParallelRows: rows decoded and formatted on several threads, handed back in order.
//
// Flattening documents and formatting cells is most of an export's work, and one thread leaves
// the machine's other cores idle. Given n readers over the same rows (Source::ReadShared), lane
// i decodes and formats the batches i, i+n, i+2n, ... of `rows_per_batch` rows on its own
// thread and Skip()s the others, which costs a source step per row but no decoding. The
// consumer takes the formatted rows back in source order, one at a time, and lays them out in
// files (PartFormatter::AppendFormatted): file boundaries, headers, the bytes between rows,
// hashing and storage stay on the consumer's thread, so the files are byte for byte those of
// one thread.
//
// Memory is bounded: each lane keeps at most `batches_ahead` formatted batches waiting.
#ifndef EXPORTD_CORE_PARALLEL_ROWS_H_
#define EXPORTD_CORE_PARALLEL_ROWS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/request.h"
#include "core/source.h"
#include "core/status.h"

namespace exportd {

struct ParallelRowsOptions {
  Format format = Format::kCsv;
  bool escape_formulas = false;
  int64_t rows_per_batch = 256;  // at least 1
  size_t batches_ahead = 4;      // per lane, at least 1
};

// The number of rows per batch for rows of `columns` cells: batches of up to ~1 MB of output, so
// the hand-over between threads costs little against the work in a batch, and a lane descheduled
// for a while does not stall the others (with batches_ahead of slack).
int64_t RowsPerBatch(size_t columns);

// Not thread-safe: one consumer thread calls Next() and the accessors. The lanes start in the
// constructor, on threads the process keeps for later exports; the destructor, which may run at
// any point (an export that stops early), stops them and waits until they have let go of their
// readers.
class ParallelRows {
 public:
  // REQUIRES: `readers` is not empty and every reader yields the same rows in the same order.
  ParallelRows(std::vector<std::unique_ptr<RecordReader>> readers, std::vector<std::string> columns,
               const ParallelRowsOptions& options);
  ~ParallelRows();
  ParallelRows(const ParallelRows&) = delete;
  ParallelRows& operator=(const ParallelRows&) = delete;

  // Advances to the next row in source order. False at the end or on error (see status()).
  bool Next();
  // REQUIRES: the last Next() returned true. Valid until the next call to Next().
  // What FormatWriter::WriteRowBody wrote for the row.
  std::string_view body() const;
  // Whether the row has a formula-like text cell (CSV and TSV; always false for the others).
  bool has_formula() const { return has_formula_; }
  // The row's dataset key; the caller may move it away.
  FilterValue& key();
  // OK unless Next() stopped because a reader failed: that reader's status. The rows before the
  // failing one were all handed out.
  Status status() const { return status_; }

 private:
  struct Batch;
  class Lane;

  const std::vector<std::string> columns_;  // declared before lanes_, which refer to it
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::unique_ptr<Batch> current_;  // the batch being handed out; null before the first
  size_t row_in_batch_ = 0;         // index of the current row in current_
  size_t formula_index_ = 0;        // first entry of current_->formula_rows not behind the row
  bool has_formula_ = false;
  uint64_t next_batch_ = 0;  // global index of the batch to take next
  bool done_ = false;
  Status status_;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_PARALLEL_ROWS_H_
