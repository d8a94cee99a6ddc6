// CsvWriter and TsvWriter: bytes -> a small table of cells -> each writer -> read back with a
// strict reader -> exactly the cells written.
//   input: [columns-1 (mod 6)] [rows (mod 8)] then, for the header and each cell, a tag byte
//          (kind = tag % 5: null, text, number, bool, json; length = tag / 5 % 24) and that
//          many bytes (fewer at the end of the input; missing cells are NULL).
//   CSV: RFC 4180 as format_writer.h documents it: CRLF after every record, a field quoted
//        (quotes doubled) or else free of comma, quote, CR and LF; NULL is the empty unquoted
//        field and the empty string "". Read back, NULL and "" stay apart.
//   TSV: LF after every record, tab between fields, \t \n \r \\ the only escapes; NULL and the
//        empty string are both the empty field.
//   Both: the rows given as sparse rows (WriteSparseRowBody) make the same bytes.
// Number and bool cells hold what Cell's contract allows (a number literal, true/false).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/formats/csv_writer.h"
#include "core/formats/tsv_writer.h"
#include "core/source.h"

namespace exportd {
namespace {

[[noreturn]] void Fail(const char* property, const std::string& output) {
  std::fprintf(stderr, "\n*** property violated: %s\noutput (%zu bytes): ", property,
               output.size());
  for (unsigned char c : output) {
    if (c >= 0x20 && c < 0x7f) {
      std::fputc(c, stderr);
    } else {
      std::fprintf(stderr, "\\x%02x", c);
    }
  }
  std::fputc('\n', stderr);
  std::abort();
}

using Value = std::optional<std::string>;       // nullopt: NULL
using Table = std::vector<std::vector<Value>>;  // the header row first

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::string Bytes(size_t n) {
    n = std::min(n, size_ - pos_);
    std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }
  bool empty() const { return pos_ >= size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// One cell from the input; `storage` keeps its text alive (Cell holds a view).
Cell NextCell(Input& in, std::string& storage) {
  if (in.empty()) return Cell{};
  const uint8_t tag = in.Byte();
  storage = in.Bytes(tag / 5 % 24);
  switch (tag % 5) {
    case 0:
      return Cell{};
    case 1:
      return Cell{CellKind::kText, storage};
    case 2: {
      static constexpr char kNumberChars[] = "0123456789.-+eE";
      for (char& c : storage) c = kNumberChars[static_cast<unsigned char>(c) % 15];
      return Cell{CellKind::kNumber, storage};
    }
    case 3:
      storage = storage.size() % 2 == 0 ? "true" : "false";
      return Cell{CellKind::kBool, storage};
    default:
      return Cell{CellKind::kJson, storage};
  }
}

// Strict RFC 4180 with CRLF record ends; every record ends with CRLF.
std::optional<Table> ReadCsv(std::string_view s) {
  Table table;
  std::vector<Value> record;
  size_t i = 0;
  while (i < s.size()) {
    Value field;
    if (s[i] == '"') {
      std::string text;
      ++i;
      for (;;) {
        if (i >= s.size()) return std::nullopt;  // unterminated
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            text.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        text.push_back(s[i++]);
      }
      field = std::move(text);
    } else {
      const size_t start = i;
      while (i < s.size() && s[i] != ',' && s[i] != '\r' && s[i] != '\n' && s[i] != '"') ++i;
      if (i > start) field = std::string(s.substr(start, i - start));
    }
    record.push_back(std::move(field));
    if (i < s.size() && s[i] == ',') {
      ++i;
      if (i == s.size()) return std::nullopt;  // a record must end with CRLF
      continue;
    }
    if (s.substr(i, 2) != "\r\n") return std::nullopt;  // a bare CR, LF or quote
    i += 2;
    table.push_back(std::move(record));
    record.clear();
  }
  return table;
}

// LF after every record, tab-separated, \t \n \r \\ the only escapes. Empty fields are "".
std::optional<Table> ReadTsv(std::string_view s) {
  Table table;
  std::vector<Value> record;
  std::string field;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\') {
      if (++i == s.size()) return std::nullopt;
      switch (s[i]) {
        case 't':
          field.push_back('\t');
          break;
        case 'n':
          field.push_back('\n');
          break;
        case 'r':
          field.push_back('\r');
          break;
        case '\\':
          field.push_back('\\');
          break;
        default:
          return std::nullopt;
      }
    } else if (c == '\t' || c == '\n') {
      record.push_back(std::move(field));
      field.clear();
      if (c == '\n') {
        table.push_back(std::move(record));
        record.clear();
      }
    } else if (c == '\r') {
      return std::nullopt;  // always escaped
    } else {
      field.push_back(c);
    }
  }
  if (!field.empty() || !record.empty()) return std::nullopt;  // no final LF
  return table;
}

std::string Written(FormatWriter& writer, std::span<const std::string> header,
                    const std::vector<std::vector<Cell>>& rows) {
  std::string out;
  writer.BeginFile(header, out);
  for (const auto& row : rows) writer.WriteRow(row, out);
  writer.EndFile(out);
  return out;
}

// Written, with each row given as a sparse row: its non-NULL cells listed
// (FormatWriter::WriteSparseRowBody), plus every third NULL one (a listed cell may be NULL).
std::string WrittenSparse(FormatWriter& writer, std::span<const std::string> header,
                          const std::vector<std::vector<Cell>>& rows) {
  std::string out;
  writer.BeginFile(header, out);
  for (const auto& row : rows) {
    std::vector<uint32_t> listed;
    for (size_t i = 0; i < row.size(); ++i) {
      if (row[i].kind != CellKind::kNull || i % 3 == 2) listed.push_back(static_cast<uint32_t>(i));
    }
    writer.WriteSparseRowBody(row, listed, out);
  }
  writer.EndFile(out);
  return out;
}

}  // namespace
}  // namespace exportd

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exportd;
  Input in(data, size);
  const size_t columns = 1 + in.Byte() % 6;
  const size_t rows = in.Byte() % 8;

  // Header names are text (a NULL cell makes an empty name).
  std::vector<std::string> header(columns);
  Table expected_csv(1);
  for (std::string& name : header) {
    std::string storage;
    const Cell cell = NextCell(in, storage);
    name = std::string(cell.text);
    expected_csv[0].emplace_back(name);
  }
  std::vector<std::string> storage(columns * rows);
  std::vector<std::vector<Cell>> cells(rows, std::vector<Cell>(columns));
  for (size_t r = 0; r < rows; ++r) {
    expected_csv.emplace_back();
    for (size_t c = 0; c < columns; ++c) {
      cells[r][c] = NextCell(in, storage[r * columns + c]);
      const Cell& cell = cells[r][c];
      expected_csv.back().push_back(cell.kind == CellKind::kNull ? Value()
                                                                 : Value(std::string(cell.text)));
    }
  }
  Table expected_tsv = expected_csv;
  for (auto& row : expected_tsv) {
    for (Value& v : row) {
      if (!v) v = std::string();
    }
  }

  CsvWriter csv;
  const std::string csv_out = Written(csv, header, cells);
  const std::optional<Table> csv_read = ReadCsv(csv_out);
  if (!csv_read) Fail("CSV output is strict RFC 4180", csv_out);
  if (*csv_read != expected_csv) Fail("CSV reads back as the cells written", csv_out);
  CsvWriter csv_sparse;
  if (WrittenSparse(csv_sparse, header, cells) != csv_out) {
    Fail("CSV of sparse rows is the CSV of the whole rows", csv_out);
  }

  TsvWriter tsv;
  const std::string tsv_out = Written(tsv, header, cells);
  const std::optional<Table> tsv_read = ReadTsv(tsv_out);
  if (!tsv_read) Fail("TSV output uses only the documented escapes", tsv_out);
  if (*tsv_read != expected_tsv) Fail("TSV reads back as the cells written", tsv_out);
  TsvWriter tsv_sparse;
  if (WrittenSparse(tsv_sparse, header, cells) != tsv_out) {
    Fail("TSV of sparse rows is the TSV of the whole rows", tsv_out);
  }
  return 0;
}
