// Output formats. A FormatWriter appends the bytes of one file to a caller-owned buffer, so the
// export path never allocates per cell and writes to storage in large blocks.
//
//   CSV    RFC 4180: header row, CRLF line ends, fields quoted when they contain a comma, quote,
//          CR or LF (quotes doubled); NULL is an empty field, the empty string is "".
//   TSV    header row, LF line ends, tab / newline / CR / backslash inside values escaped as
//          \t \n \r \\; NULL is an empty field.
//   JSON   one array of objects per file; numbers and booleans unquoted, NULL as null.
//   NDJSON one object per line (LF).
// CSV and TSV also watch for text cells a spreadsheet would run as formulas (formula_cells.h);
// JSON and NDJSON are not opened by spreadsheets and write every value as it is.
#ifndef EXPORTD_CORE_FORMATS_FORMAT_WRITER_H_
#define EXPORTD_CORE_FORMATS_FORMAT_WRITER_H_

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/request.h"
#include "core/source.h"

namespace exportd {

// Not thread-safe; one writer per file being written.
class FormatWriter {
 public:
  virtual ~FormatWriter() = default;
  // Starts a file with these column names (the header, "[" for JSON, nothing for NDJSON).
  virtual void BeginFile(std::span<const std::string> columns, std::string& out) = 0;
  // REQUIRES: row.size() == columns.size() of the current file.
  virtual void WriteRow(std::span<const Cell> row, std::string& out) = 0;
  virtual void EndFile(std::string& out) = 0;
  // Spreadsheet formats (CSV, TSV): whether a text cell written since the last BeginFile starts
  // like a formula (formula_cells.h); valid until the next BeginFile. nullopt for the others.
  virtual std::optional<bool> file_contains_formulas() const { return std::nullopt; }

  // Rows formatted apart from their file, by several threads (core/parallel_rows.h): BeginFile,
  // then per row BeginRow and what another writer's WriteRowBody wrote, then EndFile, make the
  // same bytes as BeginFile, WriteRow..., EndFile.
  // Appends what goes before the next row of the file (JSON: its separator) and counts the row.
  virtual void BeginRow(std::string& /*out*/) {}
  // REQUIRES: BeginFile was called once (it sets the columns up). The row without what BeginRow
  // writes; formula-like cells are noted as WriteRow notes them.
  virtual void WriteRowBody(std::span<const Cell> row, std::string& out) { WriteRow(row, out); }
  // WriteRowBody for a row whose cells are NULL but for those listed in `cells` (ascending,
  // unique indices into row; RecordReader::non_null_cells): the same bytes. The delimited
  // writers, for which a NULL is only its separator, write the runs of NULLs in bulk.
  virtual void WriteSparseRowBody(std::span<const Cell> row, std::span<const uint32_t> cells,
                                  std::string& out) {
    (void)cells;
    WriteRowBody(row, out);
  }
  // Forgets the formula-like cells noted so far, as BeginFile does, without writing anything.
  virtual void ForgetFormulas() {}
};

// `escape_formulas`: CSV and TSV write a formula-like text cell with a leading single quote
// (inside the field, so RFC 4180 quoting still applies); other formats ignore it.
std::unique_ptr<FormatWriter> MakeFormatWriter(Format format, bool escape_formulas = false);

// Appends `s` as the body of a JSON string (without the surrounding quotes), escaping what
// RFC 8259 requires. Shared with the manifest and canonical-request serialisers.
void AppendJsonEscaped(std::string_view s, std::string& out);

}  // namespace exportd

#endif  // EXPORTD_CORE_FORMATS_FORMAT_WRITER_H_
