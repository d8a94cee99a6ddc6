#include "core/formats/json_writer.h"

#include "core/text.h"

namespace exportd {
namespace {

void AppendJsonString(std::string_view text, std::string& out) {
  out.push_back('"');
  AppendJsonEscaped(text, out);
  out.push_back('"');
}

}  // namespace

bool IsValidJsonNumber(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  if (i < n && text[i] == '-') ++i;
  if (i >= n) return false;
  if (text[i] == '0') {
    ++i;
  } else if (text[i] >= '1' && text[i] <= '9') {
    while (i < n && IsAsciiDigit(text[i])) ++i;
  } else {
    return false;
  }
  if (i < n && text[i] == '.') {
    ++i;
    if (i >= n || !IsAsciiDigit(text[i])) return false;
    while (i < n && IsAsciiDigit(text[i])) ++i;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    if (i >= n || !IsAsciiDigit(text[i])) return false;
    while (i < n && IsAsciiDigit(text[i])) ++i;
  }
  return i == n;
}

void AppendJsonValue(const Cell& cell, std::string& out) {
  switch (cell.kind) {
    case CellKind::kNull:
      out.append("null");
      return;
    case CellKind::kNumber:
      if (IsValidJsonNumber(cell.text)) {
        out.append(cell.text);
      } else {
        AppendJsonString(cell.text, out);
      }
      return;
    case CellKind::kBool:
      if (cell.text == "true" || cell.text == "false") {
        out.append(cell.text);
      } else {
        AppendJsonString(cell.text, out);
      }
      return;
    case CellKind::kJson:
      out.append(cell.text);
      return;
    case CellKind::kText:
      AppendJsonString(cell.text, out);
      return;
  }
}

void JsonObjectFormatter::SetColumns(std::span<const std::string> columns) {
  key_prefixes_.clear();
  key_prefixes_.reserve(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    std::string prefix = i == 0 ? "\"" : ",\"";
    AppendJsonEscaped(columns[i], prefix);
    prefix.append("\":");
    key_prefixes_.push_back(std::move(prefix));
  }
}

void JsonObjectFormatter::AppendObject(std::span<const Cell> row, std::string& out) const {
  out.push_back('{');
  for (size_t i = 0; i < row.size(); ++i) {
    out.append(key_prefixes_[i]);
    AppendJsonValue(row[i], out);
  }
  out.push_back('}');
}

void JsonWriter::BeginFile(std::span<const std::string> columns, std::string& out) {
  formatter_.SetColumns(columns);
  has_rows_ = false;
  out.push_back('[');
}

void JsonWriter::WriteRow(std::span<const Cell> row, std::string& out) {
  BeginRow(out);
  WriteRowBody(row, out);
}

void JsonWriter::EndFile(std::string& out) { out.append(has_rows_ ? "\n]\n" : "]\n"); }

void NdjsonWriter::BeginFile(std::span<const std::string> columns, std::string& /*out*/) {
  formatter_.SetColumns(columns);
}

void NdjsonWriter::WriteRow(std::span<const Cell> row, std::string& out) {
  formatter_.AppendObject(row, out);
  out.push_back('\n');
}

void NdjsonWriter::EndFile(std::string& /*out*/) {}

}  // namespace exportd
