// "split_by": "partition" against the real binary: one file series per region of the items
// dataset, each numbered from part-00001 with its own rollover, every row exactly once in the
// series of its partition, downloads through the signed links, `exportd verify --source`; and a
// kill -9 in the middle of a split export resumes without doubling or losing a row.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/itest_support.h"
#include "tests/integration/source_db.h"

namespace exportd::itest {
namespace {

// A partition value that is not a safe file name, and its directory (core/partition_name.h).
constexpr const char* kOddRegion =
    "s\xC3\xBC"
    "d/ost 1";
constexpr const char* kOddRegionDir = "s~C3~BCd~2Fost~201";

class SplitByTest : public ExportdTest {
 protected:
  // 1000 items in north, south, east, west and kOddRegion (every 20th row).
  bool Start(const Json& config_extra) {
    if (!StartWithItems(1000, config_extra)) return false;
    ExecSql(source_path(),
            std::string("UPDATE items SET region = '") + kOddRegion + "' WHERE id % 20 = 0");
    return true;
  }

  // Checks the series of a Succeeded split export of every item: names, numbering, rollover,
  // partitions, and the rows of each series against the source.
  void ExpectSeries(const Json& task, int64_t max_rows) {
    ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
    const DownloadedExport files = DownloadExport(*api_, task);
    ASSERT_EQ(files.names.size(), task["files"].size());
    std::map<std::string, std::vector<size_t>> by_partition;  // partition -> file indexes
    std::vector<std::string> order;
    for (size_t i = 0; i < task["files"].size(); ++i) {
      const Json& f = task["files"][i];
      ASSERT_TRUE(f["partition"].is_string()) << f.dump();
      const std::string partition = f["partition"];
      if (by_partition.find(partition) == by_partition.end()) order.push_back(partition);
      by_partition[partition].push_back(i);
    }
    EXPECT_EQ(order, (std::vector<std::string>{"east", "north", "south", kOddRegion, "west"}));
    int64_t total = 0;
    for (const auto& [partition, indexes] : by_partition) {
      SCOPED_TRACE(partition);
      const std::string dir = partition == kOddRegion ? kOddRegionDir : partition;
      std::vector<std::string> contents;
      std::vector<int64_t> rows;
      for (size_t n = 0; n < indexes.size(); ++n) {
        const Json& f = task["files"][indexes[n]];
        char part[32];
        std::snprintf(part, sizeof part, "/part-%05zu.csv", n + 1);
        EXPECT_EQ(f.value("name", ""), dir + part);
        const int64_t file_rows = f.value("rows", -1);
        // Every file of a series but its last is full.
        if (n + 1 < indexes.size()) {
          EXPECT_EQ(file_rows, max_rows);
        } else {
          EXPECT_LE(file_rows, max_rows);
          EXPECT_GT(file_rows, 0);
        }
        contents.push_back(files.contents[indexes[n]]);
        rows.push_back(file_rows);
        total += file_rows;
      }
      const ExpectedExport expected = ExpectedItems({}, "region = '" + partition + "'");
      const std::vector<std::string> problems = ValidateExport("csv", contents, rows, expected);
      EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
    }
    EXPECT_EQ(total, 1000);
    // The manifest lists the same files with their partitions.
    ASSERT_TRUE(files.manifest.is_object());
    ASSERT_EQ(files.manifest["files"].size(), task["files"].size());
    for (size_t i = 0; i < task["files"].size(); ++i) {
      EXPECT_EQ(files.manifest["files"][i].value("name", ""), task["files"][i].value("name", ""));
      EXPECT_EQ(files.manifest["files"][i].value("partition", ""),
                task["files"][i].value("partition", "?"));
    }
  }

  CommandResult Verify(const std::string& id) const {
    return server_->RunCli({"verify", id, "--config", server_->config_path(), "--source"},
                           seconds(60));
  }
};

TEST_F(SplitByTest, OneSeriesPerPartitionDownloadsAndVerifies) {
  // Plaintext on disk, so that verify compares the bytes with the source.
  ASSERT_TRUE(Start({{"encryption", {{"enabled", false}}}}));
  const std::string id = CreateExport(
      *api_, {{"dataset", "items"}, {"split_by", "partition"}, {"max_rows_per_file", 100}});
  ASSERT_FALSE(id.empty());
  const Json task = WaitForTerminal(*api_, id, seconds(60));
  ExpectSeries(task, 100);

  // Restricted to some partitions: only their series.
  const std::string some = CreateExport(
      *api_,
      {{"dataset", "items"}, {"split_by", "partition"}, {"partitions", {"west", kOddRegion}}});
  ASSERT_FALSE(some.empty());
  const Json restricted = WaitForTerminal(*api_, some, seconds(60));
  ASSERT_EQ(restricted.value("status", ""), "Succeeded") << restricted.dump();
  std::vector<std::string> names;
  for (const Json& f : restricted["files"]) names.push_back(f.value("name", ""));
  EXPECT_EQ(names, (std::vector<std::string>{std::string(kOddRegionDir) + "/part-00001.csv",
                                             "west/part-00001.csv"}));

  CommandResult live = Verify(id);
  EXPECT_EQ(live.exit_code, 0) << live.out << live.err;
  ASSERT_EQ(server_->Stop(), 0);
  for (const std::string& task_id : {id, some}) {
    CommandResult r = Verify(task_id);
    EXPECT_EQ(r.exit_code, 0) << task_id << "\n" << r.out << r.err;
  }
}

TEST_F(SplitByTest, KillDashNineMidSeriesResumesWithoutDoublingOrLosingRows) {
  // One worker, 1000 rows at 250 rows/s (about 4 s), 40 rows a file: the kill comes in the
  // middle of a later partition's series.
  ASSERT_TRUE(Start({{"workers", 1}, {"max_rows_per_second", 250}}));
  const std::string id = CreateExport(
      *api_, {{"dataset", "items"}, {"split_by", "partition"}, {"max_rows_per_file", 40}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitForProcessingRows(*api_, id, 330, seconds(20)));
  server_->Kill();
  std::string error;
  ASSERT_TRUE(server_->Start(&error)) << error;

  const Json task = WaitForTerminal(*api_, id, seconds(60));
  ExpectSeries(task, 40);
  EXPECT_EQ(task["progress"].value("rows", -1), 1000) << task.dump();
  const Json events = GetEvents(*api_, id);
  EXPECT_EQ(EventsOfType(events, "recover").size(), 1u) << events.dump();
  // Every file was committed once: the resume continued after the last checkpoint.
  std::map<std::string, int> recorded;
  for (const Json& e : EventsOfType(events, "checkpoint")) {
    const std::string detail = e.value("detail", "");
    ++recorded[detail.substr(0, detail.find(':'))];
  }
  EXPECT_EQ(recorded.size(), task["files"].size()) << events.dump();
  for (const auto& [name, count] : recorded) EXPECT_EQ(count, 1) << name;
}

}  // namespace
}  // namespace exportd::itest
