// ImportService: the operations of the import API, free of HTTP. api/ calls only this (and
// ExportService, whose task operations it shares).
#ifndef EXPORTD_CORE_IMPORTS_IMPORT_SERVICE_H_
#define EXPORTD_CORE_IMPORTS_IMPORT_SERVICE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/export_service.h"
#include "core/imports/import_runner.h"

namespace exportd {

struct CreateImportArgs {
  std::string dataset;
  // csv, tsv or ndjson; for from_export the export's format (a format given must match it).
  std::optional<Format> format;
  // from_prefix: which objects are read (core/imports/import_objects.h), default none;
  // from_export: must match the export's if given. Not for uploads (Content-Encoding is).
  std::optional<Compression> compression;
  OnConflict on_conflict = OnConflict::kError;
  std::optional<std::string> from_export;
  std::optional<std::string> from_prefix;
  bool upload = false;  // the body was staged with StageUpload under `id`
  bool gzip = false;
  std::optional<std::string> id;  // uploads: the id StageUpload was given
  std::optional<std::string> tag;
  Notify notify;
};

struct ImportServiceOptions {
  int max_attempts = 3;
};

// Thread-safe. The referenced objects must outlive the service.
class ImportService {
 public:
  // `exports` answers for exports (from_export is looked up there); `imports` is an
  // ExportService whose options.kind is kImport: it reads, lists and cancels the imports.
  // `objects` is the store of the export files (listed for from_prefix), `staging` that of the
  // uploads.
  ImportService(TaskStore& tasks, ExportService& exports, ExportService& imports,
                ObjectStore& objects, ObjectStore& staging, Scheduler& scheduler,
                const Clock& clock, Logger& logger, ImportServiceOptions options,
                ExportService::Sha256HexFn sha256_hex);

  // The checks of Create that need no upload: the dataset exists and is importable
  // (kInvalidArgument, pointer /dataset), one source, the format. For a handler to refuse an
  // upload before reading it.
  Status Check(const CreateImportArgs& args) const;
  // A new id and a writer for the upload of the import that will have it (the staging store).
  Result<std::pair<std::string, std::unique_ptr<ObjectWriter>>> StageUpload();
  // Drops a staged upload whose import was never created.
  void DropUpload(const std::string& id);

  // Checks (Check, and for from_export that the export is one `who` may read, Succeeded, in
  // csv, tsv or ndjson; for from_prefix that `who` may read the prefix (AuthorizePrefix) and
  // that at least one object under it is of the format and compression: kInvalidArgument
  // otherwise), stores a Pending import task and wakes the scheduler.
  Result<Task> Create(const Principal& who, CreateImportArgs args);
  // As ExportService's, for imports only (an export's id: kNotFound).
  Result<Task> Get(const Principal& who, const std::string& id);
  Result<TaskPage> List(const Principal& who, TaskListQuery query);
  Result<Task> Cancel(const Principal& who, const std::string& id);
  Result<std::vector<TaskEvent>> Events(const Principal& who, const std::string& id);

 private:
  // Who may import from which prefix. A prefix whose task directory is an export's id
  // ("<id>/..."; a prefix that is exactly such an id is read as "<id>/") is allowed to whoever
  // may read that export (its owner, or an admin), once it Succeeded. Any other prefix (objects
  // that are no task's of this deployment, e.g. copied from another one, or a prefix spanning
  // several task directories) is for admins only. Returns the prefix to store.
  Result<std::string> AuthorizePrefix(const Principal& who, std::string prefix);

  TaskStore& tasks_;
  ExportService& exports_;
  ExportService& imports_;
  ObjectStore& objects_;
  ObjectStore& staging_;
  Scheduler& scheduler_;
  const Clock& clock_;
  Logger& logger_;
  const ImportServiceOptions options_;
  ExportService::Sha256HexFn sha256_hex_;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_IMPORTS_IMPORT_SERVICE_H_
