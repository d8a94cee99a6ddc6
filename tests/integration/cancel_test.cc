// Cancel: a Pending task is Cancelled at once; a Processing one within 2 s with its partial
// files removed; a terminal one is 409. DELETE removes the files of a terminal task only.
#include <filesystem>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

namespace fs = std::filesystem;

class CancelTest : public ExportdTest {
 protected:
  // Regular files under DATA_DIR/exports/<id> (recursively); empty if the directory is gone.
  std::vector<std::string> FilesOf(const std::string& id) const {
    std::vector<std::string> out;
    const fs::path dir = fs::path(server_->data_dir()) / "exports" / id;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->is_regular_file()) out.push_back(it->path().string());
    }
    return out;
  }
};

TEST_F(CancelTest, PendingIsCancelledAtOnceAndProcessingWithinTwoSeconds) {
  // One worker; 1000 rows at 200 rows/s: the first export runs about 5 s.
  ASSERT_TRUE(StartWithItems(1000, {{"workers", 1}, {"max_rows_per_second", 200}}));
  const std::string slow = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 100}});
  const std::string queued = CreateExport(*api_, {{"dataset", "items"}, {"format", "json"}});
  ASSERT_FALSE(slow.empty() || queued.empty());
  Json t = WaitForStatus(*api_, slow, {"Processing"}, seconds(10));
  ASSERT_EQ(t.value("status", ""), "Processing") << t.dump();
  ASSERT_EQ(GetTask(*api_, queued).value("status", ""), "Pending");

  // Pending -> Cancelled at once.
  auto res = api_->Send("POST", "/v1/exports/" + queued + "/cancel", "", "");
  ASSERT_EQ(res.status, 202) << res.Describe();
  EXPECT_EQ(res.json.value("status", ""), "Cancelled") << res.Describe();
  Json q = GetTask(*api_, queued);
  EXPECT_EQ(q.value("status", ""), "Cancelled") << q.dump();
  EXPECT_TRUE(q["started_at"].is_null()) << q.dump();
  EXPECT_TRUE(q["finished_at"].is_string()) << q.dump();
  auto cancels = EventsOfType(GetEvents(*api_, queued), "cancel");
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].value("from", ""), "Pending");
  EXPECT_EQ(cancels[0].value("to", ""), "Cancelled");

  // Let the slow one commit a few files, then cancel it while Processing.
  ASSERT_TRUE(WaitFor(
      [&] {
        Json x = GetTask(*api_, slow);
        return x.is_object() && x["progress"].value("rows", 0) >= 250;
      },
      seconds(15)))
      << GetTask(*api_, slow).dump();
  const auto cancel_at = Clock::now();
  res = api_->Send("POST", "/v1/exports/" + slow + "/cancel", "", "");
  ASSERT_EQ(res.status, 202) << res.Describe();
  const std::string s = res.json.value("status", "");
  EXPECT_TRUE(s == "Processing" || s == "Cancelled") << res.Describe();
  if (s == "Processing") {
    EXPECT_EQ(res.json.value("cancel_requested", false), true) << res.Describe();
  }
  Json done = WaitForStatus(*api_, slow, {"Cancelled"}, milliseconds(2500));
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - cancel_at);
  ASSERT_EQ(done.value("status", ""), "Cancelled") << done.dump();
  EXPECT_LE(took.count(), 2100) << "Processing -> Cancelled took " << took.count() << " ms";
  EXPECT_LT(done["progress"].value("rows", 1000), 1000) << "the export finished before the cancel";
  EXPECT_TRUE(done["files"].is_array() && done["files"].empty()) << done.dump();
  EXPECT_FALSE(done.value("links", Json::object()).contains("manifest")) << done.dump();
  // Partial files removed.
  EXPECT_TRUE(WaitFor([&] { return FilesOf(slow).empty(); }, seconds(2)))
      << "files left behind: " << ::testing::PrintToString(FilesOf(slow));
  // Without a signature, no file of it can be fetched.
  auto dl = api_->Get("/v1/exports/" + slow + "/files/part-00001.csv");
  EXPECT_TRUE(dl.status == 403 || dl.status == 404 || dl.status == 410) << dl.Describe();
  auto events = GetEvents(*api_, slow);
  EXPECT_EQ(EventsOfType(events, "cancel").size(), 1u) << events.dump();

  // Terminal tasks: cancel is 409 problem+json.
  for (const auto& id : {slow, queued}) {
    auto again = api_->Send("POST", "/v1/exports/" + id + "/cancel", "", "");
    EXPECT_EQ(again.status, 409) << again.Describe();
    EXPECT_TRUE(IsProblem(again));
  }

  // The worker is free again: a new task runs to the end, and cancelling it then is 409.
  const std::string after =
      CreateExport(*api_, {{"dataset", "items"}, {"filter", {{"id", {{"lte", 100}}}}}});
  Json ta = WaitForTerminal(*api_, after, seconds(30));
  EXPECT_EQ(ta.value("status", ""), "Succeeded") << ta.dump();
  auto late = api_->Send("POST", "/v1/exports/" + after + "/cancel", "", "");
  EXPECT_EQ(late.status, 409) << late.Describe();
  EXPECT_TRUE(IsProblem(late));
  EXPECT_EQ(GetTask(*api_, after).value("status", ""), "Succeeded") << "terminal state changed";
}

TEST_F(CancelTest, DeleteRemovesFilesOfATerminalTaskOnly) {
  ASSERT_TRUE(StartWithItems(600, {{"workers", 1}, {"max_rows_per_second", 300}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 250}});
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForStatus(*api_, id, {"Processing"}, seconds(10)).value("status", ""),
            "Processing");
  auto busy = api_->Delete("/v1/exports/" + id);
  EXPECT_EQ(busy.status, 409) << busy.Describe();
  EXPECT_TRUE(IsProblem(busy));

  Json task = WaitForTerminal(*api_, id, seconds(30));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  ASSERT_EQ(task["files"].size(), 3u) << task.dump();
  EXPECT_FALSE(FilesOf(id).empty())
      << "a Succeeded task has no files under DATA_DIR/exports/" << id;
  const std::string url = task["files"][0].value("url", "");
  ASSERT_EQ(api_->GetUrl(url).status, 200);

  auto del = api_->Delete("/v1/exports/" + id);
  EXPECT_EQ(del.status, 204) << del.Describe();
  Json after = GetTask(*api_, id);
  EXPECT_EQ(after.value("status", ""), "Succeeded") << "the record stays: " << after.dump();
  EXPECT_TRUE(after["files"].is_array() && after["files"].empty()) << after.dump();
  EXPECT_TRUE(FilesOf(id).empty()) << ::testing::PrintToString(FilesOf(id));
  auto gone = api_->GetUrl(url);
  EXPECT_TRUE(gone.status == 404 || gone.status == 410 || gone.status == 403) << gone.Describe();
  EXPECT_TRUE(IsProblem(gone));
  EXPECT_EQ(EventsOfType(GetEvents(*api_, id), "files_deleted").size(), 1u);
}

}  // namespace
}  // namespace exportd::itest
