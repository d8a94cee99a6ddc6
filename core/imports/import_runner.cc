#include "core/imports/import_runner.h"

#include <algorithm>

#include "core/imports/import_objects.h"
#include "core/imports/import_values.h"
#include "core/imports/record_parser.h"

namespace exportd {
namespace {

constexpr size_t kReadBytes = 1 << 20;
constexpr int64_t kProgressRows = 1024;

// An object read front to back; counts the stored bytes read.
class ObjectStream final : public ByteStream {
 public:
  ObjectStream(std::unique_ptr<ObjectReader> reader, int64_t* counter)
      : reader_(std::move(reader)), counter_(counter) {}
  Result<size_t> Read(char* buf, size_t len) override {
    if (offset_ >= reader_->size()) return size_t{0};
    ASSIGN_OR_RETURN(size_t n, reader_->ReadAt(offset_, buf, len));
    offset_ += static_cast<int64_t>(n);
    *counter_ += static_cast<int64_t>(n);
    return n;
  }

 private:
  std::unique_ptr<ObjectReader> reader_;
  int64_t offset_ = 0;
  int64_t* counter_;
};

class GunzipStream final : public ByteStream {
 public:
  GunzipStream(std::unique_ptr<ByteStream> in, std::unique_ptr<Inflater> inflater)
      : in_(std::move(in)), inflater_(std::move(inflater)), buf_(kReadBytes) {}
  Result<size_t> Read(char* out, size_t len) override {
    for (;;) {
      if (inflater_->NeedsInput()) {
        if (at_end_) {
          if (!inflater_->finished()) return DataLoss("the gzip stream is cut short");
          return size_t{0};
        }
        ASSIGN_OR_RETURN(size_t n, in_->Read(buf_.data(), buf_.size()));
        if (n == 0) {
          at_end_ = true;
          continue;
        }
        inflater_->SetInput(std::string_view(buf_.data(), n));
      }
      ASSIGN_OR_RETURN(size_t n, inflater_->Inflate(out, len));
      if (n > 0) return n;
    }
  }

 private:
  std::unique_ptr<ByteStream> in_;
  std::unique_ptr<Inflater> inflater_;
  std::vector<char> buf_;
  bool at_end_ = false;
};

bool ImportableFormat(Format f) {
  return f == Format::kCsv || f == Format::kTsv || f == Format::kNdjson;
}

// Collects details up to the cap.
struct Faults {
  std::vector<ImportErrorDetail>* details;
  size_t count = 0;
  void Add(const std::string& file, int64_t line, int64_t column, std::string message) {
    ++count;
    if (details->size() < kMaxImportErrorDetails) {
      details->push_back({file, line, column, std::move(message)});
    }
  }
  bool full() const { return details->size() >= kMaxImportErrorDetails; }
};

}  // namespace

ImportRunner::ImportRunner(TaskRecords& tasks, ObjectStore& exports, ObjectStore& staging,
                           ImportSink& sink,
                           std::function<Result<std::unique_ptr<Inflater>>()> new_gunzip,
                           Options options)
    : tasks_(tasks),
      exports_(exports),
      staging_(staging),
      sink_(sink),
      new_gunzip_(std::move(new_gunzip)),
      options_(options) {}

Result<std::vector<ImportInput>> ImportRunner::Inputs(const Task& task) {
  if (!task.import) return FailedPrecondition("task " + task.id + " is not an import");
  const ImportSpec& spec = *task.import;
  std::vector<ImportInput> inputs;
  if (spec.upload) {
    // A gzip upload is decoded as it is received (the HTTP layer undoes Content-Encoding), so
    // the staged file is plain.
    inputs.push_back({std::string(kUploadObjectName), &staging_, task.id,
                      std::string(kUploadObjectName), false, std::nullopt});
    return inputs;
  }
  if (spec.from_export) {
    Result<Task> source = tasks_.Get(*spec.from_export);
    if (!source.ok()) {
      if (source.status().code() == StatusCode::kNotFound) {
        return FailedPrecondition("export " + *spec.from_export + " does not exist");
      }
      return source.status();
    }
    if (source->kind != TaskKind::kExport || source->state != TaskState::kSucceeded) {
      return FailedPrecondition("export " + source->id + " has not Succeeded");
    }
    if (!ImportableFormat(source->request.format)) {
      return FailedPrecondition("export " + source->id + " is " +
                                std::string(FormatName(source->request.format)) +
                                "; imports read csv, tsv or ndjson");
    }
    if (source->files.empty() && !source->manifest) {
      return FailedPrecondition("the files of export " + source->id + " were deleted or expired");
    }
    for (const FileInfo& f : source->files) {
      inputs.push_back({f.name, &exports_, source->id, f.name,
                        source->request.compression == Compression::kGzip, f.rows});
    }
    return inputs;
  }
  if (!spec.from_prefix) return FailedPrecondition("import " + task.id + " names no input");
  const bool gzip = task.request.compression == Compression::kGzip;
  bool more = false;
  ASSIGN_OR_RETURN(std::vector<ListedObject> objects,
                   ListImportObjects(exports_, *spec.from_prefix, task.request.format, gzip,
                                     kMaxImportObjects, &more));
  if (more) {
    return FailedPrecondition("more than " + std::to_string(kMaxImportObjects) +
                              " objects under the prefix '" + *spec.from_prefix +
                              "': import narrower prefixes one by one");
  }
  if (objects.empty()) {
    return FailedPrecondition("no object under the prefix '" + *spec.from_prefix + "' is a " +
                              std::string(FormatName(task.request.format)) + (gzip ? ".gz" : "") +
                              " file any more");
  }
  for (ListedObject& o : objects) {
    std::string path = o.task_id + "/" + o.name;
    inputs.push_back(
        {std::move(path), &exports_, std::move(o.task_id), std::move(o.name), gzip, std::nullopt});
  }
  return inputs;
}

Status ImportRunner::RemoveUpload(const std::string& task_id) {
  return staging_.DeleteAll(task_id);
}

Result<ImportOutcome> ImportRunner::Run(const Task& task, const Dataset& dataset,
                                        ExportControl& control,
                                        std::vector<ImportErrorDetail>* details) {
  ImportOutcome outcome;
  // A crash after publishing and before the task was recorded Succeeded: it is done.
  ASSIGN_OR_RETURN(std::optional<ImportCounts> published, sink_.Published(dataset, task.id));
  if (published) {
    outcome.counts = *published;
    return outcome;
  }
  ASSIGN_OR_RETURN(std::vector<ImportInput> inputs, Inputs(task));
  const Format format = task.request.format;
  if (!ImportableFormat(format)) {
    return InvalidArgument("imports read csv, tsv or ndjson");
  }
  std::optional<int64_t> rows_known = 0;
  int64_t bytes_total = 0;
  for (const ImportInput& in : inputs) {
    if (rows_known && in.rows) {
      *rows_known += *in.rows;
    } else {
      rows_known.reset();
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<ImportTarget> target, sink_.Begin(dataset, task.id));
  // Whatever ends this attempt without publishing drops what it staged.
  bool published_now = false;
  struct Guard {
    ImportTarget& target;
    bool& done;
    ~Guard() {
      if (!done) (void)target.Discard();
    }
  } guard{*target, published_now};

  const std::vector<Field>& fields = dataset.fields();
  const Field* key_field = dataset.FindField(dataset.spec().key);
  if (key_field == nullptr) {
    return FailedPrecondition("dataset '" + dataset.name() + "' has no field for its key");
  }
  const auto key_index = static_cast<size_t>(key_field - fields.data());
  Faults faults{details};
  std::vector<ImportValue> row(fields.size());
  Record record;
  Progress progress;
  progress.rows_total = rows_known;
  int64_t staged = 0;
  int64_t records = 0;
  int64_t since_flush = 0;
  int64_t bytes_read = 0;
  for (size_t file = 0; file < inputs.size() && !faults.full(); ++file) {
    const ImportInput& in = inputs[file];
    ASSIGN_OR_RETURN(std::unique_ptr<ObjectReader> reader, in.store->Open(in.task_id, in.object));
    bytes_total += reader->size();
    std::unique_ptr<ByteStream> stream =
        std::make_unique<ObjectStream>(std::move(reader), &bytes_read);
    if (in.gzip) {
      ASSIGN_OR_RETURN(std::unique_ptr<Inflater> inflater, new_gunzip_());
      stream = std::make_unique<GunzipStream>(std::move(stream), std::move(inflater));
    }
    std::unique_ptr<RecordParser> parser = RecordParser::Create(format, *stream);
    std::vector<size_t> map;
    std::vector<std::string> map_names;  // NDJSON: the names `map` was made for
    if (format != Format::kNdjson) {
      Result<bool> header = parser->Next(record);
      if (!header.ok()) {
        if (header.status().code() != StatusCode::kInvalidArgument) {
          return header.status().WithContext("reading " + in.name);
        }
        faults.Add(in.name, parser->line(), parser->error_column(), header.status().message());
        continue;
      }
      if (!*header) {
        faults.Add(in.name, 1, 0, "the file is empty: a header row is expected");
        continue;
      }
      std::vector<std::string> names;
      for (const RecordValue& v : record.values) names.push_back(v.text);
      int64_t column = 0;
      Result<std::vector<size_t>> mapped = MapHeader(dataset, names, &column);
      if (!mapped.ok()) {
        faults.Add(in.name, parser->line(), column, mapped.status().message());
        continue;
      }
      map = std::move(mapped).value();
    }
    for (;;) {
      Result<bool> next = parser->Next(record);
      if (!next.ok()) {
        if (next.status().code() != StatusCode::kInvalidArgument) {
          return next.status().WithContext("reading " + in.name);
        }
        faults.Add(in.name, parser->line(), parser->error_column(), next.status().message());
        break;  // the rest of a malformed file cannot be located reliably
      }
      if (!*next) break;
      const int64_t line = parser->line();
      if (format == Format::kNdjson && record.names != map_names) {
        int64_t column = 0;
        Result<std::vector<size_t>> mapped = MapHeader(dataset, record.names, &column);
        if (!mapped.ok()) {
          faults.Add(in.name, line, column, mapped.status().message());
          if (faults.full()) break;
          continue;
        }
        map = std::move(mapped).value();
        map_names = record.names;
      }
      if (record.values.size() != map.size()) {
        faults.Add(in.name, line, 0,
                   "the record has " + std::to_string(record.values.size()) +
                       " fields, the header " + std::to_string(map.size()));
        if (faults.full()) break;
        continue;
      }
      for (ImportValue& v : row) v.type = ImportValue::Type::kNull;
      bool good = true;
      for (size_t c = 0; c < map.size(); ++c) {
        const Field& field = fields[map[c]];
        // Into the row's own value: its text keeps its storage from one row to the next.
        const Status converted = ConvertValue(field, record.values[c], row[map[c]]);
        if (!converted.ok()) {
          row[map[c]].type = ImportValue::Type::kNull;
          faults.Add(in.name, line, static_cast<int64_t>(c) + 1,
                     "field '" + field.name + "': " + converted.message());
          good = false;
          if (faults.full()) break;
          continue;
        }
      }
      if (good && row[key_index].type == ImportValue::Type::kNull) {
        faults.Add(in.name, line, 0, "the key '" + dataset.spec().key + "' is empty");
        good = false;
      }
      if (good && faults.count == 0) {
        Status s = target->Stage(row, RowOrigin{static_cast<int32_t>(file), line});
        if (s.code() == StatusCode::kAlreadyExists) {
          faults.Add(in.name, line, 0, s.message());
        } else if (!s.ok()) {
          return s;
        } else {
          ++staged;
          if (++since_flush >= options_.batch_rows) {
            RETURN_IF_ERROR(target->Flush());
            since_flush = 0;
          }
        }
      }
      if (faults.full()) break;
      if (++records % kProgressRows == 0) {
        progress.rows = staged;
        progress.bytes = bytes_read;
        if (!rows_known && bytes_read > 0 && staged > 0 && file + 1 == inputs.size()) {
          // An estimate from the share of the input read so far.
          progress.rows_total =
              std::max<int64_t>(staged, static_cast<int64_t>(static_cast<double>(staged) *
                                                             static_cast<double>(bytes_total) /
                                                             static_cast<double>(bytes_read)));
        }
        RETURN_IF_ERROR(control.OnProgress(progress));
      }
    }
  }
  outcome.bytes = bytes_read;
  if (faults.count > 0) {
    return InvalidArgument(std::to_string(faults.count) + (faults.full() ? " or more" : "") +
                           " problems in the input; nothing was imported");
  }
  RETURN_IF_ERROR(target->Flush());
  progress.rows = staged;
  progress.rows_total = staged;
  progress.bytes = bytes_read;
  RETURN_IF_ERROR(control.OnProgress(progress));
  RETURN_IF_ERROR(control.BeforeCommit());
  std::vector<ImportTarget::Conflict> conflicts;
  Result<ImportCounts> counts =
      target->Publish(task.import->on_conflict, kMaxImportErrorDetails, &conflicts);
  if (!counts.ok()) {
    if (counts.status().code() == StatusCode::kAlreadyExists) {
      for (const ImportTarget::Conflict& c : conflicts) {
        const size_t f = static_cast<size_t>(c.origin.file);
        faults.Add(f < inputs.size() ? inputs[f].name : "?", c.origin.line, 0,
                   "the key " + c.key + " exists in the table (on_conflict is error)");
      }
      return InvalidArgument(counts.status().message() + "; nothing was imported");
    }
    return counts.status();
  }
  published_now = true;
  outcome.counts = *counts;
  return outcome;
}

}  // namespace exportd
