// The crash loop: exportd runs a dozen slow exports (many small files, so many checkpoints) and
// is killed with SIGKILL at random moments, again and again, restarting each time on the same
// data dir. In the end every task has Succeeded with exactly the source's rows (none
// duplicated, none skipped, in order, the same file boundaries as an uninterrupted run), every
// file matches its task record and manifest, nothing else is left in the task's directory, and
// `exportd verify ID --source` passes for every task (when this build has the subcommand).
//
// The kill moments come from a seeded generator; the seed is printed, and EXPORTD_CRASH_SEED
// repeats a run (EXPORTD_CRASH_KILLS changes the number of kills, default 6).
//
// PostgresCrashLoopTest runs the same loop with the task store on PostgreSQL (the ctest fixture
// "postgres", a schema of its own), with fewer tasks and kills to keep its time short.
#include <algorithm>
#include <ctime>
#include <filesystem>
#include <random>
#include <thread>

#include "tests/integration/itest_support.h"
#include "tests/postgres/postgres_test_db.h"

namespace exportd::itest {
namespace {

namespace fs = std::filesystem;

constexpr int kRows = 12000;
constexpr int kRowsPerFile = 600;
constexpr int kRowsPerSecond = 2000;  // per export: 12000 rows take about 6 s

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

std::vector<std::string> StoredNames(const ExportdProcess& server, const std::string& id) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(server.data_dir()) / "exports" / id, ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

// True if this exportd build has the `verify` subcommand.
bool HasVerify(const ExportdProcess& server) {
  CommandResult help = server.RunCli({"--help"});
  return (help.out + help.err).find("verify") != std::string::npos;
}

class CrashLoopTest : public ExportdTest {
 protected:
  // Starts exportd with `config` and `env` added, creates the first `max_cases` of a dozen
  // exports, kills exportd `default_kills` times (EXPORTD_CRASH_KILLS) and checks every task.
  void RunCrashLoop(const Json& config, const std::map<std::string, std::string>& env,
                    size_t max_cases, int default_kills);
};

class PostgresCrashLoopTest : public CrashLoopTest {};

void CrashLoopTest::RunCrashLoop(const Json& config, const std::map<std::string, std::string>& env,
                                 size_t max_cases, int default_kills) {
  const uint64_t seed = EnvNumber("EXPORTD_CRASH_SEED", std::random_device{}());
  const int kills = static_cast<int>(EnvNumber("EXPORTD_CRASH_KILLS", default_kills));
  SCOPED_TRACE("crash seed " + std::to_string(seed) +
               " (EXPORTD_CRASH_SEED=" + std::to_string(seed) + " repeats the kill moments)");
  std::cout << "crash loop: seed " << seed << ", " << kills << " kills" << std::endl;
  std::mt19937_64 rng(seed);
  const auto t0 = Clock::now();

  Json full_config = {{"workers", 3}, {"max_rows_per_second", kRowsPerSecond}};
  for (auto it = config.begin(); it != config.end(); ++it) full_config[it.key()] = it.value();
  ASSERT_TRUE(StartWithItems(kRows, full_config, env));
  std::cout << "crash loop: source of " << kRows << " rows ready and exportd up in "
            << std::chrono::duration<double>(Clock::now() - t0).count() << " s" << std::endl;

  struct Case {
    Json body;
    ExpectedExport expected;
    int64_t rows = 0;
    std::string id;
  };
  const std::vector<std::string> some_fields = {"id", "name", "price", "observed_at", "beta"};
  std::vector<Case> cases;
  auto add = [&](Json body, ExpectedExport expected) {
    body["dataset"] = "items";
    if (!body.contains("max_rows_per_file")) body["max_rows_per_file"] = kRowsPerFile;
    const auto rows = static_cast<int64_t>(expected.rows.size());
    cases.push_back({std::move(body), std::move(expected), rows, ""});
  };
  for (const char* format : {"csv", "tsv", "json", "ndjson"}) {
    add({{"format", format}}, ExpectedItems());
  }
  add({{"format", "csv"}, {"compression", "gzip"}}, ExpectedItems());
  add({{"format", "ndjson"}, {"compression", "gzip"}, {"max_rows_per_file", 700}}, ExpectedItems());
  add({{"format", "csv"},
       {"fields", some_fields},
       {"filter", {{"region", "north"}}},
       {"max_rows_per_file", 300}},
      ExpectedItems(some_fields, "region = 'north'"));
  add({{"format", "json"},
       {"compression", "gzip"},
       {"filter", {{"id", {{"gt", 3000}}}}},
       {"max_rows_per_file", 1500}},
      ExpectedItems({}, "id > 3000"));
  add({{"format", "ndjson"}, {"fields", some_fields}}, ExpectedItems(some_fields));
  add({{"format", "csv"}, {"max_rows_per_file", 999}}, ExpectedItems());
  if (cases.size() > max_cases) cases.resize(max_cases);
  for (auto& c : cases) {
    c.id = CreateExport(*api_, c.body);
    ASSERT_FALSE(c.id.empty()) << c.body.dump();
  }

  // Kill at a random moment 0.05..2.5 s after each (re)start.
  std::uniform_int_distribution<int> pause_ms(50, 2500);
  std::vector<int> pauses;
  for (int k = 0; k < kills; ++k) {
    const int pause = pause_ms(rng);
    pauses.push_back(pause);
    std::this_thread::sleep_for(milliseconds(pause));
    int64_t committed = 0;  // rows of the tasks as last reported, to show progress in the log
    int done = 0;
    for (const auto& c : cases) {
      auto res = api_->Get("/v1/exports/" + c.id);
      if (res.status != 200) continue;
      committed += res.json["progress"].value("rows", int64_t{0});
      if (res.json.value("status", "") == "Succeeded") ++done;
      ASSERT_NE(res.json.value("status", ""), "Failed") << "kill " << k << ": " << res.body;
    }
    server_->Kill();
    ASSERT_TRUE(server_->exit_status().has_value());
    std::cout << "crash loop: kill " << k + 1 << " after " << pause << " ms (" << done
              << " tasks done, progress rows " << committed << ")" << std::endl;
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << "restart " << k + 1 << " failed: " << error;
  }
  const auto killed_at = Clock::now();

  int recovers = 0;
  for (auto& c : cases) {
    SCOPED_TRACE("task " + c.id + " " + c.body.dump());
    Json task = WaitForTerminal(*api_, c.id, seconds(60));
    ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
    EXPECT_EQ(task["progress"].value("rows", int64_t{-1}), c.rows) << task.dump();
    // The same file boundaries as an uninterrupted run.
    const int64_t per_file = c.body.value("max_rows_per_file", kRowsPerFile);
    std::vector<int64_t> want_rows;
    for (int64_t left = c.rows; left > 0; left -= per_file) {
      want_rows.push_back(std::min(left, per_file));
    }
    std::vector<int64_t> got_rows;
    std::vector<std::string> want_names = {"manifest.json"};
    for (const auto& f : task["files"]) {
      got_rows.push_back(f.value("rows", int64_t{-1}));
      want_names.push_back(f.value("name", ""));
    }
    EXPECT_EQ(got_rows, want_rows) << task.dump();
    std::sort(want_names.begin(), want_names.end());
    EXPECT_EQ(Join(StoredNames(*server_, c.id)), Join(want_names))
        << "DATA_DIR/exports/" << c.id << " holds more or less than the task's files";
    // Rows, order and values against the source; sha256 and bytes against task and manifest.
    ExpectExportMatches(*api_, task, c.expected);
    recovers += static_cast<int>(EventsOfType(GetEvents(*api_, c.id), "recover").size());
  }
  const auto finished_at = Clock::now();

  if (HasVerify(*server_)) {
    for (const auto& c : cases) {
      CommandResult v = server_->RunCli(
          {"verify", c.id, "--source", "--config", server_->config_path()}, seconds(60));
      EXPECT_EQ(v.exit_code, 0) << "exportd verify " << c.id << " --source\n" << v.out << v.err;
    }
  } else {
    std::cout << "crash loop: this exportd has no verify subcommand; skipped" << std::endl;
  }
  auto secs = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  std::cout << "crash loop: seed " << seed << ", " << kills << " kills, " << recovers
            << " recover events; kills done at " << secs(killed_at - t0) << " s, all succeeded at "
            << secs(finished_at - t0) << " s, checked at " << secs(Clock::now() - t0) << " s"
            << std::endl;
}

TEST_F(CrashLoopTest, KilledAgainAndAgainEveryTaskSucceedsExactly) {
  RunCrashLoop(Json::object(), {}, 100, 6);
}

// The same on PostgreSQL: each restart is the same instance (instance_id), so it takes back its
// Processing tasks at once, as a restart on SQLite does; what a kill must not lose is now in the
// server's tables. Six tasks (csv, tsv, json, ndjson, gzip csv, gzip ndjson), four kills.
TEST_F(PostgresCrashLoopTest, KilledAgainAndAgainEveryTaskSucceedsExactly) {
  const std::string url = FreshSchemaUrl();
  ASSERT_FALSE(url.empty());
  RunCrashLoop({{"instance_id", "crash-loop"}}, {{"EXPORTD_TASK_STORE_URL", url}}, 6, 4);
}

// Incremental exports of overlapping scopes, killed again and again: every record of every
// window is exported exactly once across all tasks, and the watermarks end where the last
// Succeeded window of each partition ended. Rows are one an hour from 2024-01-01 (12,000 hours,
// about 500 days) in four regions.
TEST_F(CrashLoopTest, KilledDuringIncrementalExportsEveryRecordIsExportedOnce) {
  const uint64_t seed = EnvNumber("EXPORTD_CRASH_SEED", std::random_device{}());
  const int kills = static_cast<int>(EnvNumber("EXPORTD_CRASH_KILLS", 5));
  SCOPED_TRACE("crash seed " + std::to_string(seed));
  std::cout << "incremental crash loop: seed " << seed << ", " << kills << " kills" << std::endl;
  std::mt19937_64 rng(seed);
  ASSERT_TRUE(StartWithItems(kRows, {{"workers", 3}, {"max_rows_per_second", kRowsPerSecond}}));

  // RFC 3339 of 2024-01-01 plus `d` days.
  auto day = [](int d) {
    const std::time_t t = 1704067200 + static_cast<std::time_t>(d) * 86400;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf);
  };
  // Overlapping scopes, in creation order; together they cover every row once.
  const std::vector<std::pair<std::vector<std::string>, int>> plan = {
      {{}, 100}, {{"north"}, 200}, {{}, 250}, {{"south", "east"}, 400}, {{}, 600}};
  std::vector<std::string> ids;
  for (const auto& [partitions, until_day] : plan) {
    Json body = {{"dataset", "items"},
                 {"fields", {"id"}},
                 {"incremental", true},
                 {"until", day(until_day)},
                 {"max_rows_per_file", 500}};
    if (!partitions.empty()) body["partitions"] = partitions;
    ids.push_back(CreateExport(*api_, body));
    ASSERT_FALSE(ids.back().empty());
  }
  std::uniform_int_distribution<int> pause_ms(50, 2500);
  for (int k = 0; k < kills; ++k) {
    std::this_thread::sleep_for(milliseconds(pause_ms(rng)));
    server_->Kill();
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << "restart " << k + 1 << " failed: " << error;
  }

  std::vector<int64_t> exported;
  for (const std::string& id : ids) {
    Json task = WaitForTerminal(*api_, id, seconds(120));
    ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
    const std::vector<int64_t> got = ExportedIds(*api_, task);
    exported.insert(exported.end(), got.begin(), got.end());
  }
  std::sort(exported.begin(), exported.end());
  std::vector<int64_t> every;
  for (int64_t i = 1; i <= kRows; ++i) every.push_back(i);
  EXPECT_EQ(exported.size(), every.size()) << "rows exported twice or not at all";
  EXPECT_TRUE(exported == every) << "the union of all windows is not every row exactly once";
  HttpResponse marks = api_->Get("/v1/datasets/items/watermarks");
  ASSERT_EQ(marks.status, 200);
  ASSERT_EQ(marks.json["items"].size(), 4u) << marks.Describe();
  for (const Json& w : marks.json["items"]) {
    EXPECT_EQ(ParseRfc3339Millis(w["watermark"]), ParseRfc3339Millis(day(600))) << w.dump();
    EXPECT_EQ(w["task_id"], ids.back()) << w.dump();
  }
}

}  // namespace
}  // namespace exportd::itest
