// Graceful drain: SIGTERM while a slow export runs. exportd stops accepting, lets the export reach
// its next checkpoint (bounded by the drain timeout), puts the task back to Pending with that
// checkpoint and exits 0; after a restart the task resumes (the files committed before the
// SIGTERM are kept, not rewritten) and completes with exactly the source's rows.
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "tests/integration/itest_support.h"
#include "tests/integration/stored_files.h"

namespace exportd::itest {
namespace {

namespace fs = std::filesystem;

// Name -> inode of every entry of DATA_DIR/exports/<id>.
std::map<std::string, ino_t> StoredInodes(const ExportdProcess& server, const std::string& id) {
  std::map<std::string, ino_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(server.data_dir()) / "exports" / id, ec)) {
    struct stat st {};
    if (::stat(e.path().c_str(), &st) == 0) out[e.path().filename().string()] = st.st_ino;
  }
  return out;
}

class DrainTest : public ExportdTest {
 protected:
  bool Restart() {
    std::string error;
    if (!server_->Start(&error)) {
      ADD_FAILURE() << "restart failed: " << error;
      return false;
    }
    return true;
  }
};

TEST_F(DrainTest, SigtermStopsAtTheNextCheckpointExitsZeroAndTheTaskResumesExactly) {
  // 3000 rows at 500 rows/s (6 s), a checkpoint every 100 rows (0.2 s).
  ASSERT_TRUE(StartWithItems(3000, {{"workers", 1}, {"max_rows_per_second", 500}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 100}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor(
      [&] {
        Json t = GetTask(*api_, id);
        return t.is_object() && t.value("status", "") == "Processing" &&
               t["progress"].value("rows", 0) >= 400;
      },
      seconds(20)))
      << GetTask(*api_, id).dump();

  const auto t0 = Clock::now();
  EXPECT_EQ(server_->Stop(seconds(15)), 0) << "SIGTERM must exit 0 (-2: did not exit in time)";
  const auto took = Clock::now() - t0;
  EXPECT_LT(took, seconds(5)) << "the next checkpoint was 0.2 s away";

  // Stopped at a checkpoint: only whole, committed parts are on disk.
  const auto before = StoredInodes(*server_, id);
  EXPECT_GE(before.size(), 4u) << "the files committed before SIGTERM are kept";
  for (const auto& [name, inode] : before) {
    EXPECT_EQ(name.rfind("part-", 0), 0u) << "stray file after the drain: " << name;
    Table rows;
    std::string error;
    EXPECT_TRUE(ParseCsv(ReadStoredExportFile(server_->data_dir(), id, name), &rows, &error))
        << name << ": " << error;
    EXPECT_EQ(rows.size(), 101u) << name << " is not a whole part";
  }

  ASSERT_TRUE(Restart());
  Json task = WaitForTerminal(*api_, id, seconds(40));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  std::vector<int64_t> rows;
  for (const auto& f : task["files"]) rows.push_back(f.value("rows", -1));
  EXPECT_EQ(rows, std::vector<int64_t>(30, 100)) << task.dump();
  ExpectExportMatches(*api_, task, ExpectedItems());

  // Resumed, not restarted: the parts committed before the SIGTERM are the same files.
  const auto after = StoredInodes(*server_, id);
  for (const auto& [name, inode] : before) {
    auto it = after.find(name);
    ASSERT_NE(it, after.end()) << name << " disappeared";
    EXPECT_EQ(it->second, inode) << name << " was rewritten after the restart";
  }
  Json events = GetEvents(*api_, id);
  auto recovers = EventsOfType(events, "recover");
  ASSERT_EQ(recovers.size(), 1u) << events.dump();
  EXPECT_EQ(recovers[0].value("from", ""), "Processing") << recovers[0].dump();
  EXPECT_EQ(recovers[0].value("to", ""), "Pending") << recovers[0].dump();
  EXPECT_TRUE(EventsOfType(events, "retry").empty()) << "a drain is no failure: " << events.dump();
}

TEST_F(DrainTest, TheDrainTimeoutBoundsTheWaitForACheckpoint) {
  // One file of 3000 rows at 300 rows/s: the next checkpoint is 10 s away, the drain timeout 2 s.
  ASSERT_TRUE(StartWithItems(
      3000, {{"workers", 1}, {"max_rows_per_second", 300}, {"drain_timeout_seconds", 2}}));
  const std::string id = CreateExport(
      *api_, {{"dataset", "items"}, {"format", "ndjson"}, {"max_rows_per_file", 3000}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor(
      [&] {
        Json t = GetTask(*api_, id);
        return t.is_object() && t.value("status", "") == "Processing" &&
               t["progress"].value("rows", 0) >= 300;
      },
      seconds(20)))
      << GetTask(*api_, id).dump();
  const auto t0 = Clock::now();
  EXPECT_EQ(server_->Stop(seconds(15)), 0) << "SIGTERM must exit 0 (-2: did not exit in time)";
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, milliseconds(1500)) << "the export was not given its drain time";
  EXPECT_LT(took, seconds(6)) << "the drain timeout is 2 s";
  for (const auto& [name, inode] : StoredInodes(*server_, id)) {
    ADD_FAILURE() << "nothing was committed, yet " << name << " is stored";
  }

  // Lower the rate so that the rest does not take 10 s.
  Json config = Json::parse(ReadFileOrEmpty(server_->config_path()));
  config["max_rows_per_second"] = 0;
  WriteFile(server_->config_path(), config.dump());
  ASSERT_TRUE(Restart());
  Json task = WaitForTerminal(*api_, id, seconds(40));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  ExpectExportMatches(*api_, task, ExpectedItems());
}

TEST_F(DrainTest, SigtermWithNothingRunningExitsZeroAtOnce) {
  ASSERT_TRUE(StartWithItems(10));
  const auto t0 = Clock::now();
  EXPECT_EQ(server_->Stop(seconds(15)), 0);
  EXPECT_LT(Clock::now() - t0, seconds(3));
}

}  // namespace
}  // namespace exportd::itest
