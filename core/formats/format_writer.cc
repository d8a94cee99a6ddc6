#include "core/formats/format_writer.h"

#include <cstdint>

#include "core/formats/csv_writer.h"
#include "core/formats/json_writer.h"
#include "core/formats/tsv_writer.h"
#include "core/text.h"

namespace exportd {

std::unique_ptr<FormatWriter> MakeFormatWriter(Format format, bool escape_formulas) {
  switch (format) {
    case Format::kCsv:
      return std::make_unique<CsvWriter>(escape_formulas);
    case Format::kTsv:
      return std::make_unique<TsvWriter>(escape_formulas);
    case Format::kJson:
      return std::make_unique<JsonWriter>();
    case Format::kNdjson:
      return std::make_unique<NdjsonWriter>();
  }
  return std::make_unique<CsvWriter>(escape_formulas);
}

// Bytes that RFC 8259 lets through unescaped are copied in runs. Invalid UTF-8 becomes U+FFFD
// so that the output is always a valid JSON text, whatever a source stored.
void AppendJsonEscaped(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t run_start = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(s, i);
      if (len != 0) {
        i += len;
        continue;
      }
    }
    out.append(s.data() + run_start, i - run_start);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20) {
          const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          out.append(esc, sizeof esc);
        } else {
          out.append("\xEF\xBF\xBD");  // U+FFFD for a byte that starts no valid sequence
        }
        break;
    }
    ++i;
    run_start = i;
  }
  out.append(s.data() + run_start, s.size() - run_start);
}

}  // namespace exportd
