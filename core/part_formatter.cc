#include "core/part_formatter.h"

#include <cstdio>
#include <utility>

namespace exportd {

std::string PartName(int file_number, const ExportRequest& request) {
  char number[16];
  std::snprintf(number, sizeof number, "%05d", file_number);
  std::string name = "part-";
  name.append(number);
  name.push_back('.');
  name.append(FormatExtension(request.format));
  if (request.compression == Compression::kGzip) name.append(".gz");
  return name;
}

ObjectOptions PartObjectOptions(const ExportRequest& request) {
  ObjectOptions options;
  options.gzip = request.compression == Compression::kGzip;
  // A gzip file is served as what it is; its name (.csv.gz) still tells what is inside.
  options.content_type = options.gzip ? std::string("application/gzip")
                                      : std::string(FormatContentType(request.format));
  return options;
}

PartFormatter::PartFormatter(const ExportRequest& request, std::vector<std::string> columns,
                             PartSink& sink, size_t flush_threshold, int first_file_number)
    : request_(request),
      columns_(std::move(columns)),
      sink_(sink),
      flush_threshold_(flush_threshold),
      format_(MakeFormatWriter(request.format, request.escape_formulas)),
      next_file_number_(first_file_number) {
  buffer_.reserve(flush_threshold + (size_t{1} << 20));
}

Status PartFormatter::Append(std::span<const Cell> row) {
  if (row.size() != columns_.size()) {
    return Internal("source returned " + std::to_string(row.size()) + " cells for " +
                    std::to_string(columns_.size()) + " fields");
  }
  if (!in_part_) RETURN_IF_ERROR(BeginPart());
  format_->WriteRow(row, buffer_);
  return RowAppended();
}

Status PartFormatter::AppendFormatted(std::string_view body, bool has_formula) {
  if (!in_part_) RETURN_IF_ERROR(BeginPart());
  format_->BeginRow(buffer_);
  buffer_.append(body);
  formatted_formulas_in_part_ = formatted_formulas_in_part_ || has_formula;
  return RowAppended();
}

Status PartFormatter::RowAppended() {
  ++rows_in_part_;
  ++rows_;
  RETURN_IF_ERROR(FlushIfFull());
  if (rows_in_part_ == request_.max_rows_per_file) RETURN_IF_ERROR(EndPart());
  return Status::Ok();
}

std::optional<bool> PartFormatter::part_contains_formulas() const {
  const std::optional<bool> formulas = format_->file_contains_formulas();
  if (formulas && formatted_formulas_in_part_) return true;
  return formulas;
}

Status PartFormatter::Finish() {
  if (!in_part_ && next_file_number_ == 1) RETURN_IF_ERROR(BeginPart());
  if (in_part_) RETURN_IF_ERROR(EndPart());
  return Status::Ok();
}

Status PartFormatter::BeginPart() {
  const int number = next_file_number_++;
  RETURN_IF_ERROR(sink_.BeginPart(number, PartName(number, request_)));
  in_part_ = true;
  rows_in_part_ = 0;
  formatted_formulas_in_part_ = false;
  format_->BeginFile(columns_, buffer_);
  return FlushIfFull();
}

Status PartFormatter::EndPart() {
  format_->EndFile(buffer_);
  RETURN_IF_ERROR(Flush());
  in_part_ = false;
  return sink_.EndPart(rows_in_part_);
}

Status PartFormatter::FlushIfFull() {
  return buffer_.size() >= flush_threshold_ ? Flush() : Status::Ok();
}

Status PartFormatter::Flush() {
  if (buffer_.empty()) return Status::Ok();
  Status status = sink_.Write(buffer_);
  buffer_.clear();
  return status;
}

}  // namespace exportd
