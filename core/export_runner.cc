#include "core/export_runner.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/canonical_json.h"
#include "core/formats/format_writer.h"
#include "core/time_format.h"

namespace exportd {
namespace {

// The buffer is handed to the ObjectWriter once it passes this size, so storage sees large
// blocks and memory stays bounded whatever the file size.
constexpr size_t kFlushThreshold = size_t{4} << 20;
constexpr int64_t kProgressEveryRows = 256;
constexpr std::string_view kManifestName = "manifest.json";
constexpr std::string_view kManifestContentType = "application/json";

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

void AppendJsonStringField(std::string_view key, std::string_view value, std::string& out) {
  out.push_back('"');
  AppendJsonEscaped(key, out);
  out.append("\":\"");
  AppendJsonEscaped(value, out);
  out.push_back('"');
}

std::string BuildManifest(const Task& task, TimePoint transaction_time,
                          const std::vector<FileInfo>& files, int64_t total_rows) {
  ExportRequest canonical = task.request;
  Canonicalize(canonical);
  std::string out = "{";
  AppendJsonStringField("task_id", task.id, out);
  out.append(",\"request\":");
  out.append(CanonicalJson(canonical));
  out.push_back(',');
  AppendJsonStringField("query_hash", task.query_hash, out);
  out.push_back(',');
  AppendJsonStringField("transaction_time", FormatRfc3339(transaction_time), out);
  out.append(",\"files\":[");
  for (size_t i = 0; i < files.size(); ++i) {
    const FileInfo& f = files[i];
    out.append(i == 0 ? "\n{" : ",\n{");
    AppendJsonStringField("name", f.name, out);
    out.append(",\"rows\":");
    out.append(std::to_string(f.rows));
    out.append(",\"bytes\":");
    out.append(std::to_string(f.bytes));
    out.push_back(',');
    AppendJsonStringField("sha256", f.sha256, out);
    out.push_back(',');
    AppendJsonStringField("content_type", f.content_type, out);
    out.push_back('}');
  }
  out.append(files.empty() ? "]" : "\n]");
  out.append(",\"rows\":");
  out.append(std::to_string(total_rows));
  out.append("}\n");
  return out;
}

// One attempt's output side: the file being written and the files already committed.
// Owns the reusable buffer; not thread-safe.
class PartSink {
 public:
  PartSink(const Task& task, std::vector<std::string> columns, ObjectStore& store,
           ExportControl& control, std::optional<int64_t> rows_total)
      : task_(task),
        columns_(std::move(columns)),
        store_(store),
        control_(control),
        format_(MakeFormatWriter(task.request.format)),
        rows_total_(rows_total) {
    buffer_.reserve(kFlushThreshold + (size_t{1} << 20));
  }

  Status Append(std::span<const Cell> row) {
    if (row.size() != columns_.size()) {
      return Internal("source returned " + std::to_string(row.size()) + " cells for " +
                      std::to_string(columns_.size()) + " fields");
    }
    if (writer_ == nullptr) RETURN_IF_ERROR(OpenFile());
    format_->WriteRow(row, buffer_);
    ++rows_in_file_;
    ++rows_done_;
    if (buffer_.size() >= kFlushThreshold) RETURN_IF_ERROR(Flush());
    if (rows_in_file_ == task_.request.max_rows_per_file) {
      RETURN_IF_ERROR(CommitFile());
    } else if (rows_done_ % kProgressEveryRows == 0) {
      RETURN_IF_ERROR(ReportProgress());
    }
    return Status::Ok();
  }

  // Commits the file in progress, or an empty one when the export has no rows at all.
  Status Finish() {
    if (writer_ == nullptr && files_.empty()) RETURN_IF_ERROR(OpenFile());
    if (writer_ != nullptr) RETURN_IF_ERROR(CommitFile());
    return Status::Ok();
  }

  std::vector<FileInfo>& files() { return files_; }
  int64_t rows_done() const { return rows_done_; }

 private:
  Status OpenFile() {
    const std::string name = PartName(static_cast<int>(files_.size()) + 1, task_.request);
    ObjectOptions options;
    options.gzip = task_.request.compression == Compression::kGzip;
    // A gzip file is served as what it is; its name (.csv.gz) still tells what is inside.
    options.content_type = options.gzip ? std::string("application/gzip")
                                        : std::string(FormatContentType(task_.request.format));
    ASSIGN_OR_RETURN(writer_, store_.Create(task_.id, name, options));
    current_ = FileInfo{.name = name, .content_type = options.content_type};
    rows_in_file_ = 0;
    file_bytes_ = 0;
    format_->BeginFile(columns_, buffer_);
    return Status::Ok();
  }

  Status Flush() {
    if (buffer_.empty()) return Status::Ok();
    RETURN_IF_ERROR(writer_->Write(buffer_));
    file_bytes_ += static_cast<int64_t>(buffer_.size());
    buffer_.clear();
    return Status::Ok();
  }

  Status CommitFile() {
    format_->EndFile(buffer_);
    RETURN_IF_ERROR(Flush());
    ASSIGN_OR_RETURN(ObjectInfo info, writer_->Commit());
    writer_.reset();
    current_.rows = rows_in_file_;
    current_.bytes = info.bytes;
    current_.sha256 = std::move(info.sha256);
    committed_bytes_ += info.bytes;
    file_bytes_ = 0;
    files_.push_back(std::move(current_));
    return ReportProgress();
  }

  // bytes: stored bytes of the committed files plus the formatted (uncompressed) bytes of the
  // file in progress, the best figure known before that file is committed.
  Status ReportProgress() {
    Progress progress;
    progress.rows = rows_done_;
    progress.rows_total = rows_total_;
    progress.bytes = committed_bytes_ + file_bytes_ + static_cast<int64_t>(buffer_.size());
    return control_.OnProgress(progress);
  }

  const Task& task_;
  const std::vector<std::string> columns_;
  ObjectStore& store_;
  ExportControl& control_;
  std::unique_ptr<FormatWriter> format_;
  const std::optional<int64_t> rows_total_;

  std::string buffer_;
  std::unique_ptr<ObjectWriter> writer_;  // null between files
  FileInfo current_;
  int64_t rows_in_file_ = 0;
  int64_t rows_done_ = 0;
  int64_t file_bytes_ = 0;       // handed to writer_ so far
  int64_t committed_bytes_ = 0;  // stored bytes of files_
  std::vector<FileInfo> files_;
};

}  // namespace

std::vector<std::string> ResolveFields(const ExportRequest& request, const Dataset& dataset) {
  if (!request.fields.empty()) return request.fields;
  std::vector<std::string> fields;
  fields.reserve(dataset.fields().size());
  for (const Field& field : dataset.fields()) fields.push_back(field.name);
  return fields;
}

Result<ExportOutcome> RunExport(const Task& task, const Dataset& dataset, Source& source,
                                ObjectStore& store, ExportControl& control,
                                TimePoint transaction_time) {
  const ExportRequest& request = task.request;
  if (request.max_rows_per_file < 1) {
    return InvalidArgument("max_rows_per_file must be at least 1", "/max_rows_per_file");
  }
  SourceQuery query;
  query.fields = ResolveFields(request, dataset);
  if (query.fields.empty()) return InvalidArgument("no fields to export", "/fields");
  query.filter = request.filter;
  query.since = request.since;
  query.until = request.until;
  query.partitions = request.partitions;

  ASSIGN_OR_RETURN(const int64_t rows_total, source.Count(query));
  RETURN_IF_ERROR(control.OnProgress(Progress{.rows = 0, .rows_total = rows_total, .bytes = 0}));

  ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader, source.Read(query));
  PartSink sink(task, query.fields, store, control, rows_total);
  while (reader->Next()) {
    RETURN_IF_ERROR(sink.Append(reader->row()));
  }
  // A reader error leaves the file in progress uncommitted: its writer discards it.
  RETURN_IF_ERROR(reader->status());
  RETURN_IF_ERROR(sink.Finish());

  ExportOutcome outcome;
  outcome.files = std::move(sink.files());
  const std::string manifest =
      BuildManifest(task, transaction_time, outcome.files, sink.rows_done());
  ObjectOptions options;
  options.content_type = std::string(kManifestContentType);
  ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> writer,
                   store.Create(task.id, kManifestName, options));
  RETURN_IF_ERROR(writer->Write(manifest));
  ASSIGN_OR_RETURN(ObjectInfo info, writer->Commit());
  outcome.manifest = FileInfo{.name = std::string(kManifestName),
                              .rows = 0,
                              .bytes = info.bytes,
                              .sha256 = std::move(info.sha256),
                              .content_type = std::string(kManifestContentType)};
  return outcome;
}

}  // namespace exportd
