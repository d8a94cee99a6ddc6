// The watermark routes against the real binary: list, set by hand, delete; admin only for
// changes; every change is a "watermark" audit event of no task; bad input changes nothing.
#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

class WatermarkRoutesTest : public ExportdTest {
 protected:
  // A key of `role`, as a client.
  std::unique_ptr<HttpClient> ClientWithRole(const std::string& name, const std::string& role) {
    CommandResult created =
        server_->RunCli({"keys", "create", "--name", name, "--role", role, "--config",
                         server_->config_path(), "--data-dir", server_->data_dir()});
    EXPECT_EQ(created.exit_code, 0) << created.out << created.err;
    std::string secret = created.out;
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    return std::make_unique<HttpClient>(server_->host(), server_->port(), secret);
  }

  HttpResponse Put(const HttpClient& client, const std::string& partition,
                   const std::string& body) {
    return client.Send("PUT", "/v1/datasets/items/watermarks/" + partition, body,
                       "application/json");
  }

  Json Items() {
    HttpResponse res = api_->Get("/v1/datasets/items/watermarks");
    EXPECT_EQ(res.status, 200) << res.Describe();
    return res.json.value("items", Json::array());
  }
};

TEST_F(WatermarkRoutesTest, AnAdminSetsListsAndDeletesWatermarksAndEachChangeIsAudited) {
  ASSERT_TRUE(StartWithItems(10));
  EXPECT_EQ(Items(), Json::array());

  HttpResponse set = Put(*api_, "north", R"({"watermark": "2026-01-31T00:00:00Z"})");
  ASSERT_EQ(set.status, 200) << set.Describe();
  EXPECT_EQ(set.json["partition"], "north");
  EXPECT_EQ(set.json["watermark"], "2026-01-31T00:00:00.000Z");
  EXPECT_TRUE(set.json["task_id"].is_null());
  // Moving it back by hand is allowed (re-baselining is what the route is for).
  set = Put(*api_, "north", R"({"watermark": "2026-01-01T01:00:00+01:00"})");
  ASSERT_EQ(set.status, 200) << set.Describe();
  ASSERT_EQ(Put(*api_, "south", R"({"watermark": "2026-02-01T00:00:00Z"})").status, 200);

  Json items = Items();
  ASSERT_EQ(items.size(), 2u) << items.dump();
  EXPECT_EQ(items[0]["partition"], "north");
  EXPECT_EQ(items[0]["watermark"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(items[1]["partition"], "south");

  EXPECT_EQ(api_->Delete("/v1/datasets/items/watermarks/north").status, 204);
  HttpResponse again = api_->Delete("/v1/datasets/items/watermarks/north");
  EXPECT_EQ(again.status, 404) << again.Describe();
  EXPECT_TRUE(IsProblem(again));
  items = Items();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["partition"], "south");

  // Four changes, four events of type "watermark" that belong to no task.
  HttpResponse audit = api_->Get("/v1/audit?type=watermark");
  ASSERT_EQ(audit.status, 200) << audit.Describe();
  ASSERT_EQ(audit.json["items"].size(), 4u) << audit.json.dump();
  for (const Json& e : audit.json["items"]) {
    EXPECT_TRUE(e["task_id"].is_null()) << e.dump();
    EXPECT_FALSE(e["actor"].is_null()) << e.dump();
  }
  // Newest first: the deletion names what was removed.
  EXPECT_NE(audit.json["items"][0]["detail"].get<std::string>().find("north"), std::string::npos);
  EXPECT_NE(audit.json["items"][0]["detail"].get<std::string>().find("-> none"), std::string::npos)
      << audit.json["items"][0].dump();
}

TEST_F(WatermarkRoutesTest, OnlyAdminsChangeWatermarksAndEveryRoleReadsThem) {
  ASSERT_TRUE(StartWithItems(10));
  ASSERT_EQ(Put(*api_, "east", R"({"watermark": "2026-01-31T00:00:00Z"})").status, 200);
  auto exporter = ClientWithRole("exp", "exporter");
  auto reader = ClientWithRole("rd", "reader");
  for (const HttpClient* client : {exporter.get(), reader.get()}) {
    HttpResponse res = Put(*client, "east", R"({"watermark": "2020-01-01T00:00:00Z"})");
    EXPECT_EQ(res.status, 403) << res.Describe();
    EXPECT_TRUE(IsProblem(res));
    EXPECT_EQ(client->Delete("/v1/datasets/items/watermarks/east").status, 403);
    HttpResponse list = client->Get("/v1/datasets/items/watermarks");
    EXPECT_EQ(list.status, 200) << list.Describe();
    EXPECT_EQ(list.json["items"].size(), 1u);
  }
  Json items = Items();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["watermark"], "2026-01-31T00:00:00.000Z");
}

TEST_F(WatermarkRoutesTest, BadInputIsAProblemAndStoresNothing) {
  ASSERT_TRUE(StartWithItems(10));
  struct Case {
    std::string body;
    int status;
    std::string pointer;  // empty: none expected
  };
  const std::vector<Case> cases = {
      {R"({"watermark": "yesterday"})", 422, "/watermark"},
      {R"({"watermark": "2026-13-01T00:00:00Z"})", 422, "/watermark"},
      {R"({"watermark": "2026-01-01"})", 422, "/watermark"},
      {R"({})", 422, "/watermark"},
      {R"({"watermark": "2026-01-01T00:00:00Z", "extra": 1})", 422, "/extra"},
      {R"({"watermark": 1767225600})", 400, "/watermark"},
      {R"([1])", 400, ""},
      {R"({"watermark": )", 400, ""},
  };
  for (const Case& c : cases) {
    HttpResponse res = Put(*api_, "north", c.body);
    EXPECT_EQ(res.status, c.status) << c.body << " -> " << res.Describe();
    EXPECT_TRUE(IsProblem(res)) << c.body;
    if (!c.pointer.empty()) {
      ASSERT_TRUE(res.json.contains("errors")) << res.Describe();
      EXPECT_EQ(res.json["errors"][0]["pointer"], c.pointer) << c.body;
    }
  }
  HttpResponse unknown = api_->Send("PUT", "/v1/datasets/nope/watermarks/north",
                                    R"({"watermark": "2026-01-01T00:00:00Z"})", "application/json");
  EXPECT_EQ(unknown.status, 404) << unknown.Describe();
  EXPECT_EQ(api_->Get("/v1/datasets/nope/watermarks").status, 404);
  HttpResponse text = api_->Send("PUT", "/v1/datasets/items/watermarks/north",
                                 R"({"watermark": "2026-01-01T00:00:00Z"})", "text/plain");
  EXPECT_EQ(text.status, 415) << text.Describe();
  EXPECT_EQ(Items(), Json::array());
  HttpResponse audit = api_->Get("/v1/audit?type=watermark");
  ASSERT_EQ(audit.status, 200);
  EXPECT_EQ(audit.json["items"].size(), 0u);
}

}  // namespace
}  // namespace exportd::itest
