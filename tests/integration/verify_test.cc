// `exportd verify` against the real binary: exports in several formats, then verify with and
// without --source (while the server runs and after it stopped); a corrupted file, a changed
// source and usage errors give the documented exit codes.
#include <cstdio>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

class VerifyCommandTest : public ExportdTest {
 protected:
  CommandResult Verify(const std::string& id, bool source) const {
    std::vector<std::string> args = {"verify", id, "--config", server_->config_path()};
    if (source) args.push_back("--source");
    return server_->RunCli(args, seconds(60));
  }

  std::string Succeeded(const Json& body) {
    const std::string id = CreateExport(*api_, body);
    if (id.empty()) return id;
    Json task = WaitForTerminal(*api_, id, seconds(60));
    EXPECT_EQ(task.value("status", ""), "Succeeded") << task.dump();
    return id;
  }
};

TEST_F(VerifyCommandTest, CleanExportsVerifyAndACorruptedFileDoesNot) {
  // Plaintext on disk, so that a flipped byte reaches verify's comparison with the source (an
  // encrypted file fails authentication first: encryption_test covers verify of those).
  ASSERT_TRUE(StartWithItems(1500, {{"encryption", {{"enabled", false}}}}));
  const std::string csv = Succeeded({{"dataset", "items"}, {"max_rows_per_file", 400}});
  const std::string ndjson_gz = Succeeded({{"dataset", "items"},
                                           {"format", "ndjson"},
                                           {"compression", "gzip"},
                                           {"max_rows_per_file", 700}});
  const std::string json =
      Succeeded({{"dataset", "items"}, {"format", "json"}, {"filter", {{"region", "north"}}}});
  const std::string tsv = Succeeded({{"dataset", "items"},
                                     {"format", "tsv"},
                                     {"fields", {"id", "name", "alpha"}},
                                     {"max_rows_per_file", 1000}});
  ASSERT_FALSE(csv.empty() || ndjson_gz.empty() || json.empty() || tsv.empty());

  // While the server runs (SQLite WAL readers are fine).
  CommandResult live = Verify(csv, true);
  EXPECT_EQ(live.exit_code, 0) << live.out << live.err;

  ASSERT_EQ(server_->Stop(), 0);
  for (const std::string& id : {csv, ndjson_gz, json, tsv}) {
    CommandResult r = Verify(id, true);
    EXPECT_EQ(r.exit_code, 0) << id << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("OK: task " + id), std::string::npos) << r.out;
  }
  CommandResult listing = Verify(csv, false);
  EXPECT_EQ(listing.exit_code, 0) << listing.out << listing.err;
  for (const char* name : {"manifest.json", "part-00001.csv", "part-00004.csv"}) {
    EXPECT_NE(listing.out.find(name), std::string::npos) << listing.out;
  }
  EXPECT_NE(listing.out.find("300 rows"), std::string::npos) << listing.out;

  // Flip one byte in the middle of the second file.
  const std::string path = server_->data_dir() + "/exports/" + csv + "/part-00002.csv";
  std::string bytes = ReadFileOrEmpty(path);
  ASSERT_GT(bytes.size(), 1000u);
  bytes[bytes.size() / 2] = bytes[bytes.size() / 2] == 'x' ? 'y' : 'x';
  WriteFile(path, bytes);
  for (bool source : {false, true}) {
    CommandResult r = Verify(csv, source);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("part-00002.csv"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("MISMATCH"), std::string::npos) << r.out;
  }
  CommandResult located = Verify(csv, true);
  EXPECT_NE(located.out.find("first difference: part-00002.csv differs from the source at byte"),
            std::string::npos)
      << located.out;

  // Truncate a gzip file.
  const std::string gz = server_->data_dir() + "/exports/" + ndjson_gz + "/part-00001.ndjson.gz";
  const std::string compressed = ReadFileOrEmpty(gz);
  WriteFile(gz, compressed.substr(0, compressed.size() / 2));
  CommandResult truncated = Verify(ndjson_gz, false);
  EXPECT_EQ(truncated.exit_code, 1) << truncated.out << truncated.err;
  EXPECT_NE(truncated.out.find("truncated"), std::string::npos) << truncated.out;
}

TEST_F(VerifyCommandTest, AChangedSourceFailsOnlyWithSource) {
  ASSERT_TRUE(StartWithItems(300));
  const std::string id = Succeeded({{"dataset", "items"}, {"max_rows_per_file", 100}});
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(server_->Stop(), 0);
  ExecSql(source_path(), "UPDATE items SET qty = COALESCE(qty, 0) + 1 WHERE id = 150");
  CommandResult plain = Verify(id, false);
  EXPECT_EQ(plain.exit_code, 0) << plain.out << plain.err;
  CommandResult regenerated = Verify(id, true);
  EXPECT_EQ(regenerated.exit_code, 1) << regenerated.out << regenerated.err;
  EXPECT_NE(regenerated.out.find("part-00002.csv differs from the source"), std::string::npos)
      << regenerated.out;
  EXPECT_NE(regenerated.out.find("row 50 (row 150 of the export)"), std::string::npos)
      << regenerated.out;
}

// The documented exit code when the check cannot finish: 1, also when the dataset's file is gone
// (it was 2, a usage error).
TEST_F(VerifyCommandTest, AMissingDatasetFileExitsOne) {
  ASSERT_TRUE(StartWithItems(100));
  const std::string id = Succeeded({{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(server_->Stop(), 0);
  ASSERT_EQ(std::remove(source_path().c_str()), 0);
  CommandResult r = Verify(id, true);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find(source_path()), std::string::npos) << r.err;
  // Without --source the source is not needed.
  CommandResult plain = Verify(id, false);
  EXPECT_EQ(plain.exit_code, 0) << plain.out << plain.err;
}

TEST_F(VerifyCommandTest, UsageErrorsExitTwo) {
  // 50 rows/s: the export below stays unfinished while the test looks at it.
  ASSERT_TRUE(StartWithItems(1000, {{"workers", 1}, {"max_rows_per_second", 50}}));
  CommandResult unknown = Verify("01ARZ3NDEKTSV4RRFFQ69G5FAV", false);
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out << unknown.err;
  EXPECT_NE(unknown.err.find("unknown task"), std::string::npos) << unknown.err;
  CommandResult no_id = server_->RunCli({"verify"});
  EXPECT_EQ(no_id.exit_code, 2) << no_id.out << no_id.err;
  CommandResult bad_flag = server_->RunCli({"verify", "X", "--no-such-flag"});
  EXPECT_EQ(bad_flag.exit_code, 2) << bad_flag.out << bad_flag.err;

  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  CommandResult unfinished = Verify(id, true);
  EXPECT_EQ(unfinished.exit_code, 2) << unfinished.out << unfinished.err;
  EXPECT_NE(unfinished.err.find("not Succeeded"), std::string::npos) << unfinished.err;
  EXPECT_TRUE(unfinished.out.empty()) << unfinished.out;
}

}  // namespace
}  // namespace exportd::itest
