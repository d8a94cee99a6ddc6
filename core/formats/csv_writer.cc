#include "core/formats/csv_writer.h"

namespace exportd {

void AppendCsvField(std::string_view value, std::string& out) {
  bool needs_quotes = value.empty();
  for (char c : value) {
    if (c == ',' || c == '"' || c == '\r' || c == '\n') {
      needs_quotes = true;
      break;
    }
  }
  if (!needs_quotes) {
    out.append(value);
    return;
  }
  out.push_back('"');
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

void CsvWriter::BeginFile(std::span<const std::string> columns, std::string& out) {
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
        [[fallthrough]];
      default:
        AppendCsvField(cell.text, out);
        break;
    }
  }
  out.append("\r\n");
}

void CsvWriter::EndFile(std::string& /*out*/) {}

}  // namespace exportd
