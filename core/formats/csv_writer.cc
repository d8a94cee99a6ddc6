#include "core/formats/csv_writer.h"

#include "core/formats/formula_cells.h"

namespace exportd {
namespace {

bool NeedsQuotes(std::string_view value) {
  for (char c : value) {
    if (c == ',' || c == '"' || c == '\r' || c == '\n') return true;
  }
  return value.empty();
}

// `value` between quotes with its quotes doubled; `prefix` (unless 0) right after the opening
// quote.
void AppendQuoted(char prefix, std::string_view value, std::string& out) {
  out.push_back('"');
  if (prefix != 0) out.push_back(prefix);
  size_t run_start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '"') {
      out.append(value.data() + run_start, i + 1 - run_start);  // the quote itself, then again
      out.push_back('"');
      run_start = i + 1;
    }
  }
  out.append(value.data() + run_start, value.size() - run_start);
  out.push_back('"');
}

}  // namespace

void AppendCsvField(std::string_view value, std::string& out) {
  if (NeedsQuotes(value)) {
    AppendQuoted(0, value, out);
  } else {
    out.append(value);
  }
}

void AppendEscapedCsvField(std::string_view value, std::string& out) {
  if (NeedsQuotes(value)) {
    AppendQuoted(kFormulaEscape, value, out);
  } else {
    out.push_back(kFormulaEscape);
    out.append(value);
  }
}

void CsvWriter::BeginFile(std::span<const std::string> columns, std::string& out) {
  formulas_in_file_ = false;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i != 0) out.push_back(',');
    AppendCsvField(columns[i], out);
  }
  out.append("\r\n");
}

void CsvWriter::WriteRow(std::span<const Cell> row, std::string& out) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (i != 0) out.push_back(',');
    const Cell& cell = row[i];
    switch (cell.kind) {
      case CellKind::kNull:
        break;
      case CellKind::kNumber:
      case CellKind::kBool:
        // A number literal or true/false has no comma, quote, CR or LF (Cell's contract): no
        // scan. Only an empty one would need quotes.
        if (!cell.text.empty()) {
          out.append(cell.text);
          break;
        }
        AppendCsvField(cell.text, out);
        break;
      case CellKind::kText:
        // One byte test for nearly every cell; numbers typed as numbers never get here.
        if (StartsLikeFormula(cell.text)) {
          formulas_in_file_ = true;
          if (escape_formulas_) {
            AppendEscapedCsvField(cell.text, out);
            break;
          }
        }
        AppendCsvField(cell.text, out);
        break;
      case CellKind::kJson:  // an object or array: starts with '{' or '['
        AppendCsvField(cell.text, out);
        break;
    }
  }
  out.append("\r\n");
}

void CsvWriter::EndFile(std::string& /*out*/) {}

}  // namespace exportd
