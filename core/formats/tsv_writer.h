// Tab-separated values; see format_writer.h for the rules.
#ifndef EXPORTD_CORE_FORMATS_TSV_WRITER_H_
#define EXPORTD_CORE_FORMATS_TSV_WRITER_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/formats/format_writer.h"

namespace exportd {

// Appends `value` with tab, LF, CR and backslash written as \t \n \r \\.
void AppendTsvEscaped(std::string_view value, std::string& out);

// Keeps only the formula flag of the current file between rows; not thread-safe like every
// FormatWriter. Formula-like cells are judged by their value (formula_cells.h), before
// escaping: a value starting with TAB is flagged although it is written as "\t...".
class TsvWriter final : public FormatWriter {
 public:
  // `escape_formulas`: formula-like text cells get a leading single quote.
  explicit TsvWriter(bool escape_formulas = false) : escape_formulas_(escape_formulas) {}

  void BeginFile(std::span<const std::string> columns, std::string& out) override;
  void WriteRow(std::span<const Cell> row, std::string& out) override;
  void EndFile(std::string& out) override;
  std::optional<bool> file_contains_formulas() const override { return formulas_in_file_; }
  void ForgetFormulas() override { formulas_in_file_ = false; }
  void WriteSparseRowBody(std::span<const Cell> row, std::span<const uint32_t> cells,
                          std::string& out) override;

 private:
  // Writes one cell's field (nothing for NULL) at p, which has room for twice its text plus 1
  // byte; returns the end. Notes formula-like text.
  char* CopyCell(char* p, const Cell& cell);

  const bool escape_formulas_;
  bool formulas_in_file_ = false;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_FORMATS_TSV_WRITER_H_
