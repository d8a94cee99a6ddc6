// The request fields of recurring exports (incremental, export_type, time_zone, record_ids,
// split_by) and the task fields that go with them (window, metrics, schedule_id,
// files[].partition) through the real binary: accepted and read back in the canonical request,
// every bad input a 422 problem naming its field with nothing stored, an old request's
// query_hash unchanged, and the larger body limit of POST /v1/exports.
#include <string>
#include <vector>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

using std::chrono::seconds;

class RecurringRequestTest : public ExportdTest {
 protected:
  size_t StoredTasks() {
    HttpResponse list = api_->Get("/v1/exports?limit=200");
    EXPECT_EQ(list.status, 200) << list.Describe();
    return list.json.is_object() ? list.json["items"].size() : 0;
  }
};

TEST_F(RecurringRequestTest, EachNewFieldIsStoredAndReadBack) {
  ASSERT_TRUE(StartWithItems(20));
  const std::string id = CreateExport(*api_, Json{{"dataset", "items"},
                                                  {"incremental", true},
                                                  {"export_type", "daily"},
                                                  {"time_zone", "UTC"},
                                                  {"split_by", "partition"},
                                                  {"since", "2024-01-01T00:00:00Z"}});
  ASSERT_FALSE(id.empty());
  Json task = GetTask(*api_, id);
  ASSERT_TRUE(task.is_object());
  const Json& request = task["request"];
  EXPECT_EQ(request["incremental"], true) << request.dump();
  EXPECT_EQ(request["export_type"], "daily");
  EXPECT_EQ(request["time_zone"], "UTC");
  EXPECT_EQ(request["split_by"], "partition");
  EXPECT_FALSE(request.contains("record_ids"));
  // null until the task first starts, then its fixed window.
  EXPECT_TRUE(task.contains("window") && (task["window"].is_null() || task["window"].is_object()))
      << task.dump();
  EXPECT_TRUE(task.contains("schedule_id") && task["schedule_id"].is_null());
  EXPECT_TRUE(task.contains("metrics"));

  const std::string ids =
      CreateExport(*api_, Json{{"dataset", "items"}, {"record_ids", Json::array({3, 1, 2, 3})}});
  ASSERT_FALSE(ids.empty());
  Json ids_task = WaitForTerminal(*api_, ids, seconds(30));
  EXPECT_EQ(ids_task["request"]["record_ids"], Json::array({1, 2, 3})) << ids_task.dump();
  EXPECT_FALSE(ids_task["request"].contains("incremental"));
  for (const Json& f : ids_task["files"]) {
    EXPECT_TRUE(f.contains("partition") && f["partition"].is_null()) << f.dump();
  }

  // The URL form: the scalars and comma-separated record ids.
  HttpResponse query =
      api_->Send("POST", "/v1/exports?dataset=items&record_ids=5,4&split_by=partition", "", "");
  ASSERT_EQ(query.status, 202) << query.Describe();
  EXPECT_EQ(query.json["request"]["record_ids"], Json::array({4, 5}));
  EXPECT_EQ(query.json["request"]["split_by"], "partition");
}

// A request without the new fields keeps the canonical text and query_hash it had before they
// existed (the text below is what earlier versions wrote for it).
TEST_F(RecurringRequestTest, AnOldRequestsQueryHashIsUnchanged) {
  ASSERT_TRUE(StartWithItems(5));
  const std::string id = CreateExport(*api_, Json{{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  Json task = GetTask(*api_, id);
  const std::string old_text =
      R"({"compression":"none","dataset":"items","fields":[],"filter":[],"format":"csv",)"
      R"("max_rows_per_file":80000,"partitions":[],"since":null,"until":null})";
  EXPECT_EQ(task["request"], Json::parse(old_text));
  EXPECT_EQ(task["query_hash"], Sha256Hex(old_text));
  EXPECT_EQ(task["query_hash"], "5397bc4c7b30f6d4529f4c54f2af4317ea724e3bb61ea98990a92b570dc4078b");
}

TEST_F(RecurringRequestTest, EachBadInputIs422NamingTheFieldAndStoresNothing) {
  ASSERT_TRUE(StartWithItems(5));
  struct Bad {
    Json body;
    std::string pointer;
  };
  const std::vector<Bad> cases = {
      {{{"dataset", "items"}, {"time_zone", "Mars/Olympus_Mons"}}, "/time_zone"},
      {{{"dataset", "items"}, {"record_ids", {1}}, {"incremental", true}}, "/record_ids"},
      {{{"dataset", "items"}, {"record_ids", {1}}, {"since", "2024-01-01T00:00:00Z"}},
       "/record_ids"},
      {{{"dataset", "items"}, {"record_ids", {1}}, {"until", "2024-01-01T00:00:00Z"}},
       "/record_ids"},
      {{{"dataset", "items"}, {"record_ids", {1, "x"}}}, "/record_ids/1"},
      {{{"dataset", "items"}, {"record_ids", Json::array()}}, "/record_ids"},
      {{{"dataset", "items"}, {"export_type", "weekly"}}, "/export_type"},
      {{{"dataset", "items"}, {"split_by", "region"}}, "/split_by"},
  };
  for (const Bad& c : cases) {
    HttpResponse res = api_->PostJson("/v1/exports", c.body);
    EXPECT_EQ(res.status, 422) << res.Describe();
    EXPECT_TRUE(IsProblem(res));
    ASSERT_TRUE(res.json.contains("errors")) << res.Describe();
    EXPECT_EQ(res.json["errors"][0]["pointer"], c.pointer) << res.Describe();
  }
  HttpResponse query = api_->Send("POST", "/v1/exports?dataset=items&time_zone=Nowhere", "", "");
  EXPECT_EQ(query.status, 422) << query.Describe();
  EXPECT_EQ(StoredTasks(), 0u) << "a refused request stores nothing";
}

// A dataset without the fields incremental and split_by need refuses them.
TEST_F(RecurringRequestTest, IncrementalAndSplitByNeedTheDatasetsFields) {
  CreateItemsDb(source_path(), 5);
  Json bare = ItemsDatasetConfig("bare", source_path(), 5000);
  bare.erase("time_field");
  bare.erase("partition_field");
  ExportdProcess::Options options;
  options.config = {{"datasets", Json::array({bare})}};
  ASSERT_TRUE(StartServer(options));
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"dataset", "bare"}, {"incremental", true}}, "/incremental"},
      {{{"dataset", "bare"}, {"split_by", "partition"}}, "/split_by"}};
  for (const auto& [body, pointer] : cases) {
    HttpResponse res = api_->PostJson("/v1/exports", body);
    EXPECT_EQ(res.status, 422) << res.Describe();
    ASSERT_TRUE(res.json.contains("errors")) << res.Describe();
    EXPECT_EQ(res.json["errors"][0]["pointer"], pointer);
  }
  EXPECT_EQ(StoredTasks(), 0u);
}

// The dataset keys of recurring exports are shown by GET /v1/datasets; a bad one stops start-up
// with a message naming it.
TEST_F(RecurringRequestTest, DatasetRulesAreShownAndBadOnesStopStartUp) {
  CreateItemsDb(source_path(), 5);
  Json items = ItemsDatasetConfig("items", source_path(), 5000);
  items["time_zone"] = "UTC";
  items["settle_seconds"] = 30;
  items["row_filter"] = {{"region", {{"ne", "west"}}}};
  items["metrics"] = {{"count_distinct", {"region"}}};
  ExportdProcess::Options options;
  options.config = {{"datasets", Json::array({items})}};
  ASSERT_TRUE(StartServer(options));
  HttpResponse datasets = api_->Get("/v1/datasets");
  ASSERT_EQ(datasets.status, 200) << datasets.Describe();
  const Json& shown = datasets.json["items"][0];
  EXPECT_EQ(shown["time_zone"], "UTC");
  EXPECT_EQ(shown["settle_seconds"], 30);
  EXPECT_EQ(shown["row_filter"], Json::parse(R"([{"field":"region","op":"ne","value":"west"}])"));
  EXPECT_EQ(shown["metrics"]["count_distinct"], Json::array({"region"}));
  server_.reset();

  const std::vector<std::pair<Json, std::string>> bad = {
      {{{"time_zone", "Mars/Olympus_Mons"}}, "time_zone"},
      {{{"settle_seconds", -1}}, "settle_seconds"},
      {{{"row_filter", {{"nope", 1}}}}, "row_filter"},
      {{{"metrics", {{"count_distinct", {"nope"}}}}}, "count_distinct"}};
  for (const auto& [keys, named] : bad) {
    Json dataset = ItemsDatasetConfig("items", source_path(), 5000);
    dataset.update(keys);
    ExportdProcess::Options o;
    o.config = {{"datasets", Json::array({dataset})}};
    o.start_timeout = seconds(10);
    ExportdProcess process(o);
    std::string error;
    EXPECT_FALSE(process.Start(&error)) << keys.dump();
    EXPECT_NE(error.find(named), std::string::npos) << keys.dump() << ": " << error;
  }
}

// POST /v1/exports takes bodies beyond 1 MiB (record_ids lists); other routes keep 1 MiB.
TEST_F(RecurringRequestTest, CreateExportTakesBodiesOverOneMebibyte) {
  ASSERT_TRUE(StartWithItems(5));
  std::string body = R"({"dataset": "items", "record_ids": [)";
  for (int i = 1; i <= 100000; ++i) {
    if (i > 1) body += ", ";
    body += std::to_string(i);
    body += "                  ";  // padding: the body ends up over 2 MiB
  }
  body += "]}";
  ASSERT_GT(body.size(), size_t{2} << 20);
  HttpResponse created = api_->Send("POST", "/v1/exports", body, "application/json");
  ASSERT_EQ(created.status, 202) << created.Describe().substr(0, 300);
  EXPECT_EQ(created.json["request"]["record_ids"].size(), 100000u);

  const std::string id = created.json.value("id", "");
  HttpResponse other = api_->Send("POST", "/v1/exports/" + id + "/cancel",
                                  std::string(2 << 20, ' '), "application/json");
  EXPECT_EQ(other.status, 413) << other.Describe().substr(0, 300);
}

}  // namespace
}  // namespace exportd::itest
