#include "server/verify.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/canonical_json.h"
#include "core/export_runner.h"
#include "core/formats/row_counter.h"
#include "core/time_format.h"
#include "storage/base/digest.h"
#include "storage/fs/local_object_store.h"
#include "storage/fs/url_signer.h"
#include "storage/sqlite/sqlite_task_store.h"
#include "tests/fakes/fake_source.h"
#include "tests/fakes/verify_problems.h"

namespace exportd {
namespace {

namespace fs = std::filesystem;
using fakes::FakeRow;
using fakes::FakeSource;
using fakes::Problems;

// ---- RowCounter -------------------------------------------------------------------------------

int64_t CountRows(Format format, const std::string& text, size_t piece) {
  std::unique_ptr<RowCounter> counter = MakeRowCounter(format);
  for (size_t i = 0; i < text.size(); i += piece) counter->Feed(text.substr(i, piece));
  return counter->rows();
}

void ExpectRows(Format format, const std::string& text, int64_t rows) {
  for (size_t piece : {size_t{1}, size_t{2}, size_t{7}, text.size() + 1}) {
    EXPECT_EQ(CountRows(format, text, piece), rows)
        << FormatName(format) << " in pieces of " << piece << ": " << text;
  }
}

TEST(RowCounterTest, CsvHonoursQuotesAndCrlf) {
  ExpectRows(Format::kCsv, "a,b\r\n", 0);
  ExpectRows(Format::kCsv, "a,b\r\n1,2\r\n", 1);
  ExpectRows(Format::kCsv, "a,b\r\n\"x\r\ny\",\"say \"\"hi\"\"\"\r\n,\r\n\"\"\r\n", 3);
  ExpectRows(Format::kCsv, "a\r\n\"\n\n\"\r\n", 1);
  ExpectRows(Format::kCsv, "a,b\r\n1,2", 1);  // no line break after the last record
  ExpectRows(Format::kCsv, "a\r\n\r\n", 1);   // one NULL field is an empty record
}

TEST(RowCounterTest, TsvNdjsonAndJson) {
  ExpectRows(Format::kTsv, "a\tb\n", 0);
  ExpectRows(Format::kTsv, "a\tb\nx\\ty\t\\n\n\t\n", 2);
  ExpectRows(Format::kNdjson, "", 0);
  ExpectRows(Format::kNdjson, "{\"a\":\"x\\ny\"}\n{\"a\":null}\n", 2);
  ExpectRows(Format::kJson, "[]\n", 0);
  ExpectRows(Format::kJson, "[\n{\"a\":\"],[{\\\"\"},\n{\"b\":[1,{\"c\":2}]}\n]\n", 2);
  ExpectRows(Format::kJson, "[1, \"x\", null]", 3);
}

// ---- VerifyExport -----------------------------------------------------------------------------

std::vector<FakeRow> MakeRows(int n) {
  std::vector<FakeRow> rows;
  for (int i = 1; i <= n; ++i) {
    rows.push_back({fakes::Num(std::to_string(i)),
                    fakes::Text("rock, \"" + std::to_string(i) + "\"\r\nline\tend"),
                    i % 5 == 0 ? fakes::NullValue() : fakes::Num(std::to_string(i) + ".5")});
  }
  return rows;
}

class NoControl final : public ExportControl {
 public:
  Status OnProgress(const Progress&) override { return Status::Ok(); }
  Status BeforeCommit() override { return Status::Ok(); }
  Status OnFileCommitted(const FileInfo&, const Checkpoint&) override { return Status::Ok(); }
};

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "verify_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    config_.data_dir = base_.string();
    // The fixture writes plaintext through a bare LocalObjectStore: so must VerifyCommand read.
    config_.encryption.enabled = false;
    Result<std::unique_ptr<SqliteTaskStore>> tasks =
        SqliteTaskStore::Open((base_ / "exportd.db").string());
    ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
    tasks_ = std::move(tasks).value();
    objects_ = std::make_unique<LocalObjectStore>((base_ / "exports").string(),
                                                  std::make_shared<UrlSigner>("secret"),
                                                  "http://127.0.0.1:8080");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  // Exports `rows` rows into a new Succeeded task; returns the task as stored.
  Task Export(Format format, int rows, int64_t max_rows = 4,
              Compression compression = Compression::kNone) {
    Task task;
    task.id = "T" + std::to_string(++tasks_made_);
    task.principal = "key_test";
    task.request.dataset = "items";
    task.request.format = format;
    task.request.max_rows_per_file = max_rows;
    task.request.compression = compression;
    task.query_hash = Sha256Hex(CanonicalJson(task.request));
    task.created_at = task.updated_at = FromUnixMillis(1'763'761'778'000);
    EXPECT_TRUE(tasks_->Create(task, {}).ok());
    const TimePoint now = FromUnixMillis(1'763'761'779'000);
    EXPECT_TRUE(tasks_->Transition(task.id, {.trigger = Trigger::kStart, .now = now}).ok());
    source_ = std::make_unique<FakeSource>(columns_, MakeRows(rows));
    NoControl control;
    Result<ExportOutcome> outcome = RunExport(task, dataset_, *source_, *objects_, control, now);
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    if (!outcome.ok()) return task;
    Result<Task> done = tasks_->Transition(task.id, {.trigger = Trigger::kSucceed,
                                                     .now = now,
                                                     .files = outcome->files,
                                                     .manifest = outcome->manifest});
    EXPECT_TRUE(done.ok()) << done.status().ToString();
    return done.ok() ? *done : task;
  }

  VerifyReport Verify(const Task& task, FakeSource* source = nullptr) {
    VerifySource with{.dataset = &dataset_, .source = source};
    Result<VerifyReport> report = VerifyExport(task, *objects_, source ? &with : nullptr);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : VerifyReport{};
  }

  fs::path FilePath(const Task& task, const std::string& name) const {
    return base_ / "exports" / task.id / name;
  }
  std::string ReadBytes(const fs::path& path) const {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void WriteBytes(const fs::path& path, const std::string& bytes) const {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }

  static std::string Printed(const VerifyReport& report) {
    std::ostringstream out;
    PrintVerifyReport(report, out);
    return out.str();
  }

  const Dataset dataset_{DatasetSpec{.name = "items", .key = "id"},
                         {Field{"id", FieldType::kInteger}, Field{"rock", FieldType::kText},
                          Field{"depth", FieldType::kReal}}};
  const std::vector<std::string> columns_ = {"id", "rock", "depth"};
  fs::path base_;
  Config config_;
  std::unique_ptr<SqliteTaskStore> tasks_;
  std::unique_ptr<LocalObjectStore> objects_;
  std::unique_ptr<FakeSource> source_;  // the last export's
  int tasks_made_ = 0;
};

TEST_F(VerifyTest, CleanExportsPassInEveryFormatWithAndWithoutSource) {
  const struct {
    Format format;
    Compression compression;
    int rows;
  } cases[] = {{Format::kCsv, Compression::kNone, 10},   {Format::kTsv, Compression::kNone, 9},
               {Format::kJson, Compression::kNone, 8},   {Format::kNdjson, Compression::kNone, 12},
               {Format::kCsv, Compression::kGzip, 10},   {Format::kJson, Compression::kGzip, 5},
               {Format::kNdjson, Compression::kGzip, 0}, {Format::kCsv, Compression::kNone, 0},
               {Format::kJson, Compression::kNone, 0}};
  for (const auto& c : cases) {
    const Task task = Export(c.format, c.rows, 4, c.compression);
    const VerifyReport plain = Verify(task);
    EXPECT_TRUE(plain.ok()) << Printed(plain);
    const VerifyReport regenerated = Verify(task, source_.get());
    EXPECT_TRUE(regenerated.ok()) << Printed(regenerated);
    EXPECT_TRUE(regenerated.source_compared);
    ASSERT_EQ(plain.files.size(), task.files.size() + 1);
    int64_t rows = 0;
    for (const FileVerdict& f : plain.files) rows += f.rows.value_or(0);
    EXPECT_EQ(rows, c.rows) << Printed(plain);
    EXPECT_NE(Printed(regenerated).find("OK: task " + task.id), std::string::npos)
        << Printed(regenerated);
  }
}

TEST_F(VerifyTest, AFlippedByteIsAMismatch) {
  const Task task = Export(Format::kCsv, 10);
  const fs::path path = FilePath(task, "part-00002.csv");
  std::string bytes = ReadBytes(path);
  const size_t at = bytes.find("6.5");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = '7';
  WriteBytes(path, bytes);

  const VerifyReport plain = Verify(task);
  EXPECT_FALSE(plain.ok());
  EXPECT_NE(Problems(plain, "part-00002.csv").find("sha256 differs"), std::string::npos)
      << Printed(plain);
  EXPECT_EQ(Problems(plain, "part-00001.csv"), "");

  const VerifyReport regenerated = Verify(task, source_.get());
  EXPECT_FALSE(regenerated.ok());
  ASSERT_TRUE(regenerated.first_difference.has_value());
  EXPECT_NE(regenerated.first_difference->find("part-00002.csv"), std::string::npos);
  EXPECT_NE(regenerated.first_difference->find("row 2 (row 6 of the export)"), std::string::npos)
      << *regenerated.first_difference;
  EXPECT_NE(Printed(regenerated).find("MISMATCH: task " + task.id), std::string::npos);
}

TEST_F(VerifyTest, ATruncatedFileIsAMismatch) {
  for (Compression compression : {Compression::kNone, Compression::kGzip}) {
    const Task task = Export(Format::kNdjson, 10, 4, compression);
    const std::string name = task.files[1].name;
    const fs::path path = FilePath(task, name);
    const std::string bytes = ReadBytes(path);
    // Plain: without its last line. Gzip: without the stream's last 20 bytes.
    const size_t keep = compression == Compression::kGzip ? bytes.size() - 20
                                                          : bytes.rfind('\n', bytes.size() - 2) + 1;
    WriteBytes(path, bytes.substr(0, keep));

    const VerifyReport plain = Verify(task);
    EXPECT_FALSE(plain.ok());
    const std::string problems = Problems(plain, name);
    EXPECT_NE(problems.find("the task records " + std::to_string(bytes.size())), std::string::npos)
        << problems;
    if (compression == Compression::kGzip) {
      EXPECT_NE(problems.find("gzip stream is truncated"), std::string::npos) << problems;
    } else {
      EXPECT_NE(problems.find("3 rows, the task records 4"), std::string::npos) << problems;
    }
    const VerifyReport regenerated = Verify(task, source_.get());
    EXPECT_FALSE(regenerated.ok());
    ASSERT_TRUE(regenerated.first_difference.has_value());
    EXPECT_NE(regenerated.first_difference->find(name), std::string::npos);
  }
}

TEST_F(VerifyTest, AMissingFileIsAMismatch) {
  const Task task = Export(Format::kTsv, 10);
  fs::remove(FilePath(task, "part-00003.tsv"));
  const VerifyReport plain = Verify(task);
  EXPECT_FALSE(plain.ok());
  EXPECT_EQ(Problems(plain, "part-00003.tsv"), "missing; ");
  EXPECT_FALSE(Verify(task, source_.get()).ok());

  fs::remove(FilePath(task, "manifest.json"));
  EXPECT_EQ(Problems(Verify(task), "manifest.json"), "missing; ");
}

TEST_F(VerifyTest, AnEditedManifestIsAMismatch) {
  const Task task = Export(Format::kJson, 10);
  const fs::path path = FilePath(task, "manifest.json");
  std::string manifest = ReadBytes(path);
  const std::string rows = "\"rows\":4,";
  const size_t at = manifest.find(rows);
  ASSERT_NE(at, std::string::npos) << manifest;
  manifest.replace(at, rows.size(), "\"rows\":5,");
  WriteBytes(path, manifest);

  const VerifyReport report = Verify(task);
  EXPECT_FALSE(report.ok());
  const std::string problems = Problems(report, "manifest.json");
  EXPECT_NE(problems.find("sha256 differs from the task's record"), std::string::npos) << problems;
  EXPECT_NE(problems.find("the entry of part-00001.json differs"), std::string::npos) << problems;
  // The file matches the task's record; the manifest's entry is what differs.
  EXPECT_EQ(Problems(report, "part-00001.json"), "4 rows, the manifest lists 5; ");
  EXPECT_EQ(Problems(report, "part-00002.json"), "");

  // A manifest that drops a file.
  const Task other = Export(Format::kJson, 10);
  const fs::path other_path = FilePath(other, "manifest.json");
  std::string text = ReadBytes(other_path);
  const size_t last = text.rfind(",\n{");
  text.replace(last, text.find('}', last) + 1 - last, "");
  WriteBytes(other_path, text);
  EXPECT_NE(Problems(Verify(other), "manifest.json").find("lists 2 files, the task has 3"),
            std::string::npos)
      << Printed(Verify(other));
}

TEST_F(VerifyTest, AChangedSourceIsAMismatchOnlyWithSource) {
  const Task task = Export(Format::kCsv, 10, 4, Compression::kGzip);
  std::vector<FakeRow> rows = MakeRows(10);
  rows[8][1] = fakes::Text("granite");  // row 9: part 3, its first row
  FakeSource changed(columns_, rows);
  EXPECT_TRUE(Verify(task).ok());
  const VerifyReport report = Verify(task, &changed);
  EXPECT_FALSE(report.ok());
  ASSERT_TRUE(report.first_difference.has_value());
  EXPECT_NE(report.first_difference->find("part-00003.csv.gz differs from the source"),
            std::string::npos)
      << *report.first_difference;
  EXPECT_NE(report.first_difference->find("row 1 (row 9 of the export)"), std::string::npos)
      << *report.first_difference;
  EXPECT_EQ(Problems(report, "part-00001.csv.gz"), "");

  FakeSource more(columns_, MakeRows(13));
  const VerifyReport longer = Verify(task, &more);
  EXPECT_FALSE(longer.ok());
  EXPECT_NE(Problems(longer, "part-00004.csv.gz").find("the export lacks it"), std::string::npos)
      << Printed(longer);

  FakeSource fewer(columns_, MakeRows(7));
  const VerifyReport shorter = Verify(task, &fewer);
  EXPECT_FALSE(shorter.ok());
  EXPECT_NE(Problems(shorter, "part-00002.csv.gz").find("that the source does not yield"),
            std::string::npos)
      << Printed(shorter);
  EXPECT_NE(Problems(shorter, "part-00002.csv.gz")
                .find("the source yields 3 rows for this file, the task records 4"),
            std::string::npos)
      << Printed(shorter);
  EXPECT_NE(Problems(longer, "part-00003.csv.gz").find("where the source yields more"),
            std::string::npos)
      << Printed(longer);
  EXPECT_NE(Problems(shorter, "part-00003.csv.gz").find("the source yields no rows"),
            std::string::npos)
      << Printed(shorter);
}

TEST_F(VerifyTest, OnlySucceededTasksAreVerified) {
  Task task;
  task.id = "P1";
  task.principal = "key_test";
  task.request.dataset = "items";
  task.query_hash = Sha256Hex(CanonicalJson(task.request));
  ASSERT_TRUE(tasks_->Create(task, {}).ok());
  Result<VerifyReport> report = VerifyExport(task, *objects_, nullptr);
  EXPECT_EQ(report.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(VerifyTest, CommandExitCodes) {
  const Task task = Export(Format::kCsv, 6);
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(VerifyCommand(config_, task.id, false, out, err), 0) << out.str() << err.str();
  EXPECT_NE(out.str().find("part-00002.csv"), std::string::npos) << out.str();
  EXPECT_EQ(VerifyCommand(config_, "NOSUCHTASK", false, out, err), 2);
  EXPECT_NE(err.str().find("unknown task NOSUCHTASK"), std::string::npos) << err.str();
  EXPECT_TRUE(tasks_->Create(Task{.id = "P2", .principal = "k", .query_hash = "h"}, {}).ok());
  EXPECT_EQ(VerifyCommand(config_, "P2", false, out, err), 2);
  // No dataset is configured and there is no demo dataset: --source is a usage error.
  EXPECT_EQ(VerifyCommand(config_, task.id, true, out, err), 2) << err.str();

  WriteBytes(FilePath(task, "part-00001.csv"), "id,rock,depth\r\n");
  out.str("");
  EXPECT_EQ(VerifyCommand(config_, task.id, false, out, err), 1);
  EXPECT_NE(out.str().find("MISMATCH"), std::string::npos) << out.str();

  Config elsewhere;
  elsewhere.data_dir = (base_ / "nothing-here").string();
  EXPECT_EQ(VerifyCommand(elsewhere, task.id, false, out, err), 2);
  EXPECT_FALSE(fs::exists(elsewhere.data_dir));
}

}  // namespace
}  // namespace exportd
