#include "core/formats/tsv_writer.h"

#include <array>

#include "core/formats/byte_copy.h"
#include "core/formats/formula_cells.h"

namespace exportd {
namespace {

// The letter after the backslash for the bytes TSV escapes (tab, LF, CR, backslash); 0 for the
// others.
constexpr auto kTsvEscape = [] {
  std::array<char, 256> letter{};
  letter['\t'] = 't';
  letter['\n'] = 'n';
  letter['\r'] = 'r';
  letter['\\'] = '\\';
  return letter;
}();

// AppendTsvEscaped into room for 2 * value.size() bytes at `p`; returns the end.
char* CopyTsvEscaped(char* p, std::string_view value) {
  for (const char c : value) {
    const char letter = kTsvEscape[static_cast<unsigned char>(c)];
    if (letter == 0) {
      *p++ = c;
    } else {
      *p++ = '\\';
      *p++ = letter;
    }
  }
  return p;
}

}  // namespace

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

// The row is written through a pointer into room made once (byte_copy.h).
// Inlined into both row loops, as the loop of WriteRow was before they shared it.
[[gnu::always_inline]] inline char* TsvWriter::CopyCell(char* p, const Cell& cell) {
  switch (cell.kind) {
    case CellKind::kNull:
      break;
    case CellKind::kNumber:
    case CellKind::kBool:
      // A number literal or true/false has no tab, LF, CR or backslash (Cell's contract).
      p = CopyBytes(p, cell.text);
      break;
    case CellKind::kText:
      if (StartsLikeFormula(cell.text)) {
        formulas_in_file_ = true;
        if (escape_formulas_) *p++ = kFormulaEscape;
      }
      p = CopyTsvEscaped(p, cell.text);
      break;
    case CellKind::kJson:
      p = CopyTsvEscaped(p, cell.text);
      break;
  }
  return p;
}

void TsvWriter::WriteRow(std::span<const Cell> row, std::string& out) {
  // Room per cell: tab, the escape.
  AppendThrough(out, RowRoom(row, 2), [&](char* p) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i != 0) *p++ = '\t';
      p = CopyCell(p, row[i]);
    }
    *p++ = '\n';
    return p;
  });
}

void TsvWriter::WriteSparseRowBody(std::span<const Cell> row, std::span<const uint32_t> cells,
                                   std::string& out) {
  AppendThrough(out, SparseRowRoom(row, cells, 2), [&](char* p) {
    p = WriteSparseCells(p, row, cells, '\t',
                         [this](char* at, const Cell& cell) { return CopyCell(at, cell); });
    *p++ = '\n';
    return p;
  });
}

void TsvWriter::EndFile(std::string& /*out*/) {}

}  // namespace exportd
