// Retention against the real binary: a finished export's files live `retention` (the
// deployment's default or the request's own), then the janitor deletes them, the record stays
// with files [] and an "expired" event, and the download links answer 410 Gone. Bad retention
// values are 422 in both request forms.
#include <filesystem>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

namespace fs = std::filesystem;

class RetentionTest : public ExportdTest {
 protected:
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

  // The task once the janitor has recorded its expiry, or null after `timeout`.
  Json WaitForExpired(const std::string& id, Clock::duration timeout) {
    Json task;
    bool expired = WaitFor(
        [&] {
          task = GetTask(*api_, id);
          return task.is_object() && task["files"].is_array() && task["files"].empty();
        },
        timeout, milliseconds(100));
    return expired ? task : Json(nullptr);
  }

  HttpResponse PostQuery(const std::string& query) {
    return api_->Send("POST", "/v1/exports?" + query, "", "");
  }
};

int64_t Millis(const Json& rfc3339) {
  if (!rfc3339.is_string()) return -1;
  return ParseRfc3339Millis(rfc3339.get<std::string>()).value_or(-1);
}

TEST_F(RetentionTest, ExpiredFilesAreDeletedRecordedAndAnswer410) {
  // retention from the environment, as operators override top-level scalars.
  ASSERT_TRUE(StartWithItems(1000, {{"max_retention", "1h"}, {"janitor_interval_seconds", 1}},
                             {{"EXPORTD_RETENTION", "2s"}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 400}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForTerminal(*api_, id, seconds(30));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  ASSERT_EQ(task["files"].size(), 3u) << task.dump();
  EXPECT_EQ(task.value("retention_seconds", -1), 2) << task.dump();
  const int64_t expire_ms = Millis(task["files_expire_at"]);
  EXPECT_EQ(expire_ms - Millis(task["finished_at"]), 2000) << task.dump();
  for (const Json& f : task["files"]) {
    EXPECT_LE(Millis(f["expires_at"]), expire_ms) << "a link outlives the files: " << f.dump();
  }
  const std::string url = task["files"][0].value("url", "");
  const std::string manifest_url = task["links"].value("manifest", "");
  ASSERT_FALSE(manifest_url.empty()) << task.dump();
  auto fresh = api_->GetUrl(url);
  ASSERT_EQ(fresh.status, 200) << fresh.Describe();
  EXPECT_FALSE(FilesOf(id).empty());

  Json expired = WaitForExpired(id, seconds(20));
  ASSERT_TRUE(expired.is_object())
      << "the janitor never expired " << id << ": " << GetTask(*api_, id).dump();
  EXPECT_EQ(expired.value("status", ""), "Succeeded") << "the record stays";
  EXPECT_EQ(Millis(expired["files_expire_at"]), expire_ms);
  EXPECT_FALSE(expired["links"].contains("manifest")) << expired.dump();
  // At millisecond precision: whole seconds * 1000 lag the instant by up to 999 ms, so the
  // janitor's (correct) deletion right after expire_ms looked premature about half the time.
  EXPECT_GE(UnixNowMillis(), expire_ms);
  const Json events = GetEvents(*api_, id);
  ASSERT_EQ(EventsOfType(events, "expired").size(), 1u) << events.dump();
  EXPECT_GE(Millis(EventsOfType(events, "expired")[0]["at"]), expire_ms);
  EXPECT_TRUE(FilesOf(id).empty()) << ::testing::PrintToString(FilesOf(id));

  // The links were genuine: Gone, not Forbidden. A forged one stays 403.
  for (const std::string& link : {url, manifest_url}) {
    auto gone = api_->GetUrl(link);
    EXPECT_EQ(gone.status, 410) << gone.Describe();
    EXPECT_TRUE(IsProblem(gone));
  }
  std::string forged = url;
  forged.back() = forged.back() == '0' ? '1' : '0';
  auto forbidden = api_->GetUrl(forged);
  EXPECT_EQ(forbidden.status, 403) << forbidden.Describe();
  EXPECT_TRUE(IsProblem(forbidden));

  // DELETE of an expired export: 204, and again 204; nothing new to record.
  EXPECT_EQ(api_->Delete("/v1/exports/" + id).status, 204);
  EXPECT_EQ(api_->Delete("/v1/exports/" + id).status, 204);
  EXPECT_TRUE(EventsOfType(GetEvents(*api_, id), "files_deleted").empty());
}

TEST_F(RetentionTest, ARequestsOwnRetentionInEitherFormOverridesTheDefault) {
  ASSERT_TRUE(StartWithItems(500, {{"retention", "1h"}, {"janitor_interval_seconds", 1}}));
  const std::string by_json =
      CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 400}, {"retention", 2}});
  auto created = PostQuery("dataset=items&max_rows_per_file=400&retention=2s");
  ASSERT_EQ(created.status, 202) << created.Describe();
  const std::string by_query = created.json.value("id", "");
  const std::string by_default = CreateExport(*api_, {{"dataset", "items"}});
  ASSERT_FALSE(by_json.empty() || by_query.empty() || by_default.empty());
  for (const std::string& id : {by_json, by_query, by_default}) {
    Json task = WaitForTerminal(*api_, id, seconds(30));
    ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  }
  EXPECT_EQ(GetTask(*api_, by_default).value("retention_seconds", -1), 3600);
  EXPECT_EQ(GetTask(*api_, by_query).value("retention_seconds", -1), 2);
  // Retention does not decide the output: the same query, the same hash.
  EXPECT_EQ(GetTask(*api_, by_json).value("query_hash", "a"),
            GetTask(*api_, by_query).value("query_hash", "b"));

  EXPECT_TRUE(WaitForExpired(by_json, seconds(20)).is_object());
  EXPECT_TRUE(WaitForExpired(by_query, seconds(20)).is_object());
  EXPECT_TRUE(FilesOf(by_json).empty());
  EXPECT_TRUE(FilesOf(by_query).empty());
  Json kept = GetTask(*api_, by_default);
  EXPECT_FALSE(kept["files"].empty()) << kept.dump();
  EXPECT_FALSE(FilesOf(by_default).empty());
  EXPECT_TRUE(EventsOfType(GetEvents(*api_, by_default), "expired").empty());
  auto download = api_->GetUrl(kept["files"][0].value("url", ""));
  EXPECT_EQ(download.status, 200) << download.Describe();
}

TEST_F(RetentionTest, BadRetentionValuesAre422InBothForms) {
  ASSERT_TRUE(StartWithItems(10, {{"retention", "1d"}, {"max_retention", "2d"}}));
  for (const Json& value :
       {Json(0), Json(-5), Json("soon"), Json("1.5h"), Json("3d"), Json(2 * 86400 + 1), Json("")}) {
    auto res = api_->PostJson("/v1/exports", {{"dataset", "items"}, {"retention", value}});
    EXPECT_EQ(res.status, 422) << value.dump() << ": " << res.Describe();
    EXPECT_TRUE(IsProblem(res)) << value.dump();
    ASSERT_TRUE(res.json.contains("errors")) << res.Describe();
    EXPECT_EQ(res.json["errors"][0].value("pointer", ""), "/retention") << res.Describe();
  }
  for (const std::string value : {"0", "soon", "3d", "172801", "1h30m"}) {
    auto res = PostQuery("dataset=items&retention=" + value);
    EXPECT_EQ(res.status, 422) << value << ": " << res.Describe();
    EXPECT_TRUE(IsProblem(res)) << value;
    ASSERT_TRUE(res.json.contains("errors")) << res.Describe();
    EXPECT_EQ(res.json["errors"][0].value("pointer", ""), "/retention") << res.Describe();
  }
  auto wrong_type = api_->PostJson("/v1/exports", {{"dataset", "items"}, {"retention", true}});
  EXPECT_EQ(wrong_type.status, 400) << wrong_type.Describe();
  auto at_max = api_->PostJson("/v1/exports", {{"dataset", "items"}, {"retention", "2d"}});
  EXPECT_EQ(at_max.status, 202) << at_max.Describe();
  EXPECT_EQ(at_max.json.value("retention_seconds", -1), 2 * 86400);
}

TEST_F(RetentionTest, MaxRetentionBelowRetentionFailsStartUp) {
  ExportdProcess::Options options;
  options.config = {{"retention", "40d"}};
  ExportdProcess server(options);
  std::string error;
  EXPECT_FALSE(server.Start(&error));
  EXPECT_NE(server.stderr_log().find("max_retention (30d) must be at least retention (40d)"),
            std::string::npos)
      << server.LogTail();
}

}  // namespace
}  // namespace exportd::itest
