// Copying the short values of a row through a pointer, for writers that make room for a row once
// (std::string::resize to a bound, then trimmed) instead of appending cell by cell: append's
// capacity check and memcpy call per cell cost about as much as the rest of formatting a number.
#ifndef EXPORTD_CORE_FORMATS_BYTE_COPY_H_
#define EXPORTD_CORE_FORMATS_BYTE_COPY_H_

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "core/source.h"

namespace exportd {

// Copies n bytes, sizeof(Word) <= n <= 2 * sizeof(Word), as a first and a last word that may
// overlap: two loads and two stores, reading only [src, src + n).
template <typename Word>
inline void CopyTwoWords(char* p, const char* src, size_t n) {
  Word head;
  Word tail;
  std::memcpy(&head, src, sizeof(Word));
  std::memcpy(&tail, src + n - sizeof(Word), sizeof(Word));
  std::memcpy(p, &head, sizeof(Word));
  std::memcpy(p + n - sizeof(Word), &tail, sizeof(Word));
}

// Copies `s` to `p` and returns the end. Numbers and most text are a few bytes: copied without a
// call to memcpy. REQUIRES: room for s.size() bytes at p.
inline char* CopyBytes(char* p, std::string_view s) {
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

// Room for any row a delimited writer makes of `row`: every value escaped or quoted at worst
// (twice its bytes) plus `per_cell` bytes of separator, quotes and escape prefix per cell, plus
// 2 for the line end. One branch-free pass: rows of thousands of mostly NULL cells are common.
inline size_t RowRoom(std::span<const Cell> row, size_t per_cell) {
  size_t text = 0;
  for (const Cell& cell : row) text += cell.text.size();
  return 2 * text + per_cell * row.size() + 2;
}

// RowRoom for a row whose cells are NULL but for `cells` (FormatWriter::WriteSparseRowBody):
// only the listed cells are looked at; `per_cell` bytes for each of them, one separator for
// every cell.
inline size_t SparseRowRoom(std::span<const Cell> row, std::span<const uint32_t> cells,
                            size_t per_cell) {
  size_t text = 0;
  for (uint32_t i : cells) text += row[i].text.size();
  return 2 * text + per_cell * cells.size() + row.size() + 2;
}

// Writes the cells of a delimited row whose cells are NULL but for `cells` (ascending, unique):
// `copy_cell(p, cell)` for the listed ones, and between them the separators alone, in bulk (a
// NULL is written as nothing). Returns the end; the line end is the caller's.
// REQUIRES: SparseRowRoom's bytes of room at p.
template <typename CopyCell>
char* WriteSparseCells(char* p, std::span<const Cell> row, std::span<const uint32_t> cells,
                       char separator, CopyCell copy_cell) {
  size_t written = 0;  // cells [0, written) are out
  // The separators in front of the cells [written, upto); the first cell has none.
  const auto separators = [&](size_t upto) {
    const size_t n = upto - written - (written == 0 && upto > 0 ? 1 : 0);
    std::memset(p, separator, n);
    p += n;
  };
  for (const uint32_t i : cells) {
    separators(i + size_t{1});
    p = copy_cell(p, row[i]);
    written = i + size_t{1};
  }
  separators(row.size());
  return p;
}

// Appends to `out` through a pointer: makes `room` bytes, lets `write` fill them from the pointer
// it is given and return the end of what it wrote (at most `room` bytes on), then trims.
template <typename Write>
void AppendThrough(std::string& out, size_t room, Write write) {
  const size_t start = out.size();
  out.resize(start + room);
  char* const begin = out.data() + start;
  char* const end = write(begin);
  out.resize(start + static_cast<size_t>(end - begin));
}

}  // namespace exportd

#endif  // EXPORTD_CORE_FORMATS_BYTE_COPY_H_
