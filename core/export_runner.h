// One attempt of one export: read -> flatten -> format -> write -> commit, file after file.
#ifndef EXPORTD_CORE_EXPORT_RUNNER_H_
#define EXPORTD_CORE_EXPORT_RUNNER_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/dataset.h"
#include "core/object_store.h"
#include "core/source.h"
#include "core/status.h"
#include "core/task.h"

namespace exportd {

// The name of the object that lists an export's files, written after its last part.
inline constexpr std::string_view kManifestName = "manifest.json";

// How a running export reports progress and learns it must stop. Implemented by the scheduler.
class ExportControl {
 public:
  virtual ~ExportControl() = default;
  // Called once the total is known, about every 256 rows, and after every committed file.
  // A non-OK return stops the export with that status (kCancelled when the task was
  // cancelled, kAborted when the service is shutting down or the lease is lost).
  virtual Status OnProgress(const Progress& progress) = 0;
  // Called just before each data file is published. A non-OK return stops the export and the
  // file is discarded unpublished: a worker that cannot prove it still holds the task must not
  // write anything visible.
  virtual Status BeforeCommit() = 0;
  // Called after each data file is published, with where the next file starts. Persists the
  // checkpoint; a non-OK return stops the export with that status (the file stays published;
  // kAborted when the lease was lost or the service drains at this checkpoint).
  virtual Status OnFileCommitted(const FileInfo& file, const Checkpoint& next) = 0;
};

struct ExportOutcome {
  std::vector<FileInfo> files;  // part-00001.<ext>, ... in order (series after series when split)
  FileInfo manifest;            // manifest.json
  TaskMetrics metrics;          // ExportMetrics, also in the manifest
};

// The fields to export: request.fields, or every dataset field when that is empty.
std::vector<std::string> ResolveFields(const ExportRequest& request, const Dataset& dataset);
// What RunExport asks `dataset`'s Source for (from the first row): the request's fields and
// filter, the dataset's row_filter ANDed in, the task's window (an incremental export's
// per-partition windows; otherwise its fixed `until` when the request has none) or the request's
// since/until/partitions, and its record_ids. kInvalidArgument when max_rows_per_file < 1 or there
// is no field to export; kFailedPrecondition for an incremental task without a window.
Result<SourceQuery> ExportQuery(const Task& task, const Dataset& dataset);

// The metrics of an export whose rows `query` selects (its after_key is ignored): rows and the
// dataset's count_distinct fields per partition (Source::Summarize, one more pass over the rows:
// for incremental and split exports of a partitioned dataset and for every export of a dataset
// with count_distinct fields; otherwise rows_by_partition stays empty), the rows the dataset's
// row_filter excludes from what the request alone selects, and the record ids with no row.
// `scope_rows`, when given, is set to the number of rows in scope when a summary was taken
// (nullopt otherwise). RunExport counts them before it reads the rows.
Result<TaskMetrics> ExportMetrics(const Task& task, const Dataset& dataset, Source& source,
                                  const SourceQuery& query,
                                  std::optional<int64_t>* scope_rows = nullptr);

// Runs the export of `task` from `source` into `store`:
//  - counts the matching rows first (progress.rows_total), then reads them in key order;
//  - rolls to a new file after request.max_rows_per_file rows; an export with no rows yields one
//    file with just the header (CSV/TSV), "[]" (JSON) or nothing (NDJSON);
//  - commits each file (visible only when complete) and reports it with its checkpoint through
//    control.OnFileCommitted, then writes manifest.json (task id, canonical request, transaction
//    time, files with rows, bytes, sha256; for CSV/TSV also each file's contains_formulas and
//    the export's csv_contains_formulas, see AnyContainsFormulas; each file's partition when
//    set; the task's window and metrics when set, as core/task_metrics_json.h renders them).
// With task.checkpoint set, resumes: task.files are taken as committed, only rows after
// checkpoint.after_key are counted (rows_total = rows done + rows left) and read, numbering
// continues at checkpoint.next_file, and the manifest (listing every file) carries
// checkpoint.transaction_time; so the files equal those of an uninterrupted run over the same
// rows. Otherwise `transaction_time` is used.
// With request.split_by partition, one file series per partition (core/split_series.h:
// which partitions, in which order, which rows), each in key order and numbered from
// "<partition directory>/part-00001.<ext>" (core/partition_name.h) with its own rollover; a
// partition without rows has no file, so an export without rows has none. Each file records its
// partition, and its checkpoint the series (Checkpoint::series), so a resume continues that
// series after its last committed file, then the partitions after it. rows_total counts every
// row of the export again on resume.
// With `threads` > 1, rows are decoded and formatted on up to that many threads besides the
// caller's (core/parallel_rows.h), as many as the source can give readers over one snapshot
// (Source::ReadShared); the files are the same bytes as with one. The caller's thread lays the
// rows out in files and stores them.
// On failure the objects already committed stay; the caller decides whether to delete them.
Result<ExportOutcome> RunExport(const Task& task, const Dataset& dataset, Source& source,
                                ObjectStore& store, ExportControl& control,
                                TimePoint transaction_time, int threads = 1);

}  // namespace exportd

#endif  // EXPORTD_CORE_EXPORT_RUNNER_H_
