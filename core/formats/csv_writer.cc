#include "core/formats/csv_writer.h"

#include <cstdint>
#include <cstring>

#include "core/formats/formula_cells.h"

namespace exportd {
namespace {

// Copies n bytes, sizeof(Word) <= n <= 2 * sizeof(Word), as a first and a last word that may
// overlap: two loads and two stores, reading only [src, src + n).
template <typename Word>
void CopyTwoWords(char* p, const char* src, size_t n) {
  Word head;
  Word tail;
  std::memcpy(&head, src, sizeof(Word));
  std::memcpy(&tail, src + n - sizeof(Word), sizeof(Word));
  std::memcpy(p, &head, sizeof(Word));
  std::memcpy(p + n - sizeof(Word), &tail, sizeof(Word));
}

// Copies `s` to `p` and returns the end. Numbers and most text are a few bytes: copied without a
// call to memcpy.
char* Copy(char* p, std::string_view s) {
  const char* src = s.data();
  const size_t n = s.size();
  if (n >= 8 && n <= 16) {
    CopyTwoWords<uint64_t>(p, src, n);
  } else if (n >= 4 && n < 8) {
    CopyTwoWords<uint32_t>(p, src, n);
  } else if (n > 0 && n < 4) {
    p[0] = src[0];
    p[n / 2] = src[n / 2];
    p[n - 1] = src[n - 1];
  } else if (n > 16) {
    std::memcpy(p, src, n);
  }
  return p + n;
}

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
  for (size_t quote = value.find('"'); quote != std::string_view::npos;
       quote = value.find('"')) {
    p = Copy(p, value.substr(0, quote + 1));  // the quote itself, then again
    *p++ = '"';
    value.remove_prefix(quote + 1);
  }
  p = Copy(p, value);
  *p++ = '"';
  return p;
}

char* CopyField(char* p, std::string_view value) {
  return NeedsQuotes(value) ? CopyQuoted(p, 0, value) : Copy(p, value);
}

char* CopyEscapedField(char* p, std::string_view value) {
  if (NeedsQuotes(value)) return CopyQuoted(p, kFormulaEscape, value);
  *p++ = kFormulaEscape;
  return Copy(p, value);
}

// The most bytes WriteRow may write for `row`.
size_t RowBound(std::span<const Cell> row) {
  size_t bound = 2;  // CRLF
  for (const Cell& cell : row) {
    const bool bare = cell.kind == CellKind::kNull || cell.kind == CellKind::kNumber ||
                      cell.kind == CellKind::kBool;
    // A comma, then the text; quoted text: quotes around, each quote doubled, the escape.
    bound += bare ? cell.text.size() + 3 : 2 * cell.text.size() + 4;
  }
  return bound;
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

// The row is written through a pointer into room made once (resize, then trimmed), not by
// appending cell by cell: append's capacity check and memcpy call per cell cost about as much as
// the rest of a dense row's formatting.
void CsvWriter::WriteRow(std::span<const Cell> row, std::string& out) {
  const size_t start = out.size();
  out.resize(start + RowBound(row));
  char* const begin = out.data() + start;
  char* p = begin;
  for (size_t i = 0; i < row.size(); ++i) {
    if (i != 0) *p++ = ',';
    const Cell& cell = row[i];
    switch (cell.kind) {
      case CellKind::kNull:
        break;
      case CellKind::kNumber:
      case CellKind::kBool:
        // A number literal or true/false has no comma, quote, CR or LF (Cell's contract): no
        // scan. Only an empty one would need quotes.
        p = cell.text.empty() ? CopyQuoted(p, 0, cell.text) : Copy(p, cell.text);
        break;
      case CellKind::kText:
        // One byte test for nearly every cell; numbers typed as numbers never get here.
        if (StartsLikeFormula(cell.text)) {
          formulas_in_file_ = true;
          if (escape_formulas_) {
            p = CopyEscapedField(p, cell.text);
            break;
          }
        }
        p = CopyField(p, cell.text);
        break;
      case CellKind::kJson:  // an object or array: starts with '{' or '['
        p = CopyField(p, cell.text);
        break;
    }
  }
  *p++ = '\r';
  *p++ = '\n';
  out.resize(start + static_cast<size_t>(p - begin));
}

void CsvWriter::EndFile(std::string& /*out*/) {}

}  // namespace exportd
