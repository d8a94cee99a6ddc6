#include "core/imports/import_service.h"

#include "core/imports/import_objects.h"
#include "core/ulid.h"

namespace exportd {
namespace {

bool Importable(Format f) { return f == Format::kCsv || f == Format::kTsv || f == Format::kNdjson; }

Status NotAnImport(const std::string& id) { return NotFound("no import " + id); }

}  // namespace

ImportService::ImportService(TaskStore& tasks, ExportService& exports, ExportService& imports,
                             ObjectStore& objects, ObjectStore& staging, Scheduler& scheduler,
                             const Clock& clock, Logger& logger, ImportServiceOptions options,
                             ExportService::Sha256HexFn sha256_hex)
    : tasks_(tasks),
      exports_(exports),
      imports_(imports),
      objects_(objects),
      staging_(staging),
      scheduler_(scheduler),
      clock_(clock),
      logger_(logger),
      options_(options),
      sha256_hex_(std::move(sha256_hex)) {}

Status ImportService::Check(const CreateImportArgs& args) const {
  if (args.dataset.empty()) return InvalidArgument("dataset is required", "/dataset");
  const DatasetCatalog::Entry* entry = exports_.datasets().Find(args.dataset);
  if (entry == nullptr) {
    return InvalidArgument("unknown dataset '" + args.dataset + "'", "/dataset");
  }
  if (!entry->dataset->spec().importable) {
    return InvalidArgument("dataset '" + args.dataset +
                               "' is not importable (its configuration does not say "
                               "\"importable\": true)",
                           "/dataset");
  }
  const int sources =
      (args.from_export ? 1 : 0) + (args.from_prefix ? 1 : 0) + (args.upload ? 1 : 0);
  if (sources != 1) {
    return InvalidArgument(
        "give exactly one of from_export, from_prefix, or the file itself as the body");
  }
  if (args.format && !Importable(*args.format)) {
    return InvalidArgument("imports read csv, tsv or ndjson", "/format");
  }
  if (args.from_prefix) {
    if (Status s = ValidateListPrefix(*args.from_prefix); !s.ok()) {
      return InvalidArgument(s.message(), "/from_prefix");
    }
  }
  if (args.upload && args.compression) {
    return InvalidArgument("an upload's compression is its Content-Encoding", "/compression");
  }
  if (args.upload && !args.format) return InvalidArgument("the upload's format is unknown");
  // Notification targets, as an export's would be checked.
  CreateExportArgs notify_check;
  notify_check.request.dataset = args.dataset;
  notify_check.notify = args.notify;
  return exports_.Check(notify_check);
}

Result<std::pair<std::string, std::unique_ptr<ObjectWriter>>> ImportService::StageUpload() {
  std::string id = NewUlid(clock_.Now());
  ObjectOptions options;
  options.digest = false;
  ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> writer,
                   staging_.Create(id, kUploadObjectName, options));
  return std::make_pair(std::move(id), std::move(writer));
}

void ImportService::DropUpload(const std::string& id) {
  if (Status s = staging_.DeleteAll(id); !s.ok()) {
    logger_.Warn("import " + id + ": dropping the upload: " + s.ToString());
  }
}

Result<Task> ImportService::Create(const Principal& who, CreateImportArgs args) {
  RETURN_IF_ERROR(Check(args));
  if (args.from_export) {
    Result<Task> source = exports_.Get(who, *args.from_export);
    if (!source.ok() || source->kind != TaskKind::kExport) {
      return InvalidArgument("no export " + *args.from_export, "/from_export");
    }
    if (source->state != TaskState::kSucceeded) {
      return InvalidArgument("export " + source->id + " is " +
                                 std::string(TaskStateName(source->state)) +
                                 "; only a Succeeded export can be imported",
                             "/from_export");
    }
    if (!Importable(source->request.format)) {
      return InvalidArgument("export " + source->id + " is " +
                                 std::string(FormatName(source->request.format)) +
                                 "; imports read csv, tsv or ndjson",
                             "/from_export");
    }
    if (args.format && *args.format != source->request.format) {
      return InvalidArgument("format differs from the export's", "/format");
    }
    if (args.compression && *args.compression != source->request.compression) {
      return InvalidArgument("compression differs from the export's", "/compression");
    }
    if (source->files.empty()) {
      return InvalidArgument("the files of export " + source->id + " were deleted or expired",
                             "/from_export");
    }
    args.format = source->request.format;
    args.compression = source->request.compression;
  }
  if (args.from_prefix) {
    ASSIGN_OR_RETURN(std::string prefix, AuthorizePrefix(who, std::move(*args.from_prefix)));
    args.from_prefix = std::move(prefix);
    if (!args.format) args.format = Format::kCsv;
    if (!args.compression) args.compression = Compression::kNone;
    const bool gzip = *args.compression == Compression::kGzip;
    bool more = false;
    Result<std::vector<ListedObject>> found =
        ListImportObjects(objects_, *args.from_prefix, *args.format, gzip, 1, &more);
    if (!found.ok()) {
      if (found.status().code() == StatusCode::kFailedPrecondition ||
          found.status().code() == StatusCode::kInvalidArgument) {
        return InvalidArgument(found.status().message(), "/from_prefix");
      }
      return found.status();
    }
    if (found->empty()) {
      return InvalidArgument("no object under the prefix '" + *args.from_prefix + "' is a " +
                                 std::string(FormatName(*args.format)) + (gzip ? ".gz" : "") +
                                 " file (format " + std::string(FormatName(*args.format)) +
                                 ", compression " +
                                 std::string(CompressionName(*args.compression)) + ")",
                             "/from_prefix");
    }
  }
  const TimePoint now = clock_.Now();
  Task task;
  task.id = args.id.value_or(NewUlid(now));
  task.principal = who.id;
  task.kind = TaskKind::kImport;
  task.import =
      ImportSpec{args.on_conflict, args.from_export, args.from_prefix, args.upload, args.gzip};
  task.request.dataset = args.dataset;
  task.request.format = *args.format;
  task.request.compression = args.compression.value_or(Compression::kNone);
  task.query_hash =
      sha256_hex_("import\n" + args.dataset + "\n" + std::string(FormatName(*args.format)) + "\n" +
                  std::string(OnConflictName(args.on_conflict)) + "\n" +
                  (args.from_export   ? "export:" + *args.from_export
                   : args.from_prefix ? "prefix:" + *args.from_prefix + "\n" +
                                            std::string(CompressionName(task.request.compression))
                                      : "upload:" + task.id));
  task.tag = std::move(args.tag);
  task.notify = std::move(args.notify);
  task.created_at = task.updated_at = now;
  task.max_attempts = options_.max_attempts;
  RETURN_IF_ERROR(tasks_.Create(task, EventOrigin{who.id, who.remote}));
  logger_.Info("task " + task.id + ": import created Pending (dataset " + args.dataset +
               ", principal " + who.id + ")");
  scheduler_.Wake();
  return task;
}

Result<std::string> ImportService::AuthorizePrefix(const Principal& who, std::string prefix) {
  const std::string others =
      "only an admin may import from a prefix that is not under an export of the caller's "
      "(\"<export id>/\")";
  size_t slash = prefix.find('/');
  if (slash == std::string::npos) {
    Result<Task> exact = exports_.Get(who, prefix);
    if (exact.ok() && exact->kind == TaskKind::kExport) {
      prefix.push_back('/');
      slash = prefix.size() - 1;
    } else if (!who.admin) {
      return InvalidArgument(others, "/from_prefix");
    } else {
      return prefix;  // an admin's prefix spanning task directories
    }
  }
  const std::string dir = prefix.substr(0, slash);
  Result<Task> source = exports_.Get(who, dir);
  if (source.ok() && source->kind == TaskKind::kExport) {
    if (source->state != TaskState::kSucceeded) {
      return InvalidArgument("export " + dir + " is " + std::string(TaskStateName(source->state)) +
                                 "; only a Succeeded export's files can be imported",
                             "/from_prefix");
    }
    return prefix;
  }
  if (!source.ok() && (source.status().code() == StatusCode::kUnavailable ||
                       source.status().code() == StatusCode::kInternal)) {
    return source.status();  // the task store could not say
  }
  if (!who.admin) return InvalidArgument(others, "/from_prefix");
  return prefix;
}

Result<Task> ImportService::Get(const Principal& who, const std::string& id) {
  Result<Task> task = imports_.Get(who, id);
  if (!task.ok()) {
    if (task.status().code() == StatusCode::kNotFound) return NotAnImport(id);
    return task.status();
  }
  if (task->kind != TaskKind::kImport) return NotAnImport(id);
  return task;
}

Result<TaskPage> ImportService::List(const Principal& who, TaskListQuery query) {
  return imports_.List(who, std::move(query));
}

Result<Task> ImportService::Cancel(const Principal& who, const std::string& id) {
  ASSIGN_OR_RETURN(Task task, imports_.Cancel(who, id));
  if (IsTerminal(task.state)) DropUpload(id);
  return task;
}

Result<std::vector<TaskEvent>> ImportService::Events(const Principal& who, const std::string& id) {
  return imports_.Events(who, id);
}

}  // namespace exportd
