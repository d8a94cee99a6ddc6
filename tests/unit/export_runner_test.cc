#include "core/export_runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/canonical_json.h"
#include "core/task_metrics_json.h"
#include "core/time_format.h"
#include "storage/base/digest.h"
#include "storage/fs/local_object_store.h"
#include "tests/fakes/fake_source.h"
#include "tests/fakes/gunzip.h"

namespace exportd {
namespace {

using fakes::Gunzip;

namespace fs = std::filesystem;
using fakes::FakeRow;
using fakes::FakeSource;

// Records every progress report and committed file; returns `stop_with` from the
// `stop_at_call`th progress call on, and `before_commit` before each file is published.
class RecordingControl final : public ExportControl {
 public:
  Status OnProgress(const Progress& progress) override {
    calls.push_back(progress);
    if (stop_at_call > 0 && static_cast<int>(calls.size()) >= stop_at_call) return stop_with;
    return Status::Ok();
  }
  Status BeforeCommit() override { return before_commit; }
  Status OnFileCommitted(const FileInfo& file, const Checkpoint& next) override {
    committed.push_back(file);
    checkpoints.push_back(next);
    return Status::Ok();
  }

  // The task as the store would hold it after the last checkpoint: for a resumed run.
  Task Resumable(Task task) const {
    task.files = committed;
    if (!checkpoints.empty()) task.checkpoint = checkpoints.back();
    return task;
  }

  std::vector<Progress> calls;
  int stop_at_call = 0;  // 0: never stop
  Status stop_with = Cancelled("task was cancelled");
  Status before_commit;
  std::vector<FileInfo> committed;
  std::vector<Checkpoint> checkpoints;
};

std::string ReadFileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<FakeRow> MakeRows(int n) {
  std::vector<FakeRow> rows;
  for (int i = 1; i <= n; ++i) {
    rows.push_back({fakes::Num(std::to_string(i)),
                    fakes::Text("rock, \"" + std::to_string(i) + "\""),
                    i % 5 == 0 ? fakes::NullValue() : fakes::Num(std::to_string(i) + ".5")});
  }
  return rows;
}

std::string CsvRow(int i) {
  return std::to_string(i) + ",\"rock, \"\"" + std::to_string(i) + "\"\"\"," +
         (i % 5 == 0 ? "" : std::to_string(i) + ".5") + "\r\n";
}

class ExportRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "export_runner_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    root_ = base_ / "exports";
    store_ = std::make_unique<LocalObjectStore>(
        root_.string(), std::make_shared<UrlSigner>("secret"), "http://127.0.0.1:8080");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  static Task MakeTask(std::string id, Format format, int64_t max_rows,
                       Compression compression = Compression::kNone) {
    Task task;
    task.id = std::move(id);
    task.request.dataset = "samples";
    task.request.format = format;
    task.request.max_rows_per_file = max_rows;
    task.request.compression = compression;
    task.query_hash = Sha256Hex(CanonicalJson(task.request));
    return task;
  }

  Result<ExportOutcome> Run(const Task& task, FakeSource& source, RecordingControl& control,
                            TimePoint transaction_time = TimePoint{}) {
    return RunExport(task, *run_dataset_, source, *store_, control,
                     transaction_time == TimePoint{} ? kTransactionTime : transaction_time,
                     threads_);
  }

  std::vector<std::string> Entries(const std::string& task_id) const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root_ / task_id, ec)) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string FileBytes(const std::string& task_id, const std::string& name) const {
    return ReadFileBytes(root_ / task_id / name);
  }

  const TimePoint kTransactionTime = FromUnixMillis(1'763'761'778'123);
  const Dataset dataset_{DatasetSpec{.name = "samples", .key = "id"},
                         {Field{"id", FieldType::kInteger}, Field{"rock", FieldType::kText},
                          Field{"depth", FieldType::kReal}}};
  const std::vector<std::string> columns_ = {"id", "rock", "depth"};
  fs::path base_;
  fs::path root_;
  std::unique_ptr<LocalObjectStore> store_;
  int threads_ = 1;                         // RunExport's threads
  const Dataset* run_dataset_ = &dataset_;  // Run's dataset
};

TEST_F(ExportRunnerTest, ExactlyMaxRowsGiveOneFile) {
  FakeSource source(columns_, MakeRows(3));
  RecordingControl control;
  Result<ExportOutcome> outcome = Run(MakeTask("t1", Format::kCsv, 3), source, control);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_EQ(outcome->files.size(), 1u);
  EXPECT_EQ(outcome->files[0].name, "part-00001.csv");
  EXPECT_EQ(outcome->files[0].rows, 3);
  EXPECT_EQ(FileBytes("t1", "part-00001.csv"),
            "id,rock,depth\r\n" + CsvRow(1) + CsvRow(2) + CsvRow(3));
  EXPECT_EQ(Entries("t1"), (std::vector<std::string>{"manifest.json", "part-00001.csv"}));
}

TEST_F(ExportRunnerTest, OneRowMoreRollsOverWithAHeaderInEachFile) {
  FakeSource source(columns_, MakeRows(7));
  RecordingControl control;
  Result<ExportOutcome> outcome = Run(MakeTask("t1", Format::kCsv, 3), source, control);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_EQ(outcome->files.size(), 3u);
  const std::string header = "id,rock,depth\r\n";
  EXPECT_EQ(FileBytes("t1", "part-00001.csv"), header + CsvRow(1) + CsvRow(2) + CsvRow(3));
  EXPECT_EQ(FileBytes("t1", "part-00002.csv"), header + CsvRow(4) + CsvRow(5) + CsvRow(6));
  EXPECT_EQ(FileBytes("t1", "part-00003.csv"), header + CsvRow(7));
  EXPECT_EQ(outcome->files[0].rows, 3);
  EXPECT_EQ(outcome->files[1].rows, 3);
  EXPECT_EQ(outcome->files[2].rows, 1);
  for (const FileInfo& f : outcome->files) {
    EXPECT_EQ(f.content_type, FormatContentType(Format::kCsv));
    EXPECT_EQ(f.bytes, static_cast<int64_t>(FileBytes("t1", f.name).size()));
  }

  FakeSource four(columns_, MakeRows(4));
  outcome = Run(MakeTask("t2", Format::kCsv, 3), four, control);
  ASSERT_TRUE(outcome.ok());
  ASSERT_EQ(outcome->files.size(), 2u);
  EXPECT_EQ(outcome->files[1].rows, 1);
}

TEST_F(ExportRunnerTest, ZeroRowsGiveOneEmptyFileInEveryFormat) {
  const struct {
    Format format;
    const char* name;
    const char* content;
  } cases[] = {{Format::kCsv, "part-00001.csv", "id,rock,depth\r\n"},
               {Format::kTsv, "part-00001.tsv", "id\trock\tdepth\n"},
               {Format::kJson, "part-00001.json", "[]\n"},
               {Format::kNdjson, "part-00001.ndjson", ""}};
  int n = 0;
  for (const auto& c : cases) {
    const std::string id = "t" + std::to_string(++n);
    FakeSource source(columns_, {});
    RecordingControl control;
    Result<ExportOutcome> outcome = Run(MakeTask(id, c.format, 10), source, control);
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    ASSERT_EQ(outcome->files.size(), 1u) << c.name;
    EXPECT_EQ(outcome->files[0].name, c.name);
    EXPECT_EQ(outcome->files[0].rows, 0);
    EXPECT_EQ(FileBytes(id, c.name), c.content);
  }
}

TEST_F(ExportRunnerTest, JsonAndNdjsonFilesParseBack) {
  FakeSource source(columns_, MakeRows(5));
  RecordingControl control;
  Result<ExportOutcome> json = Run(MakeTask("t1", Format::kJson, 2), source, control);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  ASSERT_EQ(json->files.size(), 3u);
  int next_id = 1;
  for (const FileInfo& f : json->files) {
    const auto parsed = nlohmann::json::parse(FileBytes("t1", f.name));
    ASSERT_TRUE(parsed.is_array());
    EXPECT_EQ(static_cast<int64_t>(parsed.size()), f.rows);
    for (const auto& row : parsed) EXPECT_EQ(row["id"], next_id++);
  }
  EXPECT_TRUE(nlohmann::json::parse(FileBytes("t1", "part-00003.json"))[0]["depth"].is_null());

  Result<ExportOutcome> ndjson = Run(MakeTask("t2", Format::kNdjson, 4), source, control);
  ASSERT_TRUE(ndjson.ok());
  std::istringstream lines(FileBytes("t2", "part-00001.ndjson"));
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    EXPECT_EQ(nlohmann::json::parse(line)["rock"], "rock, \"" + std::to_string(++count) + "\"");
  }
  EXPECT_EQ(count, 4);
}

TEST_F(ExportRunnerTest, GzipFilesDecompressToTheUncompressedExport) {
  FakeSource source(columns_, MakeRows(2500));
  RecordingControl control;
  Result<ExportOutcome> plain = Run(MakeTask("plain", Format::kCsv, 1000), source, control);
  Result<ExportOutcome> gzip =
      Run(MakeTask("gzip", Format::kCsv, 1000, Compression::kGzip), source, control);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ASSERT_TRUE(gzip.ok()) << gzip.status().ToString();
  ASSERT_EQ(gzip->files.size(), 3u);
  ASSERT_EQ(plain->files.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(gzip->files[i].name, plain->files[i].name + ".gz");
    EXPECT_EQ(gzip->files[i].rows, plain->files[i].rows);
    const std::string stored = FileBytes("gzip", gzip->files[i].name);
    EXPECT_EQ(gzip->files[i].bytes, static_cast<int64_t>(stored.size()));
    EXPECT_EQ(gzip->files[i].sha256, Sha256Hex(stored));
    EXPECT_EQ(Gunzip(stored), FileBytes("plain", plain->files[i].name));
  }
}

TEST_F(ExportRunnerTest, ManifestDescribesTheFilesOnDisk) {
  FakeSource source(columns_, MakeRows(5));
  RecordingControl control;
  Task task = MakeTask("t1", Format::kCsv, 2, Compression::kGzip);
  task.request.partitions = {"b", "a"};
  Result<ExportOutcome> outcome = Run(task, source, control);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();

  const std::string manifest_text = FileBytes("t1", "manifest.json");
  EXPECT_EQ(outcome->manifest.name, "manifest.json");
  EXPECT_EQ(outcome->manifest.sha256, Sha256Hex(manifest_text));
  EXPECT_EQ(outcome->manifest.bytes, static_cast<int64_t>(manifest_text.size()));
  EXPECT_EQ(outcome->manifest.content_type, "application/json");

  const auto manifest = nlohmann::json::parse(manifest_text);
  ExportRequest canonical = task.request;
  Canonicalize(canonical);
  EXPECT_EQ(manifest["task_id"], "t1");
  EXPECT_EQ(manifest["request"], nlohmann::json::parse(CanonicalJson(canonical)));
  EXPECT_EQ(manifest["query_hash"], task.query_hash);
  EXPECT_EQ(manifest["transaction_time"], FormatRfc3339(kTransactionTime));
  EXPECT_EQ(manifest["rows"], 5);
  ASSERT_EQ(manifest["files"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const auto& entry = manifest["files"][i];
    const FileInfo& f = outcome->files[i];
    EXPECT_EQ(entry["name"], f.name);
    EXPECT_EQ(entry["rows"], f.rows);
    EXPECT_EQ(entry["bytes"], f.bytes);
    EXPECT_EQ(entry["content_type"], f.content_type);
    const std::string on_disk = FileBytes("t1", f.name);
    EXPECT_EQ(entry["sha256"], Sha256Hex(on_disk));
    EXPECT_EQ(entry["bytes"], on_disk.size());
  }
}

// The window and metrics of recurring exports are in the manifest when the task has them, and
// absent otherwise (the manifest of every other export stays as it was).
TEST_F(ExportRunnerTest, ManifestCarriesTheTasksWindowAndMetricsWhenSet) {
  FakeSource plain_source(columns_, MakeRows(2));
  RecordingControl plain_control;
  ASSERT_TRUE(Run(MakeTask("plain", Format::kCsv, 10), plain_source, plain_control).ok());
  const auto plain = nlohmann::json::parse(FileBytes("plain", "manifest.json"));
  EXPECT_FALSE(plain.contains("window"));
  // Every finished export has metrics: the export counts them itself.
  EXPECT_EQ(plain["metrics"]["excluded_rows"], 0);
  EXPECT_FALSE(plain["files"][0].contains("partition"));

  FakeSource source(columns_, MakeRows(2));
  RecordingControl control;
  Task task = MakeTask("t1", Format::kCsv, 10);
  task.window =
      TaskWindow{FromUnixMillis(2000), {PartitionWindow{"p1", std::nullopt, FromUnixMillis(2000)}}};
  auto outcome = Run(task, source, control);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  const auto manifest = nlohmann::json::parse(FileBytes("t1", "manifest.json"));
  EXPECT_EQ(manifest["window"], nlohmann::json::parse(TaskWindowJson(*task.window)));
  EXPECT_EQ(manifest["metrics"], nlohmann::json::parse(TaskMetricsJson(outcome->metrics)));
}

TEST_F(ExportRunnerTest, BuildsTheQueryFromTheRequest) {
  FakeSource source(columns_, MakeRows(2));
  RecordingControl control;
  Task task = MakeTask("t1", Format::kCsv, 10);
  task.request.fields = {"depth", "id"};
  task.request.filter = {Condition{"rock", FilterOp::kPrefix, {std::string("bas")}}};
  task.request.since = FromUnixMillis(1000);
  task.request.until = FromUnixMillis(2000);
  task.request.partitions = {"p1"};
  ASSERT_TRUE(Run(task, source, control).ok());
  ASSERT_TRUE(source.last_query().has_value());
  const SourceQuery& query = *source.last_query();
  EXPECT_EQ(query.fields, (std::vector<std::string>{"depth", "id"}));
  EXPECT_EQ(query.filter, task.request.filter);
  EXPECT_EQ(query.since, task.request.since);
  EXPECT_EQ(query.until, task.request.until);
  EXPECT_EQ(query.partitions, task.request.partitions);
  EXPECT_FALSE(query.after_key.has_value());
  EXPECT_EQ(FileBytes("t1", "part-00001.csv"), "depth,id\r\n1.5,1\r\n2.5,2\r\n");
}

TEST(ResolveFieldsTest, EmptyMeansEveryDatasetFieldInOrder) {
  const Dataset dataset(DatasetSpec{.name = "d"},
                        {Field{"b", FieldType::kText}, Field{"a", FieldType::kText}});
  ExportRequest request;
  EXPECT_EQ(ResolveFields(request, dataset), (std::vector<std::string>{"b", "a"}));
  request.fields = {"a"};
  EXPECT_EQ(ResolveFields(request, dataset), (std::vector<std::string>{"a"}));
}

TEST_F(ExportRunnerTest, ReportsProgress) {
  FakeSource source(columns_, MakeRows(1000));
  RecordingControl control;
  Result<ExportOutcome> outcome = Run(MakeTask("t1", Format::kCsv, 600), source, control);
  ASSERT_TRUE(outcome.ok());
  ASSERT_FALSE(control.calls.empty());
  EXPECT_EQ(control.calls.front().rows, 0);
  for (const Progress& p : control.calls) EXPECT_EQ(p.rows_total, 1000);
  std::vector<int64_t> rows;
  for (const Progress& p : control.calls) rows.push_back(p.rows);
  // The count, every 256 rows, and each commit (600 and 1000).
  EXPECT_EQ(rows, (std::vector<int64_t>{0, 256, 512, 600, 768, 1000}));
  for (size_t i = 1; i < control.calls.size(); ++i) {
    EXPECT_GE(control.calls[i].bytes, control.calls[i - 1].bytes);
  }
  EXPECT_EQ(control.calls.back().bytes, outcome->files[0].bytes + outcome->files[1].bytes);
}

TEST_F(ExportRunnerTest, CancelFromProgressStopsAtOnce) {
  FakeSource source(columns_, MakeRows(1000));
  RecordingControl control;
  control.stop_at_call = 3;  // count (0), 256 rows, then the commit of file 1 at 300 rows
  Result<ExportOutcome> outcome = Run(MakeTask("t1", Format::kCsv, 300), source, control);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(control.calls.size(), 3u);
  EXPECT_EQ(control.calls.back().rows, 300);
  // The committed file stays; nothing else (no second file, no manifest, no temporary file).
  EXPECT_EQ(Entries("t1"), std::vector<std::string>{"part-00001.csv"});
}

TEST_F(ExportRunnerTest, CancelMidFileDiscardsThePartialFile) {
  FakeSource source(columns_, MakeRows(1000));
  RecordingControl control;
  control.stop_at_call = 2;  // at 256 rows, inside file 1
  control.stop_with = Aborted("shutting down");
  Result<ExportOutcome> outcome = Run(MakeTask("t1", Format::kCsv, 300), source, control);
  EXPECT_EQ(outcome.status().code(), StatusCode::kAborted);
  EXPECT_TRUE(Entries("t1").empty());
}

TEST_F(ExportRunnerTest, CancelBeforeReadingReadsNothing) {
  FakeSource source(columns_, MakeRows(10));
  RecordingControl control;
  control.stop_at_call = 1;
  EXPECT_EQ(Run(MakeTask("t1", Format::kCsv, 5), source, control).status().code(),
            StatusCode::kCancelled);
  EXPECT_EQ(source.reads(), 0);
  EXPECT_TRUE(Entries("t1").empty());
}

TEST_F(ExportRunnerTest, SourceFailureMidStreamIsReturnedAsIs) {
  FakeSource source(columns_, MakeRows(10));
  source.FailAtRow(5, Unavailable("database is locked"));
  RecordingControl control;
  Result<ExportOutcome> outcome = Run(MakeTask("t1", Format::kCsv, 3), source, control);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(outcome.status().message(), "database is locked");
  // File 1 (rows 1-3) was committed; file 2 (row 4) was not; there is no manifest.
  EXPECT_EQ(Entries("t1"), std::vector<std::string>{"part-00001.csv"});
}

TEST_F(ExportRunnerTest, CountAndReadFailuresAreReturned) {
  RecordingControl control;
  FakeSource count_fails(columns_, MakeRows(1));
  count_fails.FailCount(FailedPrecondition("no such table"));
  EXPECT_EQ(Run(MakeTask("t1", Format::kCsv, 5), count_fails, control).status().code(),
            StatusCode::kFailedPrecondition);
  FakeSource read_fails(columns_, MakeRows(1));
  read_fails.FailRead(Unavailable("busy"));
  EXPECT_EQ(Run(MakeTask("t2", Format::kCsv, 5), read_fails, control).status().code(),
            StatusCode::kUnavailable);
  EXPECT_TRUE(Entries("t1").empty());
  EXPECT_TRUE(Entries("t2").empty());
}

TEST_F(ExportRunnerTest, LargeExportCrossesTheFlushThreshold) {
  std::vector<FakeRow> rows;
  const std::string wide(1000, 'w');
  for (int i = 1; i <= 12000; ++i)
    rows.push_back({fakes::Num(std::to_string(i)), fakes::Text(wide), fakes::NullValue()});
  FakeSource source(columns_, std::move(rows));
  RecordingControl control;
  Result<ExportOutcome> outcome = Run(MakeTask("t1", Format::kTsv, 10000), source, control);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_EQ(outcome->files.size(), 2u);
  const std::string first = FileBytes("t1", "part-00001.tsv");
  EXPECT_EQ(std::count(first.begin(), first.end(), '\n'), 10001);
  EXPECT_EQ(outcome->files[0].sha256, Sha256Hex(first));
  EXPECT_GT(first.size(), size_t{8} << 20);
}

// Every file of the task's directory with its bytes.
std::map<std::string, std::string> AllFiles(const fs::path& dir) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    files[e.path().filename().string()] = ReadFileBytes(e.path());
  }
  return files;
}

TEST_F(ExportRunnerTest, EachCommittedFileReportsWhereTheNextStarts) {
  FakeSource source(columns_, MakeRows(7));
  RecordingControl control;
  Result<ExportOutcome> outcome = Run(MakeTask("t1", Format::kCsv, 3), source, control);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(control.committed, outcome->files);
  ASSERT_EQ(control.checkpoints.size(), 3u);
  const int64_t after_keys[] = {3, 6, 7};
  int64_t bytes = 0;
  for (size_t i = 0; i < 3; ++i) {
    const Checkpoint& c = control.checkpoints[i];
    bytes += outcome->files[i].bytes;
    EXPECT_EQ(c.after_key, FilterValue{after_keys[i]}) << i;
    EXPECT_EQ(c.next_file, static_cast<int>(i) + 2);
    EXPECT_EQ(c.rows, after_keys[i]);
    EXPECT_EQ(c.bytes, bytes);
    EXPECT_EQ(c.rows_total, 7);
    EXPECT_EQ(c.transaction_time, kTransactionTime);
  }
}

// The heart of resume: an export that fails mid-file and resumes from its last checkpoint ends
// with exactly the bytes of an uninterrupted run (same files, boundaries and manifest).
// The failed and resumed attempts run on one thread, then on three (core/parallel_rows.h): the
// files are those of a clean run on one thread either way.
TEST_F(ExportRunnerTest, ResumeAfterATransientFailureIsByteIdenticalToACleanRun) {
  for (Compression compression : {Compression::kNone, Compression::kGzip}) {
    for (Format format : {Format::kCsv, Format::kJson}) {
      for (int threads : {1, 3}) {
        SCOPED_TRACE("threads " + std::to_string(threads));
        TearDown();  // a fresh root for each case
        SetUp();
        const Task task = MakeTask("t1", format, 100, compression);
        FakeSource clean_source(columns_, MakeRows(1000));
        RecordingControl clean_control;
        ASSERT_TRUE(Run(task, clean_source, clean_control).ok());
        const std::map<std::string, std::string> clean = AllFiles(root_ / "t1");
        ASSERT_EQ(clean.size(), 11u);
        fs::remove_all(root_ / "t1");
        threads_ = threads;

        // Attempt 1 dies at row 450: files 1-4 are committed, file 5 is not.
        FakeSource failing(columns_, MakeRows(1000));
        failing.FailAtRow(450, Unavailable("database is locked"));
        RecordingControl first;
        Result<ExportOutcome> failed = Run(task, failing, first);
        ASSERT_EQ(failed.status().code(), StatusCode::kUnavailable);
        ASSERT_EQ(first.committed.size(), 4u);
        EXPECT_EQ(first.checkpoints.back().after_key, FilterValue{int64_t{400}});

        // Attempt 2 (later, from the checkpoint) reads only the rows after it.
        FakeSource rest(columns_, MakeRows(1000));
        RecordingControl second;
        const Task resumable = first.Resumable(task);
        Result<ExportOutcome> resumed =
            Run(resumable, rest, second, kTransactionTime + std::chrono::hours(1));
        ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
        ASSERT_TRUE(rest.last_query().has_value());
        EXPECT_EQ(rest.last_query()->after_key, FilterValue{int64_t{400}});
        EXPECT_EQ(second.committed.size(), 6u);
        EXPECT_EQ(second.committed.front().name.substr(0, 10), "part-00005");
        ASSERT_FALSE(second.calls.empty());
        EXPECT_EQ(second.calls.front().rows, 400);  // progress continues
        EXPECT_EQ(second.calls.front().rows_total, 1000);
        EXPECT_EQ(resumed->files, clean_control.committed);
        EXPECT_EQ(AllFiles(root_ / "t1"), clean);  // manifest included
        threads_ = 1;
      }
    }
  }
}

TEST_F(ExportRunnerTest, ResumingAfterTheLastFileWritesOnlyTheManifest) {
  for (int rows : {0, 6}) {
    const std::string id = "t" + std::to_string(rows);
    const Task task = MakeTask(id, Format::kCsv, 3);
    FakeSource source(columns_, MakeRows(rows));
    RecordingControl first;
    ASSERT_TRUE(Run(task, source, first).ok());
    const std::map<std::string, std::string> clean = AllFiles(root_ / id);
    fs::remove(root_ / id / "manifest.json");
    RecordingControl second;
    Result<ExportOutcome> resumed = Run(first.Resumable(task), source, second);
    ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
    EXPECT_TRUE(second.committed.empty());
    EXPECT_EQ(resumed->files, first.committed);
    EXPECT_EQ(AllFiles(root_ / id), clean);
  }
}

TEST_F(ExportRunnerTest, RefusedCommitPublishesNothing) {
  FakeSource source(columns_, MakeRows(10));
  RecordingControl control;
  control.before_commit = Aborted("lease lost");
  Result<ExportOutcome> outcome = Run(MakeTask("t1", Format::kCsv, 3), source, control);
  EXPECT_EQ(outcome.status().code(), StatusCode::kAborted);
  EXPECT_TRUE(control.committed.empty());
  EXPECT_TRUE(Entries("t1").empty());  // not even a temporary file
}

// Rows 1..n like MakeRows, but row `formula_row`'s rock is a formula (and every rock in row 3k
// is a signed number as text, which is data).
std::vector<FakeRow> RowsWithFormulaAt(int n, int formula_row) {
  std::vector<FakeRow> rows = MakeRows(n);
  for (int i = 1; i <= n; ++i) {
    if (i % 3 == 0)
      rows[static_cast<size_t>(i - 1)][1] = fakes::Text("-" + std::to_string(i) + ".5");
  }
  rows[static_cast<size_t>(formula_row - 1)][1] = fakes::Text("=1+2");
  return rows;
}

nlohmann::json Manifest(const std::string& bytes) { return nlohmann::json::parse(bytes); }

// Formulas only in file 1; the export fails in file 3 and resumes: the flags of files 1-2 come
// from the checkpointed files, so the outcome and manifest still report the formula.
TEST_F(ExportRunnerTest, FormulaFlagsArePerFileAndSurviveAResume) {
  for (bool escape : {false, true}) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE("threads " + std::to_string(threads));
      TearDown();
      SetUp();
      threads_ = threads;
      Task task = MakeTask("t1", Format::kCsv, 3);
      task.request.escape_formulas = escape;
      FakeSource failing(columns_, RowsWithFormulaAt(10, 2));
      failing.FailAtRow(8, Unavailable("database is locked"));
      RecordingControl first;
      ASSERT_EQ(Run(task, failing, first).status().code(), StatusCode::kUnavailable);
      ASSERT_EQ(first.committed.size(), 2u);
      EXPECT_EQ(first.committed[0].contains_formulas, true);
      EXPECT_EQ(first.committed[1].contains_formulas, false);

      FakeSource rest(columns_, RowsWithFormulaAt(10, 2));
      RecordingControl second;
      Result<ExportOutcome> resumed = Run(first.Resumable(task), rest, second);
      ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
      ASSERT_EQ(resumed->files.size(), 4u);
      const std::optional<bool> expected[] = {true, false, false, false};
      for (size_t f = 0; f < 4; ++f)
        EXPECT_EQ(resumed->files[f].contains_formulas, expected[f]) << f;
      EXPECT_EQ(AnyContainsFormulas(resumed->files), true);

      const nlohmann::json manifest = Manifest(FileBytes("t1", "manifest.json"));
      EXPECT_EQ(manifest["csv_contains_formulas"], true) << manifest.dump();
      EXPECT_EQ(manifest["files"][0]["contains_formulas"], true);
      EXPECT_EQ(manifest["files"][3]["contains_formulas"], false);
      EXPECT_EQ(manifest["request"].value("escape_formulas", false), escape);

      const std::string file1 = FileBytes("t1", "part-00001.csv");
      EXPECT_NE(file1.find(escape ? "\r\n2,'=1+2,2.5\r\n" : "\r\n2,=1+2,2.5\r\n"),
                std::string::npos)
          << file1;
      EXPECT_NE(file1.find("\r\n3,-3.5,3.5\r\n"), std::string::npos) << "numbers stay: " << file1;
    }
  }
}

TEST_F(ExportRunnerTest, NoFormulasIsFalseAndJsonFormatsAreNotChecked) {
  FakeSource source(columns_, MakeRows(5));
  RecordingControl control;
  Result<ExportOutcome> csv = Run(MakeTask("csv", Format::kCsv, 3), source, control);
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  for (const FileInfo& f : csv->files) EXPECT_EQ(f.contains_formulas, false) << f.name;
  EXPECT_EQ(Manifest(FileBytes("csv", "manifest.json"))["csv_contains_formulas"], false);

  for (Format format : {Format::kJson, Format::kNdjson}) {
    const std::string id = std::string(FormatName(format));
    FakeSource formulas(columns_, RowsWithFormulaAt(5, 1));
    RecordingControl json_control;
    Task task = MakeTask(id, format, 3);
    task.request.escape_formulas = true;  // ignored: not a spreadsheet format
    Result<ExportOutcome> outcome = Run(task, formulas, json_control);
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    for (const FileInfo& f : outcome->files) EXPECT_EQ(f.contains_formulas, std::nullopt);
    EXPECT_EQ(AnyContainsFormulas(outcome->files), std::nullopt);
    const nlohmann::json manifest = Manifest(FileBytes(id, "manifest.json"));
    EXPECT_FALSE(manifest.contains("csv_contains_formulas")) << manifest.dump();
    EXPECT_FALSE(manifest["files"][0].contains("contains_formulas"));
    EXPECT_NE(FileBytes(id, "part-00001." + id).find("\"=1+2\""), std::string::npos)
        << "written as is";
  }
}

// split_by partition: rows 1..12 in partitions "a" (1, 4, 7, 10), "b/x" (3, 6, 9, 12) and NULL
// (2, 5, 8, 11).
class SplitExportTest : public ExportRunnerTest {
 protected:
  SplitExportTest() { run_dataset_ = &split_dataset_; }
  static std::vector<FakeRow> SplitRows() {
    std::vector<FakeRow> rows;
    for (int i = 1; i <= 12; ++i) {
      const fakes::FakeValue region = i % 3 == 1   ? fakes::Text("a")
                                      : i % 3 == 0 ? fakes::Text("b/x")
                                                   : fakes::NullValue();
      rows.push_back({fakes::Num(std::to_string(i)), region});
    }
    return rows;
  }
  FakeSource MakeSource() const {
    FakeSource source(split_columns_, SplitRows());
    source.SetPartitionColumn(1);
    return source;
  }
  Task SplitTask(int64_t max_rows) const {
    Task task = MakeTask("t1", Format::kCsv, max_rows);
    task.request.split_by = SplitBy::kPartition;
    task.query_hash = Sha256Hex(CanonicalJson(task.request));
    return task;
  }
  // Every file under the task's directory, sub-directories included, by object name.
  std::map<std::string, std::string> Tree() const {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(root_ / "t1")) {
      if (e.is_regular_file()) {
        files[fs::relative(e.path(), root_ / "t1").string()] = ReadFileBytes(e.path());
      }
    }
    return files;
  }

  const Dataset split_dataset_{
      DatasetSpec{.name = "samples", .key = "id", .partition_field = "region"},
      {Field{"id", FieldType::kInteger}, Field{"region", FieldType::kText}}};
  const std::vector<std::string> split_columns_ = {"id", "region"};
};

TEST_F(SplitExportTest, OneSeriesPerPartitionEachWithItsOwnRollover) {
  FakeSource source = MakeSource();
  RecordingControl control;
  Result<ExportOutcome> outcome = Run(SplitTask(3), source, control);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  std::vector<std::string> names;
  for (const FileInfo& f : outcome->files) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a/part-00001.csv", "a/part-00002.csv",
                                             "b~2Fx/part-00001.csv", "b~2Fx/part-00002.csv",
                                             "~NULL/part-00001.csv", "~NULL/part-00002.csv"}));
  EXPECT_EQ(outcome->files[0].partition, std::optional<std::string>("a"));
  EXPECT_EQ(outcome->files[3].partition, std::optional<std::string>("b/x"));
  EXPECT_EQ(outcome->files[5].partition, std::nullopt);
  EXPECT_EQ(outcome->files[0].rows, 3);
  EXPECT_EQ(outcome->files[1].rows, 1);
  EXPECT_EQ(FileBytes("t1", "a/part-00001.csv"), "id,region\r\n1,a\r\n4,a\r\n7,a\r\n");
  EXPECT_EQ(FileBytes("t1", "b~2Fx/part-00002.csv"), "id,region\r\n12,b/x\r\n");
  EXPECT_EQ(FileBytes("t1", "~NULL/part-00001.csv"), "id,region\r\n2,\r\n5,\r\n8,\r\n");
  // The checkpoint after each file names its series and the row it ends with.
  ASSERT_EQ(control.checkpoints.size(), 6u);
  EXPECT_EQ(control.checkpoints[2].series, (SeriesCheckpoint{.partition = "b/x", .next_file = 2}));
  EXPECT_EQ(control.checkpoints[2].after_key, FilterValue{int64_t{9}});
  EXPECT_EQ(control.checkpoints[2].next_file, 4);
  EXPECT_EQ(control.checkpoints[5].rows, 12);
  const std::string manifest = FileBytes("t1", std::string(kManifestName));
  EXPECT_NE(manifest.find("\"name\":\"b~2Fx/part-00001.csv\",\"rows\":3"), std::string::npos);
  EXPECT_NE(manifest.find("\"partition\":\"b/x\""), std::string::npos);
}

TEST_F(SplitExportTest, RowsFormattedOnSeveralThreadsGiveTheSameFiles) {
  FakeSource source = MakeSource();
  RecordingControl control;
  ASSERT_TRUE(Run(SplitTask(3), source, control).ok());
  const std::map<std::string, std::string> one_thread = Tree();
  fs::remove_all(root_ / "t1");
  threads_ = 3;
  FakeSource again = MakeSource();
  RecordingControl parallel;
  ASSERT_TRUE(Run(SplitTask(3), again, parallel).ok());
  EXPECT_EQ(Tree(), one_thread);
  EXPECT_EQ(parallel.committed, control.committed);
}

TEST_F(SplitExportTest, RequestPartitionsLimitTheSeriesAndEmptyOnesHaveNoFile) {
  FakeSource source = MakeSource();
  RecordingControl control;
  Task task = SplitTask(10);
  task.request.partitions = {"none", "b/x"};
  Result<ExportOutcome> outcome = Run(task, source, control);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_EQ(outcome->files.size(), 1u);
  EXPECT_EQ(outcome->files[0].name, "b~2Fx/part-00001.csv");
  EXPECT_EQ(outcome->files[0].rows, 4);
}

TEST_F(SplitExportTest, ResumesInTheMiddleOfTheSecondSeriesAsACleanRunWould) {
  FakeSource clean_source = MakeSource();
  RecordingControl clean_control;
  ASSERT_TRUE(Run(SplitTask(2), clean_source, clean_control).ok());
  const std::map<std::string, std::string> clean = Tree();
  ASSERT_EQ(clean.size(), 7u);  // six parts and the manifest
  fs::remove_all(root_ / "t1");

  // Row 9 opens "b/x"'s second file: a/1, a/2 and b~2Fx/1 are committed.
  FakeSource failing = MakeSource();
  failing.FailAtRow(9, Unavailable("database is locked"));
  RecordingControl first;
  ASSERT_EQ(Run(SplitTask(2), failing, first).status().code(), StatusCode::kUnavailable);
  ASSERT_EQ(first.committed.size(), 3u);
  EXPECT_EQ(first.checkpoints.back().series,
            (SeriesCheckpoint{.partition = "b/x", .next_file = 2}));
  EXPECT_EQ(first.checkpoints.back().after_key, FilterValue{int64_t{6}});

  FakeSource rest = MakeSource();
  RecordingControl second;
  Result<ExportOutcome> resumed =
      Run(first.Resumable(SplitTask(2)), rest, second, kTransactionTime + std::chrono::hours(1));
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  std::vector<std::string> written;
  for (const FileInfo& f : second.committed) written.push_back(f.name);
  EXPECT_EQ(written, (std::vector<std::string>{"b~2Fx/part-00002.csv", "~NULL/part-00001.csv",
                                               "~NULL/part-00002.csv"}));
  EXPECT_EQ(resumed->files, clean_control.committed);
  EXPECT_EQ(Tree(), clean);  // manifest included
}

TEST_F(SplitExportTest, ResumingAfterTheLastFileOfASeriesStartsTheNextOne) {
  FakeSource clean_source = MakeSource();
  RecordingControl clean_control;
  ASSERT_TRUE(Run(SplitTask(4), clean_source, clean_control).ok());
  ASSERT_EQ(clean_control.committed.size(), 3u);
  // As if the attempt had stopped right after "a"'s only file.
  RecordingControl first;
  first.committed = {clean_control.committed[0]};
  first.checkpoints = {clean_control.checkpoints[0]};
  FakeSource rest = MakeSource();
  RecordingControl second;
  Result<ExportOutcome> resumed = Run(first.Resumable(SplitTask(4)), rest, second);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->files, clean_control.committed);
  ASSERT_EQ(second.committed.size(), 2u);
  EXPECT_EQ(second.committed[0].name, "b~2Fx/part-00001.csv");
}

TEST_F(SplitExportTest, ACheckpointWithoutASeriesIsRefused) {
  FakeSource clean_source = MakeSource();
  RecordingControl control;
  ASSERT_TRUE(Run(SplitTask(4), clean_source, control).ok());
  control.committed.resize(1);
  control.checkpoints.resize(1);
  control.checkpoints[0].series.reset();
  FakeSource rest = MakeSource();
  RecordingControl second;
  EXPECT_EQ(Run(control.Resumable(SplitTask(4)), rest, second).status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace exportd
