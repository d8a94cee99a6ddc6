// CSV per RFC 4180; see format_writer.h for the rules.
#ifndef EXPORTD_CORE_FORMATS_CSV_WRITER_H_
#define EXPORTD_CORE_FORMATS_CSV_WRITER_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/formats/format_writer.h"

namespace exportd {

// Appends one field: quoted (quotes doubled) when it contains a comma, quote, CR or LF, or when
// it is empty (so that an empty string differs from NULL, which the caller writes as nothing).
void AppendCsvField(std::string_view value, std::string& out);
// The same field with kFormulaEscape (formula_cells.h) before `value`, inside the quotes when
// the field needs them: =a,"b" becomes "'=a,""b""". REQUIRES: value is not empty.
void AppendEscapedCsvField(std::string_view value, std::string& out);

// Keeps only the formula flag of the current file between rows; not thread-safe like every
// FormatWriter.
class CsvWriter final : public FormatWriter {
 public:
  // `escape_formulas`: formula-like text cells (formula_cells.h) get a leading single quote.
  explicit CsvWriter(bool escape_formulas = false) : escape_formulas_(escape_formulas) {}

  void BeginFile(std::span<const std::string> columns, std::string& out) override;
  void WriteRow(std::span<const Cell> row, std::string& out) override;
  void EndFile(std::string& out) override;
  std::optional<bool> file_contains_formulas() const override { return formulas_in_file_; }
  void ForgetFormulas() override { formulas_in_file_ = false; }
  void WriteSparseRowBody(std::span<const Cell> row, std::span<const uint32_t> cells,
                          std::string& out) override;

 private:
  // Writes one cell's field (nothing for NULL) at p, which has room for twice its text plus 3
  // bytes; returns the end. Notes formula-like text.
  char* CopyCell(char* p, const Cell& cell);

  const bool escape_formulas_;
  bool formulas_in_file_ = false;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_FORMATS_CSV_WRITER_H_
