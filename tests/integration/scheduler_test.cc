// The FIFO scheduler seen from outside: at most `workers` tasks Processing, tasks start in the
// order they were created, and progress moves while they run. Exports are slowed down with
// max_rows_per_second so that overlap is observable.
#include <algorithm>
#include <map>
#include <regex>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

class SchedulerTest : public ExportdTest {};

int64_t Millis(const Json& j) {
  return j.is_string() ? ParseRfc3339Millis(j.get<std::string>()).value_or(-1) : -1;
}

TEST_F(SchedulerTest, FiveTasksThreeWorkersFifoAndNeverMoreThanThree) {
  // 600 rows at 300 rows/s: about 2 s per export.
  ASSERT_TRUE(StartWithItems(600, {{"workers", 3}, {"max_rows_per_second", 300}}));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(
        CreateExport(*api_, {{"dataset", "items"}, {"tag", "task " + std::to_string(i)}}));
    ASSERT_FALSE(ids.back().empty());
  }

  int max_processing = 0;
  std::string fifo_violation;
  bool saw_progress_header = false;
  const bool all_done = WaitFor(
      [&] {
        auto res = api_->Get("/v1/exports?limit=200");
        if (res.status != 200 || !res.json.contains("items")) {
          ADD_FAILURE() << res.Describe();
          return true;
        }
        std::map<std::string, std::string> status;
        for (const auto& t : res.json["items"]) status[t.value("id", "")] = t.value("status", "");
        int processing = 0;
        int terminal = 0;
        bool pending_seen = false;  // in creation order: no started task after a pending one
        for (const auto& id : ids) {
          const std::string& s = status[id];
          if (s == "Processing") ++processing;
          if (IsTerminal(s)) ++terminal;
          if (s == "Pending") {
            pending_seen = true;
          } else if (pending_seen && fifo_violation.empty()) {
            fifo_violation =
                "task " + id + " is " + s + " while an earlier task is Pending: " + res.body;
          }
        }
        max_processing = std::max(max_processing, processing);
        if (!saw_progress_header && processing > 0) {
          for (const auto& id : ids) {
            if (status[id] != "Processing") continue;
            auto one = api_->Get("/v1/exports/" + id);
            if (one.json.value("status", "") != "Processing") break;
            EXPECT_EQ(one.Header("Retry-After"), "1") << one.Describe();
            const std::string progress = one.Header("X-Progress");
            EXPECT_TRUE(std::regex_match(progress,
                                         std::regex(R"([0-9]+(\.[0-9])?% \([0-9]+/[0-9]+ rows\))")))
                << "X-Progress: \"" << progress << "\"";
            saw_progress_header = true;
            break;
          }
        }
        return terminal == 5;
      },
      seconds(60), milliseconds(30));
  ASSERT_TRUE(all_done) << "not all 5 tasks finished in time";
  EXPECT_LE(max_processing, 3) << "more tasks Processing than workers";
  EXPECT_EQ(max_processing, 3) << "3 workers and 5 slow tasks, but never 3 running at once";
  EXPECT_TRUE(fifo_violation.empty()) << fifo_violation;
  EXPECT_TRUE(saw_progress_header);

  // Start order = creation order, from the audit trail and from started_at.
  std::vector<Json> tasks;
  int64_t prev_start = -1;
  int64_t prev_started_at = -1;
  for (const auto& id : ids) {
    Json t = GetTask(*api_, id);
    ASSERT_EQ(t.value("status", ""), "Succeeded") << t.dump();
    auto starts = EventsOfType(GetEvents(*api_, id), "start");
    ASSERT_EQ(starts.size(), 1u) << id;
    const int64_t start = Millis(starts[0]["at"]);
    EXPECT_GE(start, prev_start) << "task " << id << " started before an earlier-created task";
    prev_start = start;
    const int64_t started_at = Millis(t["started_at"]);
    EXPECT_GE(started_at, prev_started_at) << t.dump();
    prev_started_at = started_at;
    tasks.push_back(t);
  }
  // The 4th and 5th waited for a free worker: each started no earlier than the first finish.
  int64_t first_finish = INT64_MAX;
  for (size_t i = 0; i < 3; ++i)
    first_finish = std::min(first_finish, Millis(tasks[i]["finished_at"]));
  for (size_t i = 3; i < 5; ++i) {
    EXPECT_GE(Millis(tasks[i]["started_at"]), first_finish)
        << "task " << i + 1 << " started while 3 were running";
  }
  for (const auto& t : tasks) ExpectExportMatches(*api_, t, ExpectedItems());
}

TEST_F(SchedulerTest, ProgressMovesWhileProcessing) {
  // 1000 rows at 250 rows/s: about 4 s; progress is persisted about once a second.
  ASSERT_TRUE(StartWithItems(1000, {{"max_rows_per_second", 250}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 200}});
  ASSERT_FALSE(id.empty());
  std::vector<int64_t> rows_seen;
  bool saw_percent = false;
  bool saw_eta = false;
  bool saw_total = false;
  WaitFor(
      [&] {
        Json t = GetTask(*api_, id);
        if (!t.is_object()) return true;
        const Json& p = t["progress"];
        if (t.value("status", "") == "Processing" && p.is_object()) {
          if (p["rows"].is_number_integer()) rows_seen.push_back(p["rows"].get<int64_t>());
          if (p["rows_total"].is_number_integer()) {
            saw_total = true;
            EXPECT_EQ(p["rows_total"].get<int64_t>(), 1000) << t.dump();
          }
          if (p["percent"].is_number() && p["percent"].get<double>() > 0) {
            saw_percent = true;
            EXPECT_LE(p["percent"].get<double>(), 100.0);
          }
          if (p["eta_seconds"].is_number_integer()) saw_eta = true;
        }
        return IsTerminal(t.value("status", ""));
      },
      seconds(30), milliseconds(100));
  Json task = GetTask(*api_, id);
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  ASSERT_FALSE(rows_seen.empty()) << "never saw the task Processing";
  EXPECT_TRUE(std::is_sorted(rows_seen.begin(), rows_seen.end())) << "progress.rows went back";
  const auto distinct = std::set<int64_t>(rows_seen.begin(), rows_seen.end()).size();
  EXPECT_GE(distinct, 2u) << "progress.rows did not move during a 4 s export";
  EXPECT_TRUE(saw_total) << "rows_total never set while Processing";
  EXPECT_TRUE(saw_percent) << "percent never above 0 while Processing";
  EXPECT_TRUE(saw_eta) << "eta_seconds never set while Processing";
  ExpectExportMatches(*api_, task, ExpectedItems());
}

TEST_F(SchedulerTest, WorkersFromEnvironmentOverrideTheConfig) {
  // config says 3, EXPORTD_WORKERS says 1: the second task waits.
  ASSERT_TRUE(StartWithItems(300, {{"workers", 3}, {"max_rows_per_second", 300}},
                             {{"EXPORTD_WORKERS", "1"}}));
  const std::string a = CreateExport(*api_, {{"dataset", "items"}});
  const std::string b = CreateExport(*api_, {{"dataset", "items"}, {"format", "json"}});
  ASSERT_FALSE(a.empty() || b.empty());
  // Judged by the server's own timestamps: two GETs one after the other cannot show two tasks
  // Processing at one instant (the first may finish between them, and a GET may be up to a
  // second old), but b's start before a's end is exactly what a second worker would cause.
  Json ta = WaitForTerminal(*api_, a, seconds(30));
  Json tb = WaitForTerminal(*api_, b, seconds(30));
  EXPECT_EQ(ta.value("status", ""), "Succeeded") << ta.dump();
  ASSERT_GT(Millis(ta["finished_at"]), 0) << ta.dump();
  ASSERT_GT(Millis(tb["started_at"]), 0) << tb.dump();
  EXPECT_GE(Millis(tb["started_at"]), Millis(ta["finished_at"]))
      << "two tasks Processing with EXPORTD_WORKERS=1: " << ta.dump() << " " << tb.dump();
  EXPECT_EQ(tb.value("status", ""), "Succeeded") << tb.dump();
}

// On SQLite this instance is the whole cluster: max_running_cluster 2 with 3 workers runs two at
// once, and the third task starts only once one of the first two has finished.
TEST_F(SchedulerTest, MaxRunningClusterCapsTheOneInstanceOnSqlite) {
  ASSERT_TRUE(StartWithItems(
      300, {{"workers", 3}, {"max_running_cluster", 2}, {"max_rows_per_second", 300}}));
  std::vector<Json> tasks;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(CreateExport(*api_, {{"dataset", "items"}}));
    ASSERT_FALSE(ids.back().empty());
  }
  for (const std::string& id : ids) {
    tasks.push_back(WaitForTerminal(*api_, id, seconds(30)));
    ASSERT_EQ(tasks.back().value("status", ""), "Succeeded") << tasks.back().dump();
  }
  // By the server's own timestamps (see WorkersFromEnvironmentOverrideTheConfig).
  EXPECT_LT(Millis(tasks[1]["started_at"]), Millis(tasks[0]["finished_at"]))
      << "the first two ran one after the other: " << tasks[0].dump() << " " << tasks[1].dump();
  EXPECT_GE(Millis(tasks[2]["started_at"]),
            std::min(Millis(tasks[0]["finished_at"]), Millis(tasks[1]["finished_at"])))
      << "three Processing under max_running_cluster 2: " << tasks[2].dump();
  EXPECT_NE((server_->stderr_log() + server_->stdout_log()).find("with 2 workers"),
            std::string::npos)
      << server_->LogTail();
}

}  // namespace
}  // namespace exportd::itest
