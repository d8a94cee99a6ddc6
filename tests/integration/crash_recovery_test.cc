// Crash and restart: kill -9 while a (slow) task runs, restart on the same data dir and port;
// the task resumes from its last checkpoint (the files committed before the kill are kept, not
// rewritten) and completes with exactly the source's rows (none duplicated or missing); its
// audit trail shows a "recover" and a resumed "start". SIGTERM: exit 0, the running task goes
// back to Pending and finishes after a restart.
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

namespace fs = std::filesystem;

// The inode of DATA_DIR/exports/<id>/<name>, 0 if absent: a rewritten file gets a new one.
ino_t InodeOf(const ExportdProcess& server, const std::string& id, const std::string& name) {
  struct stat st {};
  const fs::path path = fs::path(server.data_dir()) / "exports" / id / name;
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The names of the files recorded by "checkpoint" events ("part-00001.csv: 100 rows, ...").
std::vector<std::string> CheckpointedFiles(const Json& events) {
  std::vector<std::string> names;
  for (const Json& e : EventsOfType(events, "checkpoint")) {
    const std::string detail = e.value("detail", "");
    names.push_back(detail.substr(0, detail.find(':')));
  }
  return names;
}

class CrashRecoveryTest : public ExportdTest {
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

TEST_F(CrashRecoveryTest, KillDashNineWhileRunningThenRestartCompletesExactly) {
  // One worker, 1000 rows at 250 rows/s (about 4 s), 100 rows a file: several files are
  // committed before the kill.
  ASSERT_TRUE(StartWithItems(1000, {{"workers", 1}, {"max_rows_per_second", 250}}));
  const std::string running =
      CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 100}});
  const std::string pending =
      CreateExport(*api_, {{"dataset", "items"}, {"format", "json"}, {"max_rows_per_file", 400}});
  ASSERT_FALSE(running.empty() || pending.empty());
  ASSERT_TRUE(WaitFor(
      [&] {
        Json t = GetTask(*api_, running);
        return t.is_object() && t.value("status", "") == "Processing" &&
               t["progress"].value("rows", 0) >= 300;
      },
      seconds(15)))
      << GetTask(*api_, running).dump();

  // The files recorded before the kill (the API lists files only once Succeeded; the audit trail
  // names each one as it is committed).
  std::map<std::string, ino_t> before;
  for (const std::string& name : CheckpointedFiles(GetEvents(*api_, running))) {
    before[name] = InodeOf(*server_, running, name);
  }
  server_->Kill();
  ASSERT_TRUE(server_->exit_status().has_value());
  ASSERT_GE(before.size(), 3u) << "expected 300+ rows in files of 100 before the kill";
  ASSERT_TRUE(Restart());

  Json task = WaitForTerminal(*api_, running, seconds(40));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  std::vector<int64_t> rows;
  for (const auto& f : task["files"]) rows.push_back(f.value("rows", -1));
  EXPECT_EQ(rows, std::vector<int64_t>(10, 100)) << task.dump();
  EXPECT_EQ(task["progress"].value("rows", -1), 1000) << task.dump();
  ExpectExportMatches(*api_, task, ExpectedItems());

  Json events = GetEvents(*api_, running);
  auto recovers = EventsOfType(events, "recover");
  ASSERT_EQ(recovers.size(), 1u) << events.dump();
  EXPECT_EQ(recovers[0].value("from", ""), "Processing") << recovers[0].dump();
  EXPECT_EQ(recovers[0].value("to", ""), "Pending") << recovers[0].dump();
  EXPECT_GE(EventsOfType(events, "start").size(), 2u) << events.dump();
  EXPECT_EQ(EventsOfType(events, "succeed").size(), 1u) << events.dump();
  EXPECT_EQ(task.value("attempts", -1), 1) << task.dump();
  EXPECT_EQ(task.value("recoveries", -1), 1) << task.dump();
  // Resumed, not restarted: the second start says where it resumed, every file was recorded
  // once, and the files committed before the kill are the very same files.
  const std::string resumed = EventsOfType(events, "start").back().value("detail", "");
  EXPECT_NE(resumed.find("resume at file"), std::string::npos) << events.dump();
  std::map<std::string, int> recorded;
  for (const std::string& name : CheckpointedFiles(events)) ++recorded[name];
  EXPECT_EQ(recorded.size(), 10u) << events.dump();
  for (const auto& [name, count] : recorded) EXPECT_EQ(count, 1) << name;
  for (const auto& [name, inode] : before) {
    EXPECT_NE(inode, 0u) << name;
    EXPECT_EQ(InodeOf(*server_, running, name), inode) << name << " was rewritten";
  }

  // The task that was waiting survives the crash too.
  Json other = WaitForTerminal(*api_, pending, seconds(40));
  ASSERT_EQ(other.value("status", ""), "Succeeded") << other.dump();
  ExpectExportMatches(*api_, other, ExpectedItems());
  EXPECT_TRUE(EventsOfType(GetEvents(*api_, pending), "recover").empty())
      << "a task that never ran has nothing to recover";
}

// Issue 16, item 13: each kill -9 used to add an attempt, so a task recovered twice showed
// attempts 3 of max_attempts 1. Interrupted runs are recoveries, not attempts.
TEST_F(CrashRecoveryTest, RecoveriesAreCountedApartFromAttempts) {
  ASSERT_TRUE(
      StartWithItems(1000, {{"workers", 1}, {"max_rows_per_second", 250}, {"max_attempts", 1}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 100}});
  ASSERT_FALSE(id.empty());
  for (int kill = 1; kill <= 2; ++kill) {
    // Killed while running, with at least one more file committed than at the previous kill.
    ASSERT_TRUE(WaitFor(
        [&] {
          Json t = GetTask(*api_, id);
          return t.is_object() && t.value("status", "") == "Processing" &&
                 t["progress"].value("rows", 0) >= 200 * kill;
        },
        seconds(20)))
        << GetTask(*api_, id).dump();
    server_->Kill();
    ASSERT_TRUE(Restart());
  }
  Json task = WaitForTerminal(*api_, id, seconds(40));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  EXPECT_EQ(task.value("attempts", -1), 1) << task.dump();
  EXPECT_LE(task.value("attempts", -1), task.value("max_attempts", 0)) << task.dump();
  EXPECT_EQ(task.value("recoveries", -1), 2) << task.dump();
  const Json events = GetEvents(*api_, id);
  EXPECT_EQ(EventsOfType(events, "recover").size(), 2u) << events.dump();
  EXPECT_EQ(EventsOfType(events, "start").size(), 3u) << events.dump();
  ExpectExportMatches(*api_, task, ExpectedItems());
}

TEST_F(CrashRecoveryTest, SigtermExitsZeroAndTheTaskFinishesAfterRestart) {
  ASSERT_TRUE(StartWithItems(1000, {{"workers", 1}, {"max_rows_per_second", 250}}));
  const std::string id =
      CreateExport(*api_, {{"dataset", "items"}, {"format", "tsv"}, {"max_rows_per_file", 300}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor(
      [&] {
        Json t = GetTask(*api_, id);
        return t.is_object() && t.value("status", "") == "Processing" &&
               t["progress"].value("rows", 0) >= 100;
      },
      seconds(15)));
  const auto t0 = Clock::now();
  EXPECT_EQ(server_->Stop(seconds(10)), 0) << "SIGTERM should exit 0 (-2: did not exit in time)";
  EXPECT_LT(Clock::now() - t0, seconds(5)) << "stopping took too long";
  ASSERT_TRUE(Restart());
  Json task = WaitForTerminal(*api_, id, seconds(40));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  ExpectExportMatches(*api_, task, ExpectedItems());
}

TEST_F(CrashRecoveryTest, TasksAndKeysSurviveARestart) {
  ASSERT_TRUE(StartWithItems(100));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  Json before = WaitForTerminal(*api_, id, seconds(30));
  ASSERT_EQ(before.value("status", ""), "Succeeded");
  const std::string old_url = before["files"][0].value("url", "");
  server_->Kill();
  ASSERT_TRUE(Restart());
  Json after = GetTask(*api_, id);
  EXPECT_EQ(after.value("status", ""), "Succeeded") << after.dump();
  EXPECT_EQ(after.value("query_hash", "x"), before.value("query_hash", "y"));
  // The URL secret is kept in DATA_DIR: links made before the restart still work.
  auto res = api_->GetUrl(old_url);
  EXPECT_EQ(res.status, 200) << res.Describe();
  ExpectExportMatches(*api_, after, ExpectedItems());
}

}  // namespace
}  // namespace exportd::itest
