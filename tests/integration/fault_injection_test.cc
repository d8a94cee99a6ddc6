// Faults injected through the "fault_injection" configuration (storage/faults/fault_injection.h):
// the real binary with a source and an object store that fail on purpose.
//   - 20% transient faults on source and store: every task still Succeeds with exact data;
//   - a permanent source fault: Failed after one attempt with a clear, non-retryable error;
//   - a fault on every attempt: Failed with attempts == max_attempts;
//   - a full disk (ENOSPC from the writer): the attempt fails cleanly, nothing partial visible.
// EXPORTD_FAULT_SEED overrides the seed of the 20% test (printed when a test fails).
#include <algorithm>
#include <filesystem>

#include "tests/integration/itest_support.h"
#include "tests/integration/stored_files.h"

namespace exportd::itest {
namespace {

namespace fs = std::filesystem;

uint64_t SeedFromEnv(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

// Every entry of DATA_DIR/exports/<id> (empty if the directory does not exist).
std::vector<std::string> StoredNames(const ExportdProcess& server, const std::string& id) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(server.data_dir()) / "exports" / id, ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The files a Succeeded task lists, plus its manifest: exactly what its directory must hold.
std::vector<std::string> ExpectedNames(const Json& task) {
  std::vector<std::string> names = {"manifest.json"};
  for (const auto& f : task["files"]) names.push_back(f.value("name", ""));
  std::sort(names.begin(), names.end());
  return names;
}

class FaultInjectionTest : public ExportdTest {
 protected:
  // Small retry delays: these tests spend many attempts.
  static Json Config(const Json& faults, int max_attempts) {
    return {{"workers", 1},
            {"max_attempts", max_attempts},
            {"retry_base_delay_ms", 5},
            {"retry_max_delay_ms", 40},
            {"fault_injection", faults}};
  }

  // The scheduler records the terminal state before it removes the files (so that a crash in
  // between never leaves a checkpoint listing deleted files): wait a moment for the removal.
  void ExpectNothingStored(const std::string& id) {
    WaitFor([&] { return StoredNames(*server_, id).empty(); }, seconds(5));
    EXPECT_EQ(StoredNames(*server_, id), std::vector<std::string>{})
        << "a failed task leaves nothing in DATA_DIR/exports/" << id;
  }
};

TEST_F(FaultInjectionTest, TwentyPercentTransientFaultsEveryTaskSucceedsWithExactData) {
  const uint64_t seed = SeedFromEnv("EXPORTD_FAULT_SEED", 20240601);
  SCOPED_TRACE("fault seed " + std::to_string(seed) +
               " (EXPORTD_FAULT_SEED=" + std::to_string(seed) + " repeats it)");
  const Json faults = {
      {"seed", seed},
      {"source", {{"fail_rate", 0.2}, {"mode", "transient"}, {"fail_window_rows", 400}}},
      {"object_store", {{"write_fail_rate", 0.2}, {"commit_fail_rate", 0.2}}}};
  ASSERT_TRUE(StartWithItems(400, Config(faults, 60)));
  EXPECT_NE(server_->stderr_log().find("FAULT INJECTION IS ON"), std::string::npos)
      << "no loud warning at start:\n"
      << server_->LogTail();

  struct Case {
    Json body;
    ExpectedExport expected;
  };
  std::vector<Case> cases = {
      {{{"dataset", "items"}, {"format", "csv"}}, ExpectedItems()},
      {{{"dataset", "items"}, {"format", "ndjson"}, {"max_rows_per_file", 250}}, ExpectedItems()},
      {{{"dataset", "items"}, {"format", "json"}, {"compression", "gzip"}}, ExpectedItems()},
      {{{"dataset", "items"}, {"format", "tsv"}, {"max_rows_per_file", 150}}, ExpectedItems()},
      {{{"dataset", "items"},
        {"format", "csv"},
        {"fields", {"id", "name", "alpha"}},
        {"filter", {{"region", "north"}}}},
       ExpectedItems({"id", "name", "alpha"}, "region = 'north'")},
      {{{"dataset", "items"}, {"format", "ndjson"}, {"tag", "six"}}, ExpectedItems()},
  };
  std::vector<std::string> ids;
  for (const auto& c : cases) ids.push_back(CreateExport(*api_, c.body));
  int attempts = 0;
  int retries = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE("task " + std::to_string(i) + " " + ids[i] + " " + cases[i].body.dump());
    ASSERT_FALSE(ids[i].empty());
    Json task = WaitForTerminal(*api_, ids[i], seconds(90));
    ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
    ExpectExportMatches(*api_, task, cases[i].expected);
    EXPECT_EQ(StoredNames(*server_, ids[i]), ExpectedNames(task))
        << "only the listed files and the manifest are stored";
    attempts += task.value("attempts", 0);
    retries += static_cast<int>(EventsOfType(GetEvents(*api_, ids[i]), "retry").size());
  }
  std::cout << "fault seed " << seed << ": " << ids.size() << " tasks took " << attempts
            << " attempts (" << retries << " retries)" << std::endl;
  EXPECT_GT(attempts, static_cast<int>(ids.size())) << "no fault was injected at all";
  EXPECT_GT(retries, 0);
}

TEST_F(FaultInjectionTest, PermanentSourceFaultFailsAfterOneAttemptWithAClearError) {
  // The reader fails for good after 50 rows: two files of 20 rows are already committed.
  const Json faults = {{"seed", 1}, {"source", {{"mode", "permanent"}, {"fail_after_rows", 50}}}};
  ASSERT_TRUE(StartWithItems(300, Config(faults, 5)));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 20}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForTerminal(*api_, id, seconds(30));
  ASSERT_EQ(task.value("status", ""), "Failed") << task.dump();
  EXPECT_EQ(task.value("attempts", -1), 1) << task.dump();
  ASSERT_TRUE(task["error"].is_object()) << task.dump();
  EXPECT_EQ(task["error"].value("code", ""), "failed_precondition") << task.dump();
  EXPECT_EQ(task["error"].value("retryable", true), false) << task.dump();
  const std::string message = task["error"].value("message", "");
  EXPECT_NE(message.find("items"), std::string::npos) << "names the dataset: " << message;
  EXPECT_NE(message.find("permanently"), std::string::npos) << message;
  EXPECT_NE(message.find("row 51"), std::string::npos) << "says where: " << message;
  EXPECT_TRUE(task["files"].is_array() && task["files"].empty()) << task.dump();
  Json events = GetEvents(*api_, id);
  EXPECT_TRUE(EventsOfType(events, "retry").empty()) << events.dump();
  EXPECT_EQ(EventsOfType(events, "start").size(), 1u) << events.dump();
  EXPECT_EQ(EventsOfType(events, "fail").size(), 1u) << events.dump();
  ExpectNothingStored(id);
}

TEST_F(FaultInjectionTest, SourceBusyOnEveryAttemptFailsWithAttemptsEqualToMaxAttempts) {
  const Json faults = {{"seed", 1}, {"source", {{"fail_rate", 1.0}, {"mode", "transient"}}}};
  ASSERT_TRUE(StartWithItems(100, Config(faults, 4)));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForTerminal(*api_, id, seconds(30));
  ASSERT_EQ(task.value("status", ""), "Failed") << task.dump();
  EXPECT_EQ(task.value("attempts", -1), 4) << task.dump();
  EXPECT_EQ(task.value("max_attempts", -1), 4) << task.dump();
  ASSERT_TRUE(task["error"].is_object()) << task.dump();
  EXPECT_EQ(task["error"].value("code", ""), "unavailable") << task.dump();
  EXPECT_EQ(task["error"].value("retryable", false), true) << task.dump();
  EXPECT_NE(task["error"].value("message", "").find("busy"), std::string::npos) << task.dump();
  Json events = GetEvents(*api_, id);
  EXPECT_EQ(EventsOfType(events, "retry").size(), 3u) << events.dump();
  EXPECT_EQ(EventsOfType(events, "start").size(), 4u) << events.dump();
  EXPECT_EQ(EventsOfType(events, "fail").size(), 1u) << events.dump();
  ExpectNothingStored(id);
}

TEST_F(FaultInjectionTest, FsyncFailingOnEveryCommitFailsWithAttemptsEqualToMaxAttempts) {
  const Json faults = {{"seed", 1}, {"object_store", {{"commit_fail_rate", 1.0}}}};
  ASSERT_TRUE(StartWithItems(100, Config(faults, 3)));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 30}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForTerminal(*api_, id, seconds(30));
  ASSERT_EQ(task.value("status", ""), "Failed") << task.dump();
  EXPECT_EQ(task.value("attempts", -1), 3) << task.dump();
  ASSERT_TRUE(task["error"].is_object()) << task.dump();
  EXPECT_EQ(task["error"].value("retryable", false), true) << task.dump();
  EXPECT_NE(task["error"].value("message", "").find("fsync"), std::string::npos) << task.dump();
  EXPECT_TRUE(task["files"].is_array() && task["files"].empty()) << task.dump();
  EXPECT_EQ(EventsOfType(GetEvents(*api_, id), "retry").size(), 2u);
  ExpectNothingStored(id);
}

TEST_F(FaultInjectionTest, FullDiskFailsTheAttemptCleanlyWithNothingPartialVisible) {
  // About 20 KB fit: the first files are committed, then every write fails with ENOSPC. The
  // retry delay is long enough to look at the directory between the two attempts.
  Json config =
      Config({{"seed", 1}, {"object_store", {{"enospc", true}, {"enospc_after_bytes", 20000}}}}, 2);
  config["retry_base_delay_ms"] = 1500;
  config["retry_max_delay_ms"] = 1500;
  ASSERT_TRUE(StartWithItems(1000, config));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 50}});
  ASSERT_FALSE(id.empty());

  ASSERT_TRUE(WaitFor(
      [&] {
        Json t = GetTask(*api_, id);
        return !EventsOfType(GetEvents(*api_, id), "retry").empty() ||
               IsTerminal(t.value("status", ""));
      },
      seconds(20)));
  Json between = GetTask(*api_, id);
  EXPECT_EQ(between.value("status", ""), "Pending") << between.dump();
  ASSERT_TRUE(between["error"].is_object()) << between.dump();
  EXPECT_NE(between["error"].value("message", "").find("No space left on device"),
            std::string::npos)
      << between.dump();
  EXPECT_TRUE(between["files"].is_array() && between["files"].empty()) << between.dump();
  // Between attempts only whole, committed parts may stay (a checkpoint to resume from): no
  // temporary file, and every part holds its header and exactly 50 rows.
  for (const std::string& name : StoredNames(*server_, id)) {
    EXPECT_EQ(name.rfind("part-", 0), 0u) << "partial or stray file between attempts: " << name;
    Table rows;
    std::string error;
    EXPECT_TRUE(ParseCsv(ReadStoredExportFile(server_->data_dir(), id, name), &rows, &error))
        << name << ": " << error;
    EXPECT_EQ(rows.size(), 51u) << name << " is not a whole part";
  }

  Json task = WaitForTerminal(*api_, id, seconds(30));
  ASSERT_EQ(task.value("status", ""), "Failed") << task.dump();
  EXPECT_EQ(task.value("attempts", -1), 2) << task.dump();
  ASSERT_TRUE(task["error"].is_object()) << task.dump();
  EXPECT_EQ(task["error"].value("code", ""), "unavailable") << task.dump();
  EXPECT_NE(task["error"].value("message", "").find("No space left on device"), std::string::npos)
      << task.dump();
  EXPECT_TRUE(task["files"].is_array() && task["files"].empty()) << task.dump();
  auto res = api_->Get("/v1/exports/" + id + "/files/part-00001.csv");
  EXPECT_NE(res.status, 200) << res.Describe();
  ExpectNothingStored(id);
}

TEST_F(FaultInjectionTest, FullDiskOnceThenFreedSucceedsWithExactData) {
  const Json faults = {
      {"seed", 1},
      {"object_store", {{"enospc", true}, {"enospc_after_bytes", 20000}, {"max_faults", 1}}}};
  ASSERT_TRUE(StartWithItems(1000, Config(faults, 3)));
  const std::string id =
      CreateExport(*api_, {{"dataset", "items"}, {"format", "ndjson"}, {"max_rows_per_file", 50}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForTerminal(*api_, id, seconds(30));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  EXPECT_EQ(task.value("attempts", -1), 2) << task.dump();
  ExpectExportMatches(*api_, task, ExpectedItems());
  EXPECT_EQ(StoredNames(*server_, id), ExpectedNames(task));
}

TEST_F(FaultInjectionTest, MidStreamTransientFaultResumesAndSucceedsExactly) {
  // The first reader fails after 130 rows (files of 50: two committed, one in progress).
  const Json faults = {{"seed", 1}, {"source", {{"fail_after_rows", 130}, {"max_faults", 1}}}};
  ASSERT_TRUE(StartWithItems(400, Config(faults, 3)));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 50}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForTerminal(*api_, id, seconds(30));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  EXPECT_EQ(task.value("attempts", -1), 2) << task.dump();
  std::vector<int64_t> rows;
  for (const auto& f : task["files"]) rows.push_back(f.value("rows", -1));
  EXPECT_EQ(rows, std::vector<int64_t>(8, 50)) << "same file boundaries as an uninterrupted run";
  ExpectExportMatches(*api_, task, ExpectedItems());
  EXPECT_EQ(StoredNames(*server_, id), ExpectedNames(task));
}

}  // namespace
}  // namespace exportd::itest
