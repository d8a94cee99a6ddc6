#include "core/verifier.h"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>

#include "core/canonical_json.h"
#include "core/export_runner.h"
#include "core/formats/row_counter.h"
#include "core/part_formatter.h"
#include "core/partition_name.h"
#include "core/split_series.h"
#include "core/text.h"

namespace exportd {
namespace {

constexpr size_t kBlock = size_t{1} << 16;
constexpr size_t kMaxManifestBytes = size_t{64} << 20;

// Reads one stored object from start to end: digests and counts the stored bytes, inflates them
// when `gzip`, feeds the plain bytes to `counter` (if any) and hands them out in order. Holds
// at most a block of each at a time. Not thread-safe.
class StoredFile {
 public:
  StoredFile(std::unique_ptr<ObjectReader> reader, bool gzip, std::unique_ptr<RowCounter> counter,
             const VerifierTools& tools)
      : reader_(std::move(reader)),
        gzip_(gzip),
        counter_(std::move(counter)),
        sha_(tools.new_sha256()),
        raw_(kBlock, '\0') {
    if (gzip_) {
      out_.resize(kBlock);
      Result<std::unique_ptr<Inflater>> decoder = tools.new_gunzip();
      if (decoder.ok()) {
        decoder_ = std::move(*decoder);
      } else {
        plain_status_ = decoder.status();
        gzip_ = false;
      }
    }
  }
  StoredFile(const StoredFile&) = delete;
  StoredFile& operator=(const StoredFile&) = delete;

  // The plain bytes not consumed yet; empty at the end. An error (I/O, not gzip) is sticky.
  Result<std::string_view> Peek() {
    if (!plain_status_.ok()) return plain_status_;
    while (avail_.empty() && !plain_end_) {
      plain_status_ = Fill();
      if (!plain_status_.ok()) return plain_status_;
    }
    return avail_;
  }

  // REQUIRES: n <= the size of the last Peek().
  void Consume(size_t n) {
    avail_.remove_prefix(n);
    plain_offset_ += static_cast<int64_t>(n);
  }

  // Reads to the end of the stored bytes, whatever the plain side's state.
  void Drain() {
    while (true) {
      Result<std::string_view> chunk = Peek();
      if (!chunk.ok() || chunk->empty()) break;
      Consume(chunk->size());
    }
    while (io_status_.ok() && !raw_end_) {
      Result<size_t> n = ReadRaw();
      if (n.ok() && *n == 0) break;
    }
  }

  // OK, or why the stored bytes could not all be read (then bytes and sha256 are partial).
  const Status& io_status() const { return io_status_; }
  // OK, or why the plain bytes could not all be produced (I/O, or not a valid gzip stream).
  const Status& plain_status() const { return plain_status_; }
  int64_t stored_bytes() const { return stored_bytes_; }
  int64_t plain_offset() const { return plain_offset_; }
  // REQUIRES: Drain() has been called. At most once.
  std::string Sha256HexOfStored() { return sha_->FinishHex(); }
  // Rows counted in every plain byte produced so far.
  int64_t rows() const { return counter_ != nullptr ? counter_->rows() : 0; }

 private:
  // Reads the next stored block into raw_; 0 at the end.
  Result<size_t> ReadRaw() {
    if (!io_status_.ok()) return io_status_;
    Result<size_t> n = reader_->ReadAt(stored_bytes_, raw_.data(), raw_.size());
    if (!n.ok()) {
      io_status_ = n.status();
      return io_status_;
    }
    if (*n == 0) {
      raw_end_ = true;
      return size_t{0};
    }
    sha_->Update(std::string_view(raw_.data(), *n));
    stored_bytes_ += static_cast<int64_t>(*n);
    return n;
  }

  // Produces the next plain bytes into avail_ (possibly none) or sets plain_end_.
  Status Fill() {
    if (!gzip_) {
      ASSIGN_OR_RETURN(const size_t n, ReadRaw());
      if (n == 0) plain_end_ = true;
      return Publish(std::string_view(raw_.data(), n));
    }
    if (decoder_->NeedsInput()) {
      ASSIGN_OR_RETURN(const size_t n, ReadRaw());
      if (n == 0) {
        plain_end_ = true;
        return decoder_->finished() ? Status::Ok() : DataLoss("the gzip stream is truncated");
      }
      decoder_->SetInput(std::string_view(raw_.data(), n));
    }
    ASSIGN_OR_RETURN(const size_t n, decoder_->Inflate(out_.data(), out_.size()));
    return Publish(std::string_view(out_.data(), n));
  }

  Status Publish(std::string_view plain) {
    if (counter_ != nullptr) counter_->Feed(plain);
    avail_ = plain;
    return Status::Ok();
  }

  std::unique_ptr<ObjectReader> reader_;
  bool gzip_;
  std::unique_ptr<Inflater> decoder_;  // when gzip_
  std::unique_ptr<RowCounter> counter_;
  std::unique_ptr<StreamDigest> sha_;
  std::string raw_;         // the last stored block; decoder_'s input points into it
  std::string out_;         // the last inflated block
  std::string_view avail_;  // unconsumed plain bytes, in raw_ or out_
  int64_t stored_bytes_ = 0;
  int64_t plain_offset_ = 0;
  bool raw_end_ = false;
  bool plain_end_ = false;
  Status io_status_;
  Status plain_status_;
};

// Opens a stored file, or says in `problems` why not.
std::unique_ptr<StoredFile> OpenStored(ObjectStore& store, const Task& task,
                                       const std::string& name, bool is_part,
                                       const VerifierTools& tools,
                                       std::vector<std::string>& problems) {
  Result<std::unique_ptr<ObjectReader>> reader = store.Open(task.id, name);
  if (!reader.ok()) {
    problems.emplace_back(reader.status().code() == StatusCode::kNotFound
                              ? "missing"
                              : "cannot open: " + reader.status().message());
    return nullptr;
  }
  const bool gzip = is_part && PartObjectOptions(task.request).gzip;
  return std::make_unique<StoredFile>(std::move(reader).value(), gzip,
                                      is_part ? MakeRowCounter(task.request.format) : nullptr,
                                      tools);
}

// The checks of a drained part against the task's record and the manifest's entry (if any).
void CheckPart(const FileInfo& recorded, const std::optional<FileInfo>& listed, StoredFile& file,
               FileVerdict& verdict) {
  const std::string sha256 = file.Sha256HexOfStored();
  verdict.bytes = file.stored_bytes();
  if (!file.io_status().ok()) {
    verdict.problems.emplace_back("cannot read: " + file.io_status().message());
    return;
  }
  if (file.stored_bytes() != recorded.bytes) {
    verdict.problems.push_back(Plural(file.stored_bytes(), "byte") + ", the task records " +
                               std::to_string(recorded.bytes));
  }
  if (sha256 != recorded.sha256)
    verdict.problems.emplace_back("sha256 differs from the task's record");
  if (listed && listed->bytes != recorded.bytes && listed->bytes != file.stored_bytes()) {
    verdict.problems.push_back(Plural(file.stored_bytes(), "byte") + ", the manifest lists " +
                               std::to_string(listed->bytes));
  }
  if (listed && listed->sha256 != recorded.sha256 && listed->sha256 != sha256) {
    verdict.problems.emplace_back("sha256 differs from the manifest's");
  }
  if (!file.plain_status().ok()) {
    verdict.problems.push_back(file.plain_status().message());
    return;
  }
  verdict.rows = file.rows();
  if (*verdict.rows != recorded.rows) {
    verdict.problems.push_back(Plural(*verdict.rows, "row") + ", the task records " +
                               std::to_string(recorded.rows));
  }
  if (listed && listed->rows != recorded.rows && listed->rows != *verdict.rows) {
    verdict.problems.push_back(Plural(*verdict.rows, "row") + ", the manifest lists " +
                               std::to_string(listed->rows));
  }
}

struct ManifestCheck {
  FileVerdict verdict;
  std::vector<std::optional<FileInfo>> entries;  // by the task's file index, as listed
};

ManifestCheck CheckManifest(const Task& task, ObjectStore& store, const VerifierTools& tools) {
  ManifestCheck check;
  check.verdict.name = std::string(kManifestName);
  check.entries.resize(task.files.size());
  std::vector<std::string>& problems = check.verdict.problems;
  std::unique_ptr<StoredFile> file =
      OpenStored(store, task, check.verdict.name, /*is_part=*/false, tools, problems);
  if (file == nullptr) return check;
  std::string text;
  while (true) {
    Result<std::string_view> chunk = file->Peek();
    if (!chunk.ok() || chunk->empty() || text.size() + chunk->size() > kMaxManifestBytes) break;
    text.append(*chunk);
    file->Consume(chunk->size());
  }
  file->Drain();
  const std::string sha256 = file->Sha256HexOfStored();
  check.verdict.bytes = file->stored_bytes();
  if (!file->io_status().ok()) {
    problems.emplace_back("cannot read: " + file->io_status().message());
    return check;
  }
  if (!task.manifest) {
    problems.emplace_back("the task records no manifest");
  } else {
    if (file->stored_bytes() != task.manifest->bytes) {
      problems.push_back(Plural(file->stored_bytes(), "byte") + ", the task records " +
                         std::to_string(task.manifest->bytes));
    }
    if (sha256 != task.manifest->sha256)
      problems.emplace_back("sha256 differs from the task's record");
  }
  if (text.size() != static_cast<size_t>(file->stored_bytes())) {
    problems.emplace_back("larger than " + std::to_string(kMaxManifestBytes) + " bytes");
    return check;
  }
  const std::optional<ManifestDocument> doc = tools.manifest_parser->Parse(text);
  if (!doc) {
    problems.emplace_back("not a JSON object");
    return check;
  }
  if (doc->task_id != task.id) problems.emplace_back("names another task_id");
  if (doc->query_hash != task.query_hash) {
    problems.emplace_back("query_hash differs from the task's");
  }
  ExportRequest canonical = task.request;
  Canonicalize(canonical);
  if (!doc->request || !tools.manifest_parser->SameJson(*doc->request, CanonicalJson(canonical))) {
    problems.emplace_back("request differs from the task's canonical request");
  }
  if (!doc->has_files) {
    problems.emplace_back("has no files array");
    return check;
  }
  const std::vector<std::optional<FileInfo>>& files = doc->files;
  if (files.size() != task.files.size()) {
    problems.emplace_back("lists " + Plural(static_cast<int64_t>(files.size()), "file") +
                          ", the task has " + std::to_string(task.files.size()));
  }
  int64_t total_rows = 0;
  for (size_t i = 0; i < task.files.size(); ++i) {
    const FileInfo& recorded = task.files[i];
    total_rows += recorded.rows;
    if (i >= files.size() || !files[i]) continue;
    const FileInfo& listed = *files[i];
    if (listed.name != recorded.name) {
      problems.emplace_back("file " + std::to_string(i + 1) + " is '" + listed.name +
                            "', the task's is '" + recorded.name + "'");
      continue;
    }
    if (listed.rows != recorded.rows || listed.bytes != recorded.bytes ||
        listed.sha256 != recorded.sha256) {
      problems.emplace_back("the entry of " + recorded.name + " differs from the task's record");
    }
    check.entries[i] = listed;
  }
  if (doc->rows != total_rows) {
    problems.emplace_back("rows total differs from the task's files (" +
                          std::to_string(total_rows) + ")");
  }
  return check;
}

// Where a difference between regenerated and stored bytes sits.
struct Position {
  int64_t row_in_file = 0;  // 0: the header
  int64_t row = 0;          // in the whole export
  bool at_end = false;      // in what ends the file (e.g. JSON's "]")
};

std::string Describe(const Position& where) {
  if (where.at_end) return "at the end of the file, after row " + std::to_string(where.row_in_file);
  if (where.row_in_file == 0) return "in the header";
  return "in row " + std::to_string(where.row_in_file) + " (row " + std::to_string(where.row) +
         " of the export)";
}

// The PartSink of the regenerated export: compares each part's bytes with the stored part of the
// same number as they come, then checks the drained part. Not thread-safe.
class SourceComparer final : public PartSink {
 public:
  // `parts` has one verdict per file of the task.
  SourceComparer(const Task& task, ObjectStore& store, const VerifierTools& tools,
                 const ManifestCheck& manifest, std::vector<FileVerdict>& parts)
      : task_(task), store_(store), tools_(tools), manifest_(manifest), parts_(parts) {}

  // REQUIRES: called before the rows of each formatter that feeds this sink (one, or one per
  // series), between parts; Detach() before `formatter` is destroyed.
  void Attach(const PartFormatter& formatter) { formatter_ = &formatter; }
  // Counts the rows of the attached formatter on (rows of the export, not of the series).
  void Detach() {
    rows_before_ += formatter_->rows();
    formatter_ = nullptr;
  }
  // With split_by partition: the parts that follow are `partition`'s series.
  void SetSeries(SeriesPartition partition) { series_ = std::move(partition); }

  Status BeginPart(int /*file_number*/, const std::string& part_name) override {
    // The regenerated parts come in the export's order, series after series.
    index_ = begun_++;
    const std::string name = series_ ? SeriesPartName(*series_, part_name) : part_name;
    writes_ = 0;
    last_rows_in_part_ = -1;
    diverged_ = false;
    file_.reset();
    extra_part_ = index_ >= task_.files.size() || task_.files[index_].name != name;
    if (extra_part_) {
      extra_.push_back(FileVerdict{.name = name});
      NoteFirstDifference(name + ": the source yields rows beyond the export's files");
      return Status::Ok();
    }
    reached_ = index_ + 1;
    file_ = OpenStored(store_, task_, name, /*is_part=*/true, tools_, parts_[index_].problems);
    return Status::Ok();
  }

  Status Write(std::string_view expected) override {
    const Position where = Where();
    if (file_ == nullptr || diverged_) return Status::Ok();
    while (!expected.empty()) {
      Result<std::string_view> stored = file_->Peek();
      if (!stored.ok()) {
        return Diverged("cannot be read past byte " + std::to_string(file_->plain_offset()));
      }
      if (stored->empty()) {
        return Diverged("ends at byte " + std::to_string(file_->plain_offset()) +
                        " where the source yields more, " + Describe(where));
      }
      const size_t n = std::min(expected.size(), stored->size());
      const size_t same = static_cast<size_t>(
          std::mismatch(expected.begin(), expected.begin() + static_cast<std::ptrdiff_t>(n),
                        stored->begin())
              .first -
          expected.begin());
      file_->Consume(same);
      if (same < n) {
        return Diverged("differs from the source at byte " + std::to_string(file_->plain_offset()) +
                        ", " + Describe(where));
      }
      expected.remove_prefix(n);
    }
    return Status::Ok();
  }

  Status EndPart(int64_t rows) override {
    if (extra_part_) {
      extra_.back().problems.emplace_back("the source yields this file (" + Plural(rows, "row") +
                                          "); the export lacks it");
      return Status::Ok();
    }
    if (file_ != nullptr) {
      if (!diverged_) {
        Result<std::string_view> stored = file_->Peek();
        if (stored.ok() && !stored->empty()) {
          (void)Diverged("has bytes from byte " + std::to_string(file_->plain_offset()) +
                         " on that the source does not yield, after row " + std::to_string(rows) +
                         " of the file");
        }
      }
      file_->Drain();
      CheckPart(task_.files[index_], manifest_.entries[index_], *file_, parts_[index_]);
      file_.reset();
    }
    if (rows != task_.files[index_].rows) {
      parts_[index_].problems.emplace_back("the source yields " + Plural(rows, "row") +
                                           " for this file, the task records " +
                                           std::to_string(task_.files[index_].rows));
    }
    return Status::Ok();
  }

  // Checks the parts the source did not reach. Returns the verdicts of the parts the source
  // yields that the export lacks.
  std::vector<FileVerdict> Finish() {
    for (size_t i = reached_; i < task_.files.size(); ++i) {
      FileVerdict& verdict = parts_[i];
      verdict.problems.emplace_back("the source yields no rows for this file");
      NoteFirstDifference(task_.files[i].name + ": the source yields fewer rows than the export");
      std::unique_ptr<StoredFile> file = OpenStored(store_, task_, task_.files[i].name,
                                                    /*is_part=*/true, tools_, verdict.problems);
      if (file == nullptr) continue;
      file->Drain();
      CheckPart(task_.files[i], manifest_.entries[i], *file, verdict);
    }
    return std::move(extra_);
  }

  const std::optional<std::string>& first_difference() const { return first_difference_; }

 private:
  // Where the bytes of the current Write() come from. The header comes in the part's first
  // write, each row in a write of its own, what ends the file in a write that adds no row.
  Position Where() {
    Position where;
    where.row_in_file = formatter_->rows_in_part();
    where.row = rows_before_ + formatter_->rows();
    where.at_end = writes_ > 0 && where.row_in_file == last_rows_in_part_;
    last_rows_in_part_ = where.row_in_file;
    ++writes_;
    return where;
  }

  Status Diverged(const std::string& what) {
    diverged_ = true;
    parts_[index_].problems.push_back(what);
    NoteFirstDifference(task_.files[index_].name + " " + what);
    return Status::Ok();
  }

  void NoteFirstDifference(std::string what) {
    if (!first_difference_) first_difference_ = std::move(what);
  }

  const Task& task_;
  ObjectStore& store_;
  const VerifierTools& tools_;
  const ManifestCheck& manifest_;
  std::vector<FileVerdict>& parts_;
  const PartFormatter* formatter_ = nullptr;

  std::optional<SeriesPartition> series_;  // split_by partition: the series being regenerated
  size_t begun_ = 0;                       // parts regenerated so far
  int64_t rows_before_ = 0;                // rows of the formatters detached
  size_t index_ = 0;                       // of the part being regenerated
  bool extra_part_ = false;                // the part being regenerated is not one of the task's
  size_t reached_ = 0;                     // parts of the task the source has reached
  std::unique_ptr<StoredFile> file_;       // the stored part being compared; null if none
  bool diverged_ = false;                  // file_ differs already; the rest is only drained
  int writes_ = 0;
  int64_t last_rows_in_part_ = -1;
  std::vector<FileVerdict> extra_;
  std::optional<std::string> first_difference_;
};

// Formats the rows `query` yields as the export did, into `comparer`. `series`: a series of a
// split export, which has no file when it has no rows.
Status Regenerate(const Task& task, const SourceQuery& query, Source& source,
                  SourceComparer& comparer, bool series) {
  ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader, source.Read(query));
  // Flush threshold 0: the header and every row reach the comparer on their own.
  PartFormatter formatter(task.request, query.fields, comparer, /*flush_threshold=*/0);
  comparer.Attach(formatter);
  while (reader->Next()) RETURN_IF_ERROR(formatter.Append(reader->row()));
  const Status read = reader->status();
  if (!read.ok()) return read.WithContext("reading dataset '" + task.request.dataset + "'");
  const Status finished = series && formatter.rows() == 0 ? Status::Ok() : formatter.Finish();
  comparer.Detach();
  return finished;
}

}  // namespace

bool VerifyReport::ok() const {
  return !first_difference &&
         std::all_of(files.begin(), files.end(), [](const FileVerdict& f) { return f.ok(); });
}

Result<VerifyReport> VerifyExport(const Task& task, ObjectStore& store, const VerifySource* source,
                                  const VerifierTools& tools) {
  if (task.state != TaskState::kSucceeded) {
    return FailedPrecondition("task " + task.id + " is " + std::string(TaskStateName(task.state)) +
                              ", not Succeeded");
  }
  // A split export without rows has only its manifest; deleting files drops the manifest too.
  if (task.files.empty() && !(task.request.split_by && task.manifest)) {
    return FailedPrecondition("task " + task.id + " has no files (they were deleted)");
  }
  VerifyReport report;
  report.task_id = task.id;
  const ManifestCheck manifest = CheckManifest(task, store, tools);
  report.files.push_back(manifest.verdict);
  std::vector<FileVerdict> parts(task.files.size());
  for (size_t i = 0; i < parts.size(); ++i) parts[i].name = task.files[i].name;

  if (source == nullptr) {
    for (size_t i = 0; i < parts.size(); ++i) {
      std::unique_ptr<StoredFile> file =
          OpenStored(store, task, task.files[i].name, /*is_part=*/true, tools, parts[i].problems);
      if (file == nullptr) continue;
      file->Drain();
      CheckPart(task.files[i], manifest.entries[i], *file, parts[i]);
    }
    report.files.insert(report.files.end(), parts.begin(), parts.end());
    return report;
  }

  report.source_compared = true;
  ASSIGN_OR_RETURN(const SourceQuery query, ExportQuery(task, *source->dataset));
  RETURN_IF_ERROR(source->source->CheckSchema());
  SourceComparer comparer(task, store, tools, manifest, parts);
  if (task.request.split_by) {
    ASSIGN_OR_RETURN(const std::vector<SeriesPartition> series,
                     SplitSeries(query, *source->source));
    for (const SeriesPartition& partition : series) {
      comparer.SetSeries(partition);
      RETURN_IF_ERROR(
          Regenerate(task, SeriesQuery(query, partition), *source->source, comparer, true));
    }
  } else {
    RETURN_IF_ERROR(Regenerate(task, query, *source->source, comparer, false));
  }
  std::vector<FileVerdict> extra = comparer.Finish();
  report.files.insert(report.files.end(), parts.begin(), parts.end());
  report.files.insert(report.files.end(), extra.begin(), extra.end());
  report.first_difference = comparer.first_difference();
  return report;
}

}  // namespace exportd
