#include "core/formats/csv_writer.h"

#include "core/formats/byte_copy.h"
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

// AppendQuoted into room for 2 * value.size() + 3 bytes at `p`; returns the end.
char* CopyQuoted(char* p, char prefix, std::string_view value) {
  *p++ = '"';
  if (prefix != 0) *p++ = prefix;
  for (size_t quote = value.find('"'); quote != std::string_view::npos; quote = value.find('"')) {
    p = CopyBytes(p, value.substr(0, quote + 1));  // the quote itself, then again
    *p++ = '"';
    value.remove_prefix(quote + 1);
  }
  p = CopyBytes(p, value);
  *p++ = '"';
  return p;
}

char* CopyField(char* p, std::string_view value) {
  return NeedsQuotes(value) ? CopyQuoted(p, 0, value) : CopyBytes(p, value);
}

char* CopyEscapedField(char* p, std::string_view value) {
  if (NeedsQuotes(value)) return CopyQuoted(p, kFormulaEscape, value);
  *p++ = kFormulaEscape;
  return CopyBytes(p, value);
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

// Inlined into both row loops: as a call per cell it made WriteRow 15-70% slower.
[[gnu::always_inline]] inline char* CsvWriter::CopyCell(char* p, const Cell& cell) {
  switch (cell.kind) {
    case CellKind::kNull:
      return p;
    case CellKind::kNumber:
    case CellKind::kBool:
      // A number literal or true/false has no comma, quote, CR or LF (Cell's contract): no scan.
      // Only an empty one would need quotes.
      return cell.text.empty() ? CopyQuoted(p, 0, cell.text) : CopyBytes(p, cell.text);
    case CellKind::kText:
      // One byte test for nearly every cell; numbers typed as numbers never get here.
      if (StartsLikeFormula(cell.text)) {
        formulas_in_file_ = true;
        if (escape_formulas_) return CopyEscapedField(p, cell.text);
      }
      return CopyField(p, cell.text);
    case CellKind::kJson:  // an object or array: starts with '{' or '['
      return CopyField(p, cell.text);
  }
  return p;
}

// The row is written through a pointer into room made once (byte_copy.h).
void CsvWriter::WriteRow(std::span<const Cell> row, std::string& out) {
  // Room per cell: comma, two quotes, the escape.
  AppendThrough(out, RowRoom(row, 4), [&](char* p) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i != 0) *p++ = ',';
      p = CopyCell(p, row[i]);
    }
    *p++ = '\r';
    *p++ = '\n';
    return p;
  });
}

void CsvWriter::WriteSparseRowBody(std::span<const Cell> row, std::span<const uint32_t> cells,
                                   std::string& out) {
  AppendThrough(out, SparseRowRoom(row, cells, 4), [&](char* p) {
    p = WriteSparseCells(p, row, cells, ',',
                         [this](char* at, const Cell& cell) { return CopyCell(at, cell); });
    *p++ = '\r';
    *p++ = '\n';
    return p;
  });
}

void CsvWriter::EndFile(std::string& /*out*/) {}

}  // namespace exportd
