// One attempt of one import: read the inputs -> parse -> check against the dataset -> stage ->
// publish in one step.
#ifndef EXPORTD_CORE_IMPORTS_IMPORT_RUNNER_H_
#define EXPORTD_CORE_IMPORTS_IMPORT_RUNNER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/dataset.h"
#include "core/export_runner.h"
#include "core/imports/import_sink.h"
#include "core/object_store.h"
#include "core/task.h"
#include "core/task_records.h"
#include "core/verifier.h"

namespace exportd {

// The object name of an upload in the import staging store (under the import's task id).
inline constexpr std::string_view kUploadObjectName = "upload";

// One file an import reads.
struct ImportInput {
  // As error details name it: an export's file name, "upload", or an object's path
  // "<task_id>/<name>" (from_prefix).
  std::string name;
  ObjectStore* store = nullptr;
  std::string task_id;  // the object's task directory in `store`
  std::string object;
  bool gzip = false;
  std::optional<int64_t> rows;  // known in advance for an export's files
};

struct ImportOutcome {
  ImportCounts counts;
  int64_t bytes = 0;  // input bytes read (as stored)
};

// Thread-safe; the referenced objects must outlive it.
class ImportRunner {
 public:
  struct Options {
    // Rows per transaction of the staging table.
    int batch_rows = 10000;
  };
  ImportRunner(TaskRecords& tasks, ObjectStore& exports, ObjectStore& staging, ImportSink& sink,
               std::function<Result<std::unique_ptr<Inflater>>()> new_gunzip, Options options);

  // The files `task` reads: the data files of its from_export task (kFailedPrecondition unless
  // that task is a Succeeded CSV, TSV or NDJSON export of the same dataset whose files are
  // still there), its upload, or the objects of the export store under its from_prefix that
  // core/imports/import_objects.h's rule picks, in path order (kFailedPrecondition when there
  // is none, or more than kMaxImportObjects).
  Result<std::vector<ImportInput>> Inputs(const Task& task);

  // Runs the import: each input's rows are checked (MapHeader, ConvertValue) and staged, in
  // transactions of options.batch_rows; then, if every row was good, published in one step
  // (ImportTarget::Publish). A bad header, value, record or duplicate key fails the import with
  // kInvalidArgument, nothing published, and the first kMaxImportErrorDetails faults in
  // `details`. A task an earlier attempt published already returns that attempt's counts.
  // Progress and cancellation go through `control` as for an export (BeforeCommit just before
  // publishing).
  Result<ImportOutcome> Run(const Task& task, const Dataset& dataset, ExportControl& control,
                            std::vector<ImportErrorDetail>* details);

  // Removes a finished import's upload from the staging store.
  Status RemoveUpload(const std::string& task_id);

 private:
  TaskRecords& tasks_;
  ObjectStore& exports_;
  ObjectStore& staging_;
  ImportSink& sink_;
  std::function<Result<std::unique_ptr<Inflater>>()> new_gunzip_;
  const Options options_;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_IMPORTS_IMPORT_RUNNER_H_
