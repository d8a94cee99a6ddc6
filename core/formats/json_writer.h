// JSON (one array of objects per file) and NDJSON (one object per line); see format_writer.h.
//
// Keys follow the column order. kNumber and kBool cells are written raw when their text is a
// valid JSON literal and as a string otherwise (a source may report "nan" or "inf" as a number);
// kJson cells are trusted to be valid JSON and written raw; kText is escaped per RFC 8259.
#ifndef EXPORTD_CORE_FORMATS_JSON_WRITER_H_
#define EXPORTD_CORE_FORMATS_JSON_WRITER_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/formats/format_writer.h"

namespace exportd {

// True if `text` matches RFC 8259's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsValidJsonNumber(std::string_view text);

// Appends one cell as a JSON value.
void AppendJsonValue(const Cell& cell, std::string& out);

// Shared by both JSON formats: the object for one row, with the key text prepared once per file.
class JsonObjectFormatter {
 public:
  void SetColumns(std::span<const std::string> columns);
  // REQUIRES: row.size() equals the size of the last SetColumns().
  void AppendObject(std::span<const Cell> row, std::string& out) const;

 private:
  // "\"name\":" for the first column, ",\"name\":" for the others.
  std::vector<std::string> key_prefixes_;
};

// "[\n{...},\n{...}\n]\n"; a file without rows is "[]\n".
class JsonWriter final : public FormatWriter {
 public:
  void BeginFile(std::span<const std::string> columns, std::string& out) override;
  void WriteRow(std::span<const Cell> row, std::string& out) override;
  void EndFile(std::string& out) override;
  void BeginRow(std::string& out) override {
    out.append(has_rows_ ? ",\n" : "\n");
    has_rows_ = true;
  }
  void WriteRowBody(std::span<const Cell> row, std::string& out) override {
    formatter_.AppendObject(row, out);
  }

 private:
  JsonObjectFormatter formatter_;
  bool has_rows_ = false;
};

// "{...}\n" per row; a file without rows is empty.
class NdjsonWriter final : public FormatWriter {
 public:
  void BeginFile(std::span<const std::string> columns, std::string& out) override;
  void WriteRow(std::span<const Cell> row, std::string& out) override;
  void EndFile(std::string& out) override;

 private:
  JsonObjectFormatter formatter_;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_FORMATS_JSON_WRITER_H_
