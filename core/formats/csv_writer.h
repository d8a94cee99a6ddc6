// CSV per RFC 4180; see format_writer.h for the rules.
#ifndef EXPORTD_CORE_FORMATS_CSV_WRITER_H_
#define EXPORTD_CORE_FORMATS_CSV_WRITER_H_

#include <span>
#include <string>
#include <string_view>

#include "core/formats/format_writer.h"

namespace exportd {

// Appends one field: quoted (quotes doubled) when it contains a comma, quote, CR or LF, or when
// it is empty (so that an empty string differs from NULL, which the caller writes as nothing).
void AppendCsvField(std::string_view value, std::string& out);

// Stateless between files; not thread-safe like every FormatWriter.
class CsvWriter final : public FormatWriter {
 public:
  void BeginFile(std::span<const std::string> columns, std::string& out) override;
  void WriteRow(std::span<const Cell> row, std::string& out) override;
  void EndFile(std::string& out) override;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_FORMATS_CSV_WRITER_H_
