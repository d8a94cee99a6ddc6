// Pause and resume against the real binary: a Pending task is Paused at once; a Processing one
// after the file it is writing, keeping its files; resumed, it ends with every row exactly once
// and the files of an uninterrupted run; 409s for the wrong states; a restart keeps a Paused
// task Paused; a Paused task can be cancelled; pausing spends no attempt.
#include <string>
#include <vector>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

class PauseTest : public ExportdTest {
 protected:
  HttpResponse Post(const std::string& id, const std::string& action) {
    return api_->Send("POST", "/v1/exports/" + id + "/" + action, "", "");
  }
  // The (name, rows, sha256) of each data file of a Succeeded task.
  static std::vector<std::string> FileBoundaries(const Json& task) {
    std::vector<std::string> out;
    for (const Json& f : task["files"]) {
      out.push_back(f.value("name", "") + " " + std::to_string(f.value("rows", -1)) + " " +
                    f.value("sha256", ""));
    }
    return out;
  }
};

TEST_F(PauseTest, PauseResumeRestartAndCancel) {
  // One worker; 1000 rows at 200 rows/s in files of 100: a file every 0.5 s.
  ASSERT_TRUE(StartWithItems(1000, {{"workers", 1}, {"max_rows_per_second", 200}}));
  const Json request = {{"dataset", "items"}, {"max_rows_per_file", 100}};
  const std::string slow = CreateExport(*api_, request);
  const std::string queued = CreateExport(*api_, {{"dataset", "items"}, {"format", "json"}});
  ASSERT_FALSE(slow.empty() || queued.empty());
  ASSERT_EQ(WaitForStatus(*api_, slow, {"Processing"}, seconds(10)).value("status", ""),
            "Processing");

  // A Pending task: Paused at once; a second pause and a resume of a Pending task are 409.
  auto res = Post(queued, "pause");
  ASSERT_EQ(res.status, 202) << res.Describe();
  EXPECT_EQ(res.json.value("status", ""), "Paused") << res.Describe();
  auto again = Post(queued, "pause");
  EXPECT_EQ(again.status, 409) << again.Describe();
  EXPECT_TRUE(IsProblem(again));
  auto not_paused = Post(slow, "resume");
  EXPECT_EQ(not_paused.status, 409) << not_paused.Describe();
  EXPECT_TRUE(IsProblem(not_paused));
  // Another principal sees neither.
  HttpClient bob(server_->host(), server_->port(), CreateKey("bob"));
  EXPECT_EQ(bob.Send("POST", "/v1/exports/" + slow + "/pause", "", "").status, 404);
  EXPECT_EQ(bob.Send("POST", "/v1/exports/" + queued + "/resume", "", "").status, 404);

  // A Processing task: Paused within a few seconds, with some files committed.
  ASSERT_TRUE(WaitForProcessingRows(*api_, slow, 250, seconds(15)));
  res = Post(slow, "pause");
  ASSERT_EQ(res.status, 202) << res.Describe();
  Json paused = WaitForStatus(*api_, slow, {"Paused"}, seconds(5));
  ASSERT_EQ(paused.value("status", ""), "Paused") << paused.dump();
  const int64_t rows_at_pause = paused["progress"].value("rows", 0);
  EXPECT_GE(rows_at_pause, 300);
  EXPECT_LT(rows_at_pause, 1000) << "the export finished before the pause";
  EXPECT_EQ(rows_at_pause % 100, 0) << "a pause stops after a committed file";
  EXPECT_EQ(paused.value("attempts", -1), 0) << "pausing spends no attempt";
  Json listed = api_->Get("/v1/exports?status=Paused").json;
  EXPECT_EQ(listed["items"].size(), 2u) << listed.dump();
  EXPECT_NE(api_->Get("/metrics").body.find("exportd_tasks{state=\"Paused\"} 2"),
            std::string::npos);
  std::vector<Json> pauses = EventsOfType(GetEvents(*api_, slow), "pause");
  ASSERT_EQ(pauses.size(), 1u);
  EXPECT_EQ(pauses[0].value("from", ""), "Processing");
  EXPECT_EQ(pauses[0].value("to", ""), "Paused");
  EXPECT_EQ(EventsOfType(GetEvents(*api_, slow), "pause_requested").size(), 1u);

  // A restart keeps both Paused, with their progress.
  EXPECT_EQ(server_->Stop(seconds(10)), 0);
  std::string error;
  ASSERT_TRUE(server_->Start(&error)) << error;
  // A task created after the restart is claimed and finishes: the worker passed both by.
  const std::string after =
      CreateExport(*api_, {{"dataset", "items"}, {"filter", {{"id", {{"lte", 5}}}}}});
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(WaitForTerminal(*api_, after, seconds(30)).value("status", ""), "Succeeded");
  EXPECT_EQ(GetTask(*api_, slow).value("status", ""), "Paused");
  EXPECT_EQ(GetTask(*api_, slow)["progress"].value("rows", 0), rows_at_pause);
  EXPECT_EQ(GetTask(*api_, queued).value("status", ""), "Paused");

  // Cancel of a Paused task: at once.
  res = Post(queued, "cancel");
  ASSERT_EQ(res.status, 202) << res.Describe();
  EXPECT_EQ(res.json.value("status", ""), "Cancelled") << res.Describe();
  EXPECT_EQ(Post(queued, "resume").status, 409);

  // Resume: Pending, then Succeeded with every row once and the files of an uninterrupted run.
  res = Post(slow, "resume");
  ASSERT_EQ(res.status, 202) << res.Describe();
  EXPECT_TRUE(res.json.value("status", "") == "Pending" ||
              res.json.value("status", "") == "Processing")
      << res.Describe();
  Json done = WaitForTerminal(*api_, slow, seconds(30));
  ASSERT_EQ(done.value("status", ""), "Succeeded") << done.dump();
  EXPECT_EQ(done.value("attempts", -1), 1);
  ExpectExportMatches(*api_, done, ExpectedItems());
  EXPECT_EQ(Post(slow, "pause").status, 409);
  EXPECT_EQ(Post(slow, "resume").status, 409);

  const std::string whole = CreateExport(*api_, request);
  Json reference = WaitForTerminal(*api_, whole, seconds(30));
  ASSERT_EQ(reference.value("status", ""), "Succeeded") << reference.dump();
  EXPECT_EQ(FileBoundaries(done), FileBoundaries(reference));
}

// Issue 21's drill: pause at varied moments of a long export, resume, ten times; the finished
// export has every row exactly once and `exportd verify --source` passes.
TEST_F(PauseTest, TenPausesAndResumesLoseAndRepeatNothing) {
  ASSERT_TRUE(StartWithItems(3000, {{"workers", 1}, {"max_rows_per_second", 600}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 70}});
  ASSERT_FALSE(id.empty());
  int pauses = 0;
  for (int round = 0; round < 10; ++round) {
    // A varied moment: some rows after the previous resume (the first round: after the start).
    const int64_t before = GetTask(*api_, id)["progress"].value("rows", 0);
    if (!WaitForProcessingRows(*api_, id, before + 37 * (round % 4 + 1), seconds(15))) break;
    auto res = Post(id, "pause");
    if (res.status == 409) break;  // it finished meanwhile
    ASSERT_EQ(res.status, 202) << res.Describe();
    Json t = WaitForStatus(*api_, id, {"Paused", "Succeeded"}, seconds(5));
    if (t.value("status", "") == "Succeeded") break;
    ASSERT_EQ(t.value("status", ""), "Paused") << t.dump();
    EXPECT_EQ(t["progress"].value("rows", 0) % 70, 0) << t.dump();
    EXPECT_EQ(t.value("attempts", -1), 0) << t.dump();
    ++pauses;
    ASSERT_EQ(Post(id, "resume").status, 202);
  }
  EXPECT_GE(pauses, 5) << "the export ran out before enough pauses";
  Json done = WaitForTerminal(*api_, id, seconds(60));
  ASSERT_EQ(done.value("status", ""), "Succeeded") << done.dump();
  EXPECT_EQ(done.value("attempts", -1), 1);
  EXPECT_EQ(static_cast<int>(EventsOfType(GetEvents(*api_, id), "pause").size()), pauses);
  ExpectExportMatches(*api_, done, ExpectedItems());
  CommandResult verified =
      server_->RunCli({"verify", id, "--config", server_->config_path(), "--source"}, seconds(60));
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

}  // namespace
}  // namespace exportd::itest
