// /v1/schedules against the real binary: create, read, list, update, delete and preview; every
// refusal with its status and pointer (and nothing stored); ownership; a restart keeps them.
#include <string>
#include <vector>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

Json Nightly() {
  return Json{{"name", "nightly"},
              {"cron", "0 10 * * *"},
              {"time_zone", "America/Los_Angeles"},
              {"request", {{"dataset", "items"}, {"format", "csv"}, {"fields", {"id"}}}},
              {"enabled", true},
              {"catch_up", "latest"}};
}

class SchedulesTest : public ExportdTest {
 protected:
  size_t ScheduleCount() {
    HttpResponse list = api_->Get("/v1/schedules");
    EXPECT_EQ(list.status, 200) << list.Describe();
    return list.json.contains("items") ? list.json["items"].size() : 0;
  }
};

// Expects a problem+json with this status whose first error names `pointer`.
void ExpectRefused(const HttpResponse& res, int status, const std::string& pointer) {
  EXPECT_EQ(res.status, status) << res.Describe();
  EXPECT_TRUE(IsProblem(res));
  if (!pointer.empty()) {
    ASSERT_TRUE(res.json.contains("errors")) << res.Describe();
    EXPECT_EQ(res.json["errors"][0].value("pointer", ""), pointer) << res.Describe();
  }
}

TEST_F(SchedulesTest, CrudAndPreview) {
  ASSERT_TRUE(StartWithItems(3));

  HttpResponse created = api_->PostJson("/v1/schedules", Nightly());
  ASSERT_EQ(created.status, 201) << created.Describe();
  const Json& s = created.json;
  const std::string id = s.value("id", "");
  ASSERT_EQ(id.rfind("sch_", 0), 0u) << created.Describe();
  EXPECT_EQ(created.Header("Location"), "/v1/schedules/" + id);
  EXPECT_EQ(s["name"], "nightly");
  EXPECT_EQ(s["cron"], "0 10 * * *");
  EXPECT_EQ(s["time_zone"], "America/Los_Angeles");
  EXPECT_EQ(s["enabled"], true);
  EXPECT_EQ(s["catch_up"], "latest");
  EXPECT_EQ(s["request"]["dataset"], "items");
  EXPECT_EQ(s["request"]["fields"], Json::array({"id"}));
  EXPECT_EQ(s["last_run"], nullptr);
  ASSERT_EQ(s["next_runs"].size(), 5u) << created.Describe();
  int64_t previous = UnixNowMillis();
  for (const Json& t : s["next_runs"]) {
    std::optional<int64_t> at = ParseRfc3339Millis(t.get<std::string>());
    ASSERT_TRUE(at) << t;
    EXPECT_GT(*at, previous) << "next_runs ascend, after now";
    previous = *at;
  }
  EXPECT_TRUE(ParseRfc3339Millis(s.value("created_at", "")));
  EXPECT_EQ(s["created_at"], s["updated_at"]);

  HttpResponse got = api_->Get("/v1/schedules/" + id);
  ASSERT_EQ(got.status, 200) << got.Describe();
  EXPECT_EQ(got.json["id"], id);
  EXPECT_EQ(got.json["request"], s["request"]);

  HttpResponse list = api_->Get("/v1/schedules");
  ASSERT_EQ(list.status, 200) << list.Describe();
  ASSERT_EQ(list.json["items"].size(), 1u);
  EXPECT_EQ(list.json["items"][0]["id"], id);

  // Pause: no next runs; other members stay.
  HttpResponse paused = api_->Send("PATCH", "/v1/schedules/" + id,
                                   R"({"enabled": false, "catch_up": "none"})", "application/json");
  ASSERT_EQ(paused.status, 200) << paused.Describe();
  EXPECT_EQ(paused.json["enabled"], false);
  EXPECT_EQ(paused.json["catch_up"], "none");
  EXPECT_EQ(paused.json["cron"], "0 10 * * *");
  EXPECT_EQ(paused.json["next_runs"], Json::array());
  EXPECT_EQ(paused.json["created_at"], s["created_at"]);

  HttpResponse renamed =
      api_->Send("PATCH", "/v1/schedules/" + id,
                 R"({"name": "hourly", "cron": "0 * * * *", "time_zone": "UTC", "enabled": true,
                     "request": {"dataset": "items", "format": "ndjson"}})",
                 "application/json");
  ASSERT_EQ(renamed.status, 200) << renamed.Describe();
  EXPECT_EQ(renamed.json["name"], "hourly");
  EXPECT_EQ(renamed.json["request"]["format"], "ndjson");
  EXPECT_FALSE(renamed.json["request"].contains("fields"));
  ASSERT_EQ(renamed.json["next_runs"].size(), 5u);
  EXPECT_NE(renamed.json["next_runs"][0].get<std::string>().find(":00:00"), std::string::npos);

  HttpResponse preview =
      api_->PostJson("/v1/schedules/preview", Json{{"cron", "30 2 * * *"},
                                                   {"time_zone", "America/Los_Angeles"},
                                                   {"from", "2026-03-07T00:00:00Z"},
                                                   {"count", 3}});
  ASSERT_EQ(preview.status, 200) << preview.Describe();
  // 02:30 does not exist on 2026-03-08 there: it fires once, when the gap ends (03:00 PDT).
  std::vector<int64_t> runs;
  for (const Json& t : preview.json["runs"]) runs.push_back(*ParseRfc3339Millis(t));
  EXPECT_EQ(runs, (std::vector<int64_t>{*ParseRfc3339Millis("2026-03-07T10:30:00Z"),
                                        *ParseRfc3339Millis("2026-03-08T10:00:00Z"),
                                        *ParseRfc3339Millis("2026-03-09T09:30:00Z")}))
      << preview.Describe();

  EXPECT_EQ(api_->Delete("/v1/schedules/" + id).status, 204);
  ExpectRefused(api_->Get("/v1/schedules/" + id), 404, "");
  ExpectRefused(api_->Delete("/v1/schedules/" + id), 404, "");
  EXPECT_EQ(ScheduleCount(), 0u);
}

TEST_F(SchedulesTest, BadInputIsRefusedWithThePointerAndNothingIsStored) {
  ASSERT_TRUE(StartWithItems(3));
  struct Case {
    const char* what;
    Json body;
    int status;
    const char* pointer;
  };
  auto with = [](const char* key, Json value) {
    Json body = Nightly();
    body[key] = std::move(value);
    return body;
  };
  auto with_request = [](const char* key, Json value) {
    Json body = Nightly();
    body["request"][key] = std::move(value);
    return body;
  };
  const std::vector<Case> cases = {
      {"bad cron", with("cron", "61 * * * *"), 422, "/cron"},
      {"cron with six fields", with("cron", "0 0 10 * * *"), 422, "/cron"},
      {"unknown zone", with("time_zone", "Mars/Olympus_Mons"), 422, "/time_zone"},
      {"unknown dataset", with_request("dataset", "nope"), 422, "/request/dataset"},
      {"unknown field", with_request("fields", Json::array({"id", "colour"})), 422,
       "/request/fields/1"},
      {"bad format", with_request("format", "xls"), 422, "/request/format"},
      {"unknown request member", with_request("colour", 1), 422, "/request/colour"},
      {"bad catch_up", with("catch_up", "sometimes"), 422, "/catch_up"},
      {"empty name", with("name", ""), 422, "/name"},
      {"name too long", with("name", std::string(201, 'x')), 422, "/name"},
      {"unknown member", with("colour", "red"), 422, "/colour"},
      {"name not a string", with("name", 5), 400, "/name"},
      {"request not an object", with("request", "items"), 400, "/request"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectRefused(api_->PostJson("/v1/schedules", c.body), c.status, c.pointer);
  }
  ExpectRefused(api_->Send("POST", "/v1/schedules", "{\"name\": ", "application/json"), 400, "");
  ExpectRefused(api_->Send("POST", "/v1/schedules", "name=x", "text/plain"), 415, "");
  EXPECT_EQ(ScheduleCount(), 0u);

  // The same checks on PATCH; the schedule stays as it was.
  HttpResponse created = api_->PostJson("/v1/schedules", Nightly());
  ASSERT_EQ(created.status, 201) << created.Describe();
  const std::string path = "/v1/schedules/" + created.json.value("id", "");
  ExpectRefused(api_->Send("PATCH", path, R"({"cron": "* * *"})", "application/json"), 422,
                "/cron");
  ExpectRefused(api_->Send("PATCH", path, R"({"time_zone": "Nowhere"})", "application/json"), 422,
                "/time_zone");
  ExpectRefused(
      api_->Send("PATCH", path, R"({"request": {"dataset": "nope"}})", "application/json"), 422,
      "/request/dataset");
  ExpectRefused(api_->Send("PATCH", path, R"({"catch_up": "all of them"})", "application/json"),
                422, "/catch_up");
  ExpectRefused(api_->Send("PATCH", path, "{}", "application/json"), 400, "");
  HttpResponse after = api_->Get(path);
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.json["cron"], created.json["cron"]);
  EXPECT_EQ(after.json["time_zone"], created.json["time_zone"]);
  EXPECT_EQ(after.json["request"], created.json["request"]);
  EXPECT_EQ(after.json["catch_up"], created.json["catch_up"]);
  EXPECT_EQ(after.json["updated_at"], created.json["updated_at"]);

  // Preview.
  ExpectRefused(api_->PostJson("/v1/schedules/preview", Json{{"cron", "0 0 31 2 *"}}), 422,
                "/cron");
  ExpectRefused(
      api_->PostJson("/v1/schedules/preview", Json{{"cron", "* * * * *"}, {"time_zone", "X/Y"}}),
      422, "/time_zone");
  ExpectRefused(api_->PostJson("/v1/schedules/preview", Json{{"cron", "* * * * *"}, {"count", 0}}),
                422, "/count");
  ExpectRefused(
      api_->PostJson("/v1/schedules/preview", Json{{"cron", "* * * * *"}, {"count", 101}}), 422,
      "/count");
  ExpectRefused(
      api_->PostJson("/v1/schedules/preview", Json{{"cron", "* * * * *"}, {"from", "today"}}), 422,
      "/from");
}

TEST_F(SchedulesTest, OthersSchedulesAreNotFoundAndAdminsSeeAll) {
  ASSERT_TRUE(StartWithItems(3));
  HttpClient alice(server_->host(), server_->port(), CreateKey("alice"));
  HttpClient bob(server_->host(), server_->port(), CreateKey("bob"));

  HttpResponse created = alice.PostJson("/v1/schedules", Nightly());
  ASSERT_EQ(created.status, 201) << created.Describe();
  const std::string path = "/v1/schedules/" + created.json.value("id", "");

  ExpectRefused(bob.Get(path), 404, "");
  ExpectRefused(bob.Send("PATCH", path, R"({"enabled": false})", "application/json"), 404, "");
  ExpectRefused(bob.Delete(path), 404, "");
  HttpResponse bobs = bob.Get("/v1/schedules");
  ASSERT_EQ(bobs.status, 200);
  EXPECT_EQ(bobs.json["items"], Json::array());
  ExpectRefused(bob.Get("/v1/schedules/sch_01ARZ3NDEKTSV4RRFFQ69G5FAV"), 404, "");
  ExpectRefused(bob.Get("/v1/schedules/nonsense"), 404, "");

  ASSERT_EQ(bob.PostJson("/v1/schedules", Nightly()).status, 201);
  HttpResponse mine = alice.Get("/v1/schedules");
  ASSERT_EQ(mine.status, 200);
  ASSERT_EQ(mine.json["items"].size(), 1u);
  EXPECT_EQ(ScheduleCount(), 2u);  // the admin sees both
  EXPECT_EQ(api_->Get(path).status, 200);
  EXPECT_EQ(alice.Get(path).json["enabled"], true);  // bob's PATCH changed nothing
  EXPECT_EQ(api_->Delete(path).status, 204);
  ExpectRefused(alice.Get(path), 404, "");
}

TEST_F(SchedulesTest, SchedulesSurviveARestart) {
  ASSERT_TRUE(StartWithItems(3));
  Json body = Nightly();
  body["enabled"] = false;
  body["catch_up"] = "all";
  body["request"]["tag"] = "nightly";
  HttpResponse created = api_->PostJson("/v1/schedules", body);
  ASSERT_EQ(created.status, 201) << created.Describe();
  const std::string path = "/v1/schedules/" + created.json.value("id", "");

  ASSERT_EQ(server_->Stop(), 0);
  std::string error;
  ASSERT_TRUE(server_->Start(&error)) << error;

  HttpResponse got = api_->Get(path);
  ASSERT_EQ(got.status, 200) << got.Describe();
  for (const char* key : {"id", "name", "cron", "time_zone", "request", "enabled", "catch_up",
                          "created_at", "updated_at", "next_runs", "last_run"}) {
    EXPECT_EQ(got.json[key], created.json[key]) << key;
  }
}

TEST_F(SchedulesTest, RolesAndMethods) {
  ASSERT_TRUE(StartWithItems(3));
  HttpClient reader(server_->host(), server_->port(), CreateKey("reader", "reader"));

  ExpectRefused(reader.PostJson("/v1/schedules", Nightly()), 403, "");
  EXPECT_EQ(reader.Get("/v1/schedules").status, 200);
  EXPECT_EQ(reader.PostJson("/v1/schedules/preview", Json{{"cron", "* * * * *"}}).status, 200);
  EXPECT_EQ(HttpClient(server_->host(), server_->port()).Get("/v1/schedules").status, 401);

  HttpResponse put = api_->Send("PUT", "/v1/schedules", "{}", "application/json");
  EXPECT_EQ(put.status, 405) << put.Describe();
  HttpResponse post_one =
      api_->Send("POST", "/v1/schedules/sch_01ARZ3NDEKTSV4RRFFQ69G5FAV", "{}", "application/json");
  EXPECT_EQ(post_one.status, 405) << post_one.Describe();
  EXPECT_NE(post_one.Header("Allow").find("PATCH"), std::string::npos) << post_one.Describe();
}

}  // namespace
}  // namespace exportd::itest
