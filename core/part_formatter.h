// Rows -> the bytes of an export's part files: the one definition of file names, format (with
// request.escape_formulas), rollover after max_rows_per_file and the lone file of an empty
// export. The export runner stores these bytes; the verifier regenerates them to compare with
// what was stored.
#ifndef EXPORTD_CORE_PART_FORMATTER_H_
#define EXPORTD_CORE_PART_FORMATTER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/formats/format_writer.h"
#include "core/object_store.h"
#include "core/request.h"
#include "core/source.h"
#include "core/status.h"

namespace exportd {

// "part-00001.csv", "part-00002.ndjson.gz", ... (file_number is 1-based).
std::string PartName(int file_number, const ExportRequest& request);
// How a part is stored: its content type, and gzip when the request asks for it.
ObjectOptions PartObjectOptions(const ExportRequest& request);

// Receives the bytes of consecutive parts: BeginPart, Write..., EndPart, BeginPart, ...
// A non-OK return stops the formatter with that status.
class PartSink {
 public:
  virtual ~PartSink() = default;
  virtual Status BeginPart(int file_number, const std::string& name) = 0;
  // The next bytes of the current part (uncompressed).
  virtual Status Write(std::string_view bytes) = 0;
  // Every byte of the current part has been written; it holds `rows` data rows.
  virtual Status EndPart(int64_t rows) = 0;
};

// Formats a stream of rows into parts. Not thread-safe. `sink` must outlive the formatter.
class PartFormatter {
 public:
  // Buffered bytes go to sink.Write once they reach `flush_threshold` and at the end of each
  // part; 0 hands over the header and each row separately (then rows_in_part() tells which
  // row a Write carries). `first_file_number` > 1 continues an export whose earlier parts
  // exist already (then Finish() never adds an empty part).
  PartFormatter(const ExportRequest& request, std::vector<std::string> columns, PartSink& sink,
                size_t flush_threshold, int first_file_number = 1);

  // Opens a part if none is open, formats the row, and ends the part at max_rows_per_file.
  // kInternal if row.size() differs from the number of columns.
  Status Append(std::span<const Cell> row);
  // Append for a row formatted elsewhere: `body` is what FormatWriter::WriteRowBody wrote for it
  // with a writer made for the same request, and `has_formula` whether that writer noted a
  // formula-like cell in it (core/parallel_rows.h formats rows this way, on several threads).
  Status AppendFormatted(std::string_view body, bool has_formula);
  // Ends the part in progress, or writes the one empty part of an export without rows.
  Status Finish();

  bool in_part() const { return in_part_; }
  int64_t rows_in_part() const { return rows_in_part_; }  // of the open part
  int64_t rows() const { return rows_; }                  // appended through this formatter
  int next_file_number() const { return next_file_number_; }
  size_t buffered_bytes() const { return buffer_.size(); }
  // Whether a text cell of the open part, or of the part just ended (so PartSink::EndPart may
  // ask), starts like a formula; nullopt for formats other than CSV and TSV.
  std::optional<bool> part_contains_formulas() const;

 private:
  Status BeginPart();
  Status EndPart();
  // Counts the row just written to buffer_, flushes a full buffer, ends a full part.
  Status RowAppended();
  Status FlushIfFull();
  Status Flush();

  const ExportRequest& request_;
  const std::vector<std::string> columns_;
  PartSink& sink_;
  const size_t flush_threshold_;
  std::unique_ptr<FormatWriter> format_;
  std::string buffer_;
  bool in_part_ = false;
  bool formatted_formulas_in_part_ = false;  // a row given to AppendFormatted had a formula
  int next_file_number_;
  int64_t rows_in_part_ = 0;
  int64_t rows_ = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_PART_FORMATTER_H_
