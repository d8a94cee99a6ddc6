// The verifier's logic (core/verifier.h) over an in-memory object store and source, with fake
// tools where the test is about what the verifier does with them. The same checks over real
// files, SQLite and the library tools are in verify_test.cc.
#include "core/verifier.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/canonical_json.h"
#include "core/export_runner.h"
#include "core/time_format.h"
#include "server/verifier_tools.h"
#include "tests/fakes/fake_source.h"
#include "tests/fakes/memory_object_store.h"
#include "tests/fakes/verify_problems.h"

namespace exportd {
namespace {

using fakes::FakeRow;
using fakes::FakeSource;
using fakes::MemoryObjectStore;
using fakes::Problems;

// FNV-1a 64 in hex: a digest the store and the verifier agree on, without OpenSSL.
std::string FakeDigestHex(std::string_view data) {
  uint64_t h = 1469598103934665603ULL;
  for (const char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = kHex[h & 0xf];
  return out;
}

class FakeDigest final : public StreamDigest {
 public:
  void Update(std::string_view data) override { data_.append(data); }
  std::string FinishHex() override { return FakeDigestHex(data_); }

 private:
  std::string data_;
};

class NoControl final : public ExportControl {
 public:
  Status OnProgress(const Progress&) override { return Status::Ok(); }
  Status BeforeCommit() override { return Status::Ok(); }
  Status OnFileCommitted(const FileInfo&, const Checkpoint&) override { return Status::Ok(); }
};

std::vector<FakeRow> MakeRows(int n) {
  std::vector<FakeRow> rows;
  for (int i = 1; i <= n; ++i) {
    rows.push_back({fakes::Num(std::to_string(i)), fakes::Text("rock " + std::to_string(i))});
  }
  return rows;
}

class VerifierTest : public ::testing::Test {
 protected:
  VerifierTest() {
    tools_.new_sha256 = [] {
      return std::unique_ptr<StreamDigest>(std::make_unique<FakeDigest>());
    };
    tools_.new_gunzip = []() -> Result<std::unique_ptr<Inflater>> {
      return Internal("no gunzip in this test");
    };
    tools_.manifest_parser = LibraryVerifierTools().manifest_parser;
  }

  // Exports `rows` rows into the store (3 rows a file); returns the Succeeded task.
  Task Export(Format format, int rows) {
    Task task;
    task.id = "T" + std::to_string(++tasks_made_);
    task.principal = "key_test";
    task.request.dataset = "items";
    task.request.format = format;
    task.request.max_rows_per_file = 3;
    task.query_hash = FakeDigestHex(CanonicalJson(task.request));
    FakeSource source(columns_, MakeRows(rows));
    NoControl control;
    Result<ExportOutcome> outcome =
        RunExport(task, dataset_, source, store_, control, FromUnixMillis(1'763'761'779'000));
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    task.state = TaskState::kSucceeded;
    if (outcome.ok()) {
      task.files = outcome->files;
      task.manifest = outcome->manifest;
    }
    return task;
  }

  VerifyReport Verify(const Task& task, Source* source = nullptr) {
    VerifySource with{.dataset = &dataset_, .source = source};
    Result<VerifyReport> report = VerifyExport(task, store_, source ? &with : nullptr, tools_);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : VerifyReport{};
  }

  const Dataset dataset_{DatasetSpec{.name = "items", .key = "id"},
                         {Field{"id", FieldType::kInteger}, Field{"rock", FieldType::kText}}};
  const std::vector<std::string> columns_ = {"id", "rock"};
  MemoryObjectStore store_{FakeDigestHex};
  VerifierTools tools_;
  int tasks_made_ = 0;
};

TEST_F(VerifierTest, ACleanExportPassesWithAndWithoutSource) {
  for (Format format : {Format::kCsv, Format::kTsv, Format::kJson, Format::kNdjson}) {
    const Task task = Export(format, 7);
    ASSERT_EQ(task.files.size(), 3u);
    const VerifyReport plain = Verify(task);
    EXPECT_TRUE(plain.ok()) << Problems(plain, task.files[0].name);
    EXPECT_FALSE(plain.source_compared);
    ASSERT_EQ(plain.files.size(), 4u);
    EXPECT_EQ(plain.files[0].name, kManifestName);
    EXPECT_EQ(plain.files[1].rows, 3);
    EXPECT_EQ(plain.files[3].rows, 1);
    EXPECT_EQ(plain.files[3].bytes, task.files[2].bytes);

    FakeSource source(columns_, MakeRows(7));
    const VerifyReport regenerated = Verify(task, &source);
    EXPECT_TRUE(regenerated.ok()) << regenerated.first_difference.value_or("");
    EXPECT_TRUE(regenerated.source_compared);
  }
}

TEST_F(VerifierTest, ASplitExportIsRegeneratedSeriesBySeries) {
  const Dataset by_rock{DatasetSpec{.name = "items", .key = "id", .partition_field = "rock"},
                        {Field{"id", FieldType::kInteger}, Field{"rock", FieldType::kText}}};
  // Rows 1..8 in partitions "a/b" (odd rows but 5), NULL (row 5) and "c" (even rows).
  const auto rows = [](const std::string& fifth) {
    std::vector<FakeRow> out;
    for (int i = 1; i <= 8; ++i) {
      out.push_back({fakes::Num(std::to_string(i)),
                     i == 5       ? (fifth.empty() ? fakes::NullValue() : fakes::Text(fifth))
                     : i % 2 == 1 ? fakes::Text("a/b")
                                  : fakes::Text("c")});
    }
    return out;
  };
  Task task;
  task.id = "TSPLIT";
  task.request.dataset = "items";
  task.request.format = Format::kCsv;
  task.request.max_rows_per_file = 3;
  task.request.split_by = SplitBy::kPartition;
  task.query_hash = FakeDigestHex(CanonicalJson(task.request));
  FakeSource source(columns_, rows(""));
  source.SetPartitionColumn(1);
  NoControl control;
  Result<ExportOutcome> outcome =
      RunExport(task, by_rock, source, store_, control, FromUnixMillis(1'763'761'779'000));
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  task.state = TaskState::kSucceeded;
  task.files = outcome->files;
  task.manifest = outcome->manifest;
  ASSERT_EQ(task.files.size(), 4u);  // a~2Fb/1 (3 rows), c/1 (3), c/2 (1), ~NULL/1 (1)
  EXPECT_EQ(task.files[2].name, "c/part-00002.csv");

  VerifySource with{.dataset = &by_rock, .source = &source};
  Result<VerifyReport> clean = VerifyExport(task, store_, &with, tools_);
  ASSERT_TRUE(clean.ok()) << clean.status().ToString();
  EXPECT_TRUE(clean->ok()) << clean->first_difference.value_or("");
  EXPECT_EQ(clean->files.size(), 5u);

  // Row 5 has since moved from NULL to "c": "c" yields it, the NULL series nothing.
  FakeSource moved(columns_, rows("c"));
  moved.SetPartitionColumn(1);
  VerifySource changed{.dataset = &by_rock, .source = &moved};
  Result<VerifyReport> report = VerifyExport(task, store_, &changed, tools_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->ok());
  ASSERT_TRUE(report->first_difference.has_value());
  // Row 3 of "c" is the export's 6th: "a/b" wrote 3 before.
  EXPECT_EQ(*report->first_difference,
            "c/part-00001.csv differs from the source at byte 19, in row 3 (row 6 of the export)");
}

TEST_F(VerifierTest, AnEditedPartIsFoundByDigestAndBySource) {
  const Task task = Export(Format::kCsv, 7);
  std::string part = *store_.Get(task.id, "part-00002.csv");
  const size_t at = part.find("rock 5");
  ASSERT_NE(at, std::string::npos) << part;
  part[at] = 'R';
  store_.Put(task.id, "part-00002.csv", part);

  const VerifyReport plain = Verify(task);
  EXPECT_FALSE(plain.ok());
  EXPECT_EQ(Problems(plain, "part-00002.csv"), "sha256 differs from the task's record; ");
  EXPECT_EQ(Problems(plain, "part-00001.csv"), "");

  FakeSource source(columns_, MakeRows(7));
  const VerifyReport regenerated = Verify(task, &source);
  ASSERT_TRUE(regenerated.first_difference.has_value());
  EXPECT_EQ(*regenerated.first_difference, "part-00002.csv differs from the source at byte " +
                                               std::to_string(at) +
                                               ", in row 2 (row 5 of the export)");
}

TEST_F(VerifierTest, AMissingPartAndAManifestOfAnotherTask) {
  const Task task = Export(Format::kNdjson, 7);
  store_.Remove(task.id, "part-00003.ndjson");
  const Task other = Export(Format::kNdjson, 7);
  store_.Put(task.id, std::string(kManifestName), *store_.Get(other.id, kManifestName));

  const VerifyReport report = Verify(task);
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(Problems(report, "part-00003.ndjson"), "missing; ");
  const std::string problems = Problems(report, std::string(kManifestName));
  EXPECT_NE(problems.find("names another task_id"), std::string::npos) << problems;
  // Same request: the query hash and the file list agree; the bytes do not.
  EXPECT_EQ(problems.find("query_hash differs"), std::string::npos) << problems;
  EXPECT_NE(problems.find("sha256 differs from the task's record"), std::string::npos) << problems;
}

TEST_F(VerifierTest, ManifestEntriesComeFromTheParser) {
  const Task task = Export(Format::kCsv, 4);
  // A parser that reads the real manifest, then lists the second file under another name.
  class RenamingParser final : public ManifestParser {
   public:
    explicit RenamingParser(const ManifestParser& real) : real_(real) {}
    std::optional<ManifestDocument> Parse(std::string_view text) const override {
      std::optional<ManifestDocument> doc = real_.Parse(text);
      if (doc && doc->files.size() > 1 && doc->files[1]) doc->files[1]->name = "other.csv";
      return doc;
    }
    bool SameJson(std::string_view a, std::string_view b) const override {
      return real_.SameJson(a, b);
    }

   private:
    const ManifestParser& real_;
  };
  RenamingParser parser(*tools_.manifest_parser);
  tools_.manifest_parser = &parser;
  const VerifyReport report = Verify(task);
  EXPECT_EQ(Problems(report, std::string(kManifestName)),
            "file 2 is 'other.csv', the task's is 'part-00002.csv'; ");
  EXPECT_TRUE(report.files[1].ok());
  EXPECT_TRUE(report.files[2].ok());
}

TEST_F(VerifierTest, AGzipPartWithoutADecompressorIsReportedNotCounted) {
  Task task = Export(Format::kCsv, 2);
  // The store holds plain bytes; the task says they are compressed and the tools cannot inflate.
  task.request.compression = Compression::kGzip;
  const VerifyReport report = Verify(task);
  EXPECT_FALSE(report.ok());
  ASSERT_EQ(report.files.size(), 2u);
  EXPECT_NE(Problems(report, "part-00001.csv").find("no gunzip in this test"), std::string::npos)
      << Problems(report, "part-00001.csv");
  EXPECT_FALSE(report.files[1].rows.has_value());
}

TEST_F(VerifierTest, ASourceThatFailsStopsTheCheck) {
  const Task task = Export(Format::kCsv, 7);
  FakeSource source(columns_, MakeRows(7));
  source.FailAtRow(4, Unavailable("the source went away"));
  VerifySource with{.dataset = &dataset_, .source = &source};
  Result<VerifyReport> report = VerifyExport(task, store_, &with, tools_);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(report.status().message().find("reading dataset 'items'"), std::string::npos)
      << report.status().ToString();
}

TEST_F(VerifierTest, OnlyASucceededTaskWithFilesIsVerified) {
  Task task = Export(Format::kCsv, 2);
  task.state = TaskState::kProcessing;
  EXPECT_EQ(VerifyExport(task, store_, nullptr, tools_).status().code(),
            StatusCode::kFailedPrecondition);
  task.state = TaskState::kSucceeded;
  task.files.clear();
  EXPECT_EQ(VerifyExport(task, store_, nullptr, tools_).status().code(),
            StatusCode::kFailedPrecondition);
}

// ---- The library tools (server/verifier_tools.h) ----------------------------------------------

TEST(LibraryVerifierToolsTest, ManifestParserReadsWhatTheVerifierLooksAt) {
  const ManifestParser& parser = *LibraryVerifierTools().manifest_parser;
  EXPECT_FALSE(parser.Parse("[1]").has_value());
  EXPECT_FALSE(parser.Parse("{").has_value());
  const std::optional<ManifestDocument> doc =
      parser.Parse(R"({"task_id":"T1","query_hash":7,"request":{"b":1,"a":[2]},"rows":"3",)"
                   R"("files":[{"name":"p1","rows":2,"bytes":9,"sha256":"ab"},5]})");
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->task_id, "T1");
  EXPECT_EQ(doc->query_hash, "");  // not a string
  EXPECT_EQ(doc->rows, -1);        // not an integer
  ASSERT_TRUE(doc->request.has_value());
  EXPECT_TRUE(parser.SameJson(*doc->request, R"({ "a": [2], "b": 1 })"));
  EXPECT_FALSE(parser.SameJson(*doc->request, R"({"a":[2],"b":2})"));
  EXPECT_FALSE(parser.SameJson(*doc->request, "{"));
  ASSERT_TRUE(doc->has_files);
  ASSERT_EQ(doc->files.size(), 2u);
  ASSERT_TRUE(doc->files[0].has_value());
  EXPECT_EQ(doc->files[0]->name, "p1");
  EXPECT_EQ(doc->files[0]->rows, 2);
  EXPECT_EQ(doc->files[0]->bytes, 9);
  EXPECT_EQ(doc->files[0]->sha256, "ab");
  EXPECT_FALSE(doc->files[1].has_value());
  EXPECT_FALSE(parser.Parse(R"({"files":{}})")->has_files);
}

TEST(LibraryVerifierToolsTest, Sha256AndGunzip) {
  const VerifierTools& tools = LibraryVerifierTools();
  std::unique_ptr<StreamDigest> sha = tools.new_sha256();
  sha->Update("a");
  sha->Update("bc");
  EXPECT_EQ(sha->FinishHex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Result<std::unique_ptr<Inflater>> gunzip = tools.new_gunzip();
  ASSERT_TRUE(gunzip.ok()) << gunzip.status().ToString();
  // gzip of "hi\n" (gzip -n).
  const std::string compressed(
      "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcb\xc8\xe4\x02\x00"
      "\x7a\x7a\x6f\xed\x03\x00\x00\x00",
      23);
  ASSERT_TRUE((*gunzip)->NeedsInput());
  (*gunzip)->SetInput(compressed);
  char out[16];
  Result<size_t> n = (*gunzip)->Inflate(out, sizeof(out));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(std::string(out, *n), "hi\n");
  EXPECT_TRUE((*gunzip)->finished());
}

}  // namespace
}  // namespace exportd
