// Tab-separated values; see format_writer.h for the rules.
#ifndef EXPORTD_CORE_FORMATS_TSV_WRITER_H_
#define EXPORTD_CORE_FORMATS_TSV_WRITER_H_

#include <span>
#include <string>
#include <string_view>

#include "core/formats/format_writer.h"

namespace exportd {

// Appends `value` with tab, LF, CR and backslash written as \t \n \r \\.
void AppendTsvEscaped(std::string_view value, std::string& out);

// Stateless between files; not thread-safe like every FormatWriter.
class TsvWriter final : public FormatWriter {
 public:
  void BeginFile(std::span<const std::string> columns, std::string& out) override;
  void WriteRow(std::span<const Cell> row, std::string& out) override;
  void EndFile(std::string& out) override;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_FORMATS_TSV_WRITER_H_
