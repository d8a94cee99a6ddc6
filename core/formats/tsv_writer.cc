#include "core/formats/tsv_writer.h"

#include "core/formats/formula_cells.h"

namespace exportd {

void AppendTsvEscaped(std::string_view value, std::string& out) {
  size_t run_start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    char escaped = 0;
    switch (value[i]) {
      case '\t':
        escaped = 't';
        break;
      case '\n':
        escaped = 'n';
        break;
      case '\r':
        escaped = 'r';
        break;
      case '\\':
        escaped = '\\';
        break;
      default:
        continue;
    }
    out.append(value.data() + run_start, i - run_start);
    out.push_back('\\');
    out.push_back(escaped);
    run_start = i + 1;
  }
  out.append(value.data() + run_start, value.size() - run_start);
}

void TsvWriter::BeginFile(std::span<const std::string> columns, std::string& out) {
  formulas_in_file_ = false;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i != 0) out.push_back('\t');
    AppendTsvEscaped(columns[i], out);
  }
  out.push_back('\n');
}

void TsvWriter::WriteRow(std::span<const Cell> row, std::string& out) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (i != 0) out.push_back('\t');
    const Cell& cell = row[i];
    if (cell.kind == CellKind::kNull) continue;
    if (cell.kind == CellKind::kText && StartsLikeFormula(cell.text)) {
      formulas_in_file_ = true;
      if (escape_formulas_) out.push_back(kFormulaEscape);
    }
    AppendTsvEscaped(cell.text, out);
  }
  out.push_back('\n');
}

void TsvWriter::EndFile(std::string& /*out*/) {}

}  // namespace exportd
