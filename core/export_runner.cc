#include "core/export_runner.h"

#include <algorithm>
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
#include "core/parallel_rows.h"
#include "core/part_formatter.h"
#include "core/partition_name.h"
#include "core/split_series.h"
#include "core/task_metrics_json.h"
#include "core/time_format.h"

namespace exportd {
namespace {

// The buffer is handed to the ObjectWriter once it passes this size, so storage sees large
// blocks and memory stays bounded whatever the file size. 1 MB: larger blocks gained nothing
// measurable, and three concurrent exports must stay under 100 MB of RSS (bench/README.md).
constexpr size_t kFlushThreshold = size_t{1} << 20;
constexpr int64_t kProgressEveryRows = 256;
constexpr std::string_view kManifestContentType = "application/json";

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
    if (f.partition) {
      out.push_back(',');
      AppendJsonStringField("partition", *f.partition, out);
    }
    if (f.contains_formulas) {
      out.append(",\"contains_formulas\":");
      out.append(*f.contains_formulas ? "true" : "false");
    }
    out.push_back('}');
  }
  out.append(files.empty() ? "]" : "\n]");
  out.append(",\"rows\":");
  out.append(std::to_string(total_rows));
  if (IsSpreadsheetFormat(task.request.format)) {
    const std::optional<bool> formulas = AnyContainsFormulas(files);
    out.append(",\"csv_contains_formulas\":");
    out.append(!formulas ? "null" : *formulas ? "true" : "false");
  }
  // Present only when the task has them, so the manifest of every other export is unchanged.
  if (task.window) {
    out.append(",\"window\":");
    out.append(TaskWindowJson(*task.window));
  }
  if (task.metrics) {
    out.append(",\"metrics\":");
    out.append(TaskMetricsJson(*task.metrics));
  }
  out.append("}\n");
  return out;
}

// One attempt's output side: stores the parts a PartFormatter produces, commits each one and
// reports progress. Not thread-safe.
class StoreSink final : public PartSink {
 public:
  // Continues after `task.checkpoint` when it is set.
  StoreSink(const Task& task, ObjectStore& store, ExportControl& control,
            std::optional<int64_t> rows_total, TimePoint transaction_time)
      : task_(task),
        store_(store),
        control_(control),
        rows_total_(rows_total),
        transaction_time_(transaction_time) {
    if (task.checkpoint) {
      files_ = task.files;
      last_key_ = task.checkpoint->after_key;
      rows_before_ = task.checkpoint->rows;
      committed_bytes_ = task.checkpoint->bytes;
    }
  }

  // The key of the row about to be appended: the checkpoint after a file names its last row.
  // Copied, not moved: GCC 12 at -O3 takes a moved-from variant for uninitialized here.
  void SetRowKey(const FilterValue& key) { last_key_ = key; }
  // Rows of the whole export so far, earlier attempts included.
  int64_t rows() const { return rows_before_ + (formatter_ != nullptr ? formatter_->rows() : 0); }

  // REQUIRES: called before the rows of each formatter that feeds this sink (one, or one per
  // series), between parts; Detach() (or the next Attach) before `formatter` is destroyed. The
  // rows of the formatters before count on.
  void Attach(const PartFormatter& formatter) {
    Detach();
    formatter_ = &formatter;
  }
  // Counts the rows of the attached formatter on, and lets it go (before it is destroyed).
  void Detach() {
    if (formatter_ != nullptr) rows_before_ += formatter_->rows();
    formatter_ = nullptr;
  }
  // With split_by partition: the parts that follow are `partition`'s series, named
  // "<partition directory>/part-NNNNN.ext" and checkpointed with their series.
  void SetSeries(SeriesPartition partition) { series_ = SeriesCheckpoint{std::move(partition)}; }

  Status BeginPart(int file_number, const std::string& name) override {
    const ObjectOptions options = PartObjectOptions(task_.request);
    const std::string object = series_ ? SeriesPartName(series_->partition, name) : name;
    ASSIGN_OR_RETURN(writer_, store_.Create(task_.id, object, options));
    current_ = FileInfo{.name = object, .content_type = options.content_type};
    if (series_) {
      current_.partition = series_->partition;
      series_->next_file = file_number + 1;
    }
    file_bytes_ = 0;
    return Status::Ok();
  }

  Status Write(std::string_view bytes) override {
    RETURN_IF_ERROR(writer_->Write(bytes));
    file_bytes_ += static_cast<int64_t>(bytes.size());
    return Status::Ok();
  }

  Status EndPart(int64_t rows) override {
    // On refusal the writer is destroyed uncommitted with the sink: nothing is published.
    RETURN_IF_ERROR(control_.BeforeCommit());
    ASSIGN_OR_RETURN(ObjectInfo info, writer_->Commit());
    writer_.reset();
    current_.rows = rows;
    current_.bytes = info.bytes;
    current_.sha256 = std::move(info.sha256);
    // Recorded with the file, in its checkpoint: a resumed export still knows about the
    // formulas of the parts written before.
    current_.contains_formulas = formatter_->part_contains_formulas();
    committed_bytes_ += info.bytes;
    file_bytes_ = 0;
    files_.push_back(std::move(current_));
    Checkpoint next;
    next.after_key = last_key_;
    next.next_file = static_cast<int>(files_.size()) + 1;
    next.rows = this->rows();
    next.bytes = committed_bytes_;
    next.rows_total = rows_total_;
    next.transaction_time = transaction_time_;
    next.series = series_;
    RETURN_IF_ERROR(control_.OnFileCommitted(files_.back(), next));
    return ReportProgress();
  }

  // bytes: stored bytes of the committed files plus the formatted (uncompressed) bytes of the
  // file in progress, the best figure known before that file is committed.
  Status ReportProgress() {
    Progress progress;
    progress.rows = rows();
    progress.rows_total = rows_total_;
    progress.bytes =
        committed_bytes_ + file_bytes_ + static_cast<int64_t>(formatter_->buffered_bytes());
    return control_.OnProgress(progress);
  }

  std::vector<FileInfo>& files() { return files_; }

 private:
  const Task& task_;
  ObjectStore& store_;
  ExportControl& control_;
  const std::optional<int64_t> rows_total_;
  const TimePoint transaction_time_;
  const PartFormatter* formatter_ = nullptr;

  std::optional<FilterValue> last_key_;     // of the last row appended (or of the checkpoint)
  int64_t rows_before_ = 0;                 // rows of earlier attempts and of formatters detached
  std::unique_ptr<ObjectWriter> writer_;    // null between files
  std::optional<SeriesCheckpoint> series_;  // split_by partition: the series being written
  FileInfo current_;
  int64_t file_bytes_ = 0;       // handed to writer_ so far
  int64_t committed_bytes_ = 0;  // stored bytes of files_
  std::vector<FileInfo> files_;
};

// Reads `query`'s rows into `formatter`, which feeds `sink`. A reader error leaves the file in
// progress uncommitted: its writer discards it.
Status FormatRows(const SourceQuery& query, Source& source, int threads,
                  const ExportRequest& request, PartFormatter& formatter, StoreSink& sink) {
  std::vector<std::unique_ptr<RecordReader>> readers;
  if (threads > 1) {
    ASSIGN_OR_RETURN(readers, source.ReadShared(query, threads));
  } else {
    ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader, source.Read(query));
    readers.push_back(std::move(reader));
  }
  // A part that just ended has reported progress already.
  const auto report_progress = [&sink, &formatter] {
    return formatter.in_part() && sink.rows() % kProgressEveryRows == 0 ? sink.ReportProgress()
                                                                        : Status::Ok();
  };
  if (readers.size() == 1) {
    RecordReader& reader = *readers.front();
    while (reader.Next()) {
      sink.SetRowKey(reader.key());
      RETURN_IF_ERROR(formatter.Append(reader.row()));
      RETURN_IF_ERROR(report_progress());
    }
    RETURN_IF_ERROR(reader.status());
  } else {
    const ParallelRowsOptions options{.format = request.format,
                                      .escape_formulas = request.escape_formulas,
                                      .rows_per_batch = RowsPerBatch(query.fields.size())};
    ParallelRows rows(std::move(readers), query.fields, options);
    while (rows.Next()) {
      sink.SetRowKey(rows.key());
      RETURN_IF_ERROR(formatter.AppendFormatted(rows.body(), rows.has_formula()));
      RETURN_IF_ERROR(report_progress());
    }
    RETURN_IF_ERROR(rows.status());
  }
  return Status::Ok();
}

// The rows of an export split by partition: one PartFormatter per series, in SplitSeries' order,
// each numbering its files from 1; a resumed export continues `checkpoint`'s series after its
// after_key and file.
Status WriteSeries(const SourceQuery& query, const Checkpoint* checkpoint, Source& source,
                   int threads, const ExportRequest& request, StoreSink& sink) {
  ASSIGN_OR_RETURN(const std::vector<SeriesPartition> series, SplitSeries(query, source));
  size_t first = 0;
  if (checkpoint != nullptr) {
    if (!checkpoint->series) {
      return FailedPrecondition("the checkpoint of an export split by partition names no series");
    }
    first = ResumeSeriesIndex(series, *checkpoint->series);
  }
  for (size_t i = first; i < series.size(); ++i) {
    SourceQuery rows = SeriesQuery(query, series[i]);
    rows.after_key.reset();
    int first_file = 1;
    if (checkpoint != nullptr && i == first && series[i] == checkpoint->series->partition) {
      rows.after_key = checkpoint->after_key;
      first_file = checkpoint->series->next_file;
    }
    PartFormatter formatter(request, rows.fields, sink, kFlushThreshold, first_file);
    sink.Attach(formatter);
    sink.SetSeries(series[i]);
    RETURN_IF_ERROR(FormatRows(rows, source, threads, request, formatter, sink));
    // A partition without rows has no file (Finish would write the lone empty part).
    if (formatter.rows() > 0) RETURN_IF_ERROR(formatter.Finish());
    sink.Detach();
  }
  return Status::Ok();
}

}  // namespace

std::vector<std::string> ResolveFields(const ExportRequest& request, const Dataset& dataset) {
  if (!request.fields.empty()) return request.fields;
  std::vector<std::string> fields;
  fields.reserve(dataset.fields().size());
  for (const Field& field : dataset.fields()) fields.push_back(field.name);
  return fields;
}

Result<SourceQuery> ExportQuery(const Task& task, const Dataset& dataset) {
  const ExportRequest& request = task.request;
  if (request.max_rows_per_file < 1) {
    return InvalidArgument("max_rows_per_file must be at least 1", "/max_rows_per_file");
  }
  SourceQuery query;
  query.fields = ResolveFields(request, dataset);
  if (query.fields.empty()) return InvalidArgument("no fields to export", "/fields");
  query.filter = request.filter;
  // The dataset's rules hold whatever the request says: no request can widen them.
  const std::vector<Condition>& rules = dataset.spec().row_filter;
  query.filter.insert(query.filter.end(), rules.begin(), rules.end());
  if (request.incremental) {
    // The window replaces since, until and partitions: it was derived from them.
    if (!task.window) {
      return FailedPrecondition("task " + task.id + " is incremental but has no window");
    }
    query.windows = task.window->partitions;
  } else {
    query.since = request.since;
    query.until = request.until;
    if (!query.until && task.window) query.until = task.window->until;
    query.partitions = request.partitions;
  }
  if (!request.record_ids.empty()) query.keys = request.record_ids;
  return query;
}

Result<TaskMetrics> ExportMetrics(const Task& task, const Dataset& dataset, Source& source,
                                  const SourceQuery& query, std::optional<int64_t>* scope_rows) {
  TaskMetrics metrics;
  if (scope_rows != nullptr) scope_rows->reset();
  const DatasetSpec& spec = dataset.spec();
  SourceQuery scope = query;
  scope.after_key.reset();
  // The summary is one more pass over the export's rows: taken where its figures are asked for
  // (nightly incremental exports, split exports, datasets with count_distinct), not for every
  // plain export of a partitioned table.
  const bool summarise =
      !spec.count_distinct.empty() ||
      (spec.partition_field && (task.request.incremental || task.request.split_by));
  if (summarise) {
    ASSIGN_OR_RETURN(SourceSummary summary, source.Summarize(scope, spec.count_distinct));
    if (scope_rows != nullptr) {
      int64_t rows = 0;
      for (const auto& [partition, n] : summary.rows_by_partition) rows += n;
      *scope_rows = rows;
    }
    if (spec.partition_field) metrics.rows_by_partition = std::move(summary.rows_by_partition);
    metrics.distinct = std::move(summary.distinct);
  }
  if (!spec.row_filter.empty()) {
    SourceQuery unruled = scope;
    unruled.filter = task.request.filter;
    ASSIGN_OR_RETURN(const int64_t in_scope, source.Count(unruled));
    ASSIGN_OR_RETURN(const int64_t kept, source.Count(scope));
    metrics.excluded_rows = std::max<int64_t>(0, in_scope - kept);
  }
  if (scope.keys) {
    ASSIGN_OR_RETURN(std::vector<FilterValue> missing, source.MissingKeys(scope));
    metrics.missing_ids = static_cast<int64_t>(missing.size());
    if (missing.size() > kMissingIdsSampleSize) missing.resize(kMissingIdsSampleSize);
    metrics.missing_ids_sample = std::move(missing);
  }
  return metrics;
}

Result<ExportOutcome> RunExport(const Task& task, const Dataset& dataset, Source& source,
                                ObjectStore& store, ExportControl& control,
                                TimePoint transaction_time, int threads) {
  const ExportRequest& request = task.request;
  ASSIGN_OR_RETURN(SourceQuery query, ExportQuery(task, dataset));
  const Checkpoint* checkpoint = task.checkpoint ? &*task.checkpoint : nullptr;
  if (checkpoint != nullptr) {
    if (checkpoint->next_file != static_cast<int>(task.files.size()) + 1) {
      return FailedPrecondition("task " + task.id + ": checkpoint at file " +
                                std::to_string(checkpoint->next_file) + " does not follow its " +
                                std::to_string(task.files.size()) + " files");
    }
    // A split export's after_key is of one series: WriteSeries resumes that one with it.
    if (!request.split_by) query.after_key = checkpoint->after_key;
    transaction_time = checkpoint->transaction_time;
  }
  const int64_t rows_before = checkpoint != nullptr ? checkpoint->rows : 0;

  // Before anything is read: a source whose columns changed since start-up fails the attempt
  // (kFailedPrecondition, not retried) instead of exporting something else in their place.
  RETURN_IF_ERROR(source.CheckSchema());
  // The metrics are counted over the export's whole scope before its rows are read; when that
  // takes a summary of its rows, the summary's total is also the progress's total, and the
  // separate count is saved (one pass less: the nightly export of a few rows is mostly passes).
  // The window of a recurring export has settled, so the figures are those of the rows written.
  std::optional<int64_t> scope_rows;
  ASSIGN_OR_RETURN(TaskMetrics metrics, ExportMetrics(task, dataset, source, query, &scope_rows));
  int64_t rows_total = 0;
  if (scope_rows) {
    rows_total = std::max(*scope_rows, rows_before);
  } else {
    // On resume, the rows left are counted (the source may have changed since the first count);
    // keys do not order a split export's series, so it counts all its rows again.
    ASSIGN_OR_RETURN(const int64_t counted, source.Count(query));
    rows_total = request.split_by ? std::max(counted, rows_before) : rows_before + counted;
  }
  RETURN_IF_ERROR(
      control.OnProgress(Progress{.rows = rows_before,
                                  .rows_total = rows_total,
                                  .bytes = checkpoint != nullptr ? checkpoint->bytes : 0}));

  StoreSink sink(task, store, control, rows_total, transaction_time);
  if (request.split_by) {
    RETURN_IF_ERROR(WriteSeries(query, checkpoint, source, threads, request, sink));
  } else {
    PartFormatter formatter(request, query.fields, sink, kFlushThreshold,
                            checkpoint != nullptr ? checkpoint->next_file : 1);
    sink.Attach(formatter);
    RETURN_IF_ERROR(FormatRows(query, source, threads, request, formatter, sink));
    RETURN_IF_ERROR(formatter.Finish());
    sink.Detach();
  }

  ExportOutcome outcome;
  outcome.files = std::move(sink.files());
  outcome.metrics = std::move(metrics);
  Task finished = task;
  finished.metrics = outcome.metrics;
  const std::string manifest =
      BuildManifest(finished, transaction_time, outcome.files, sink.rows());
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
