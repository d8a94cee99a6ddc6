// The full flow against the real binary: create -> poll -> download -> compare every value with
// the source SQLite, for every format, with and without gzip; rollover; filter, fields,
// since/until and partitions; the query-parameter form; the demo dataset.
#include <algorithm>
#include <regex>
#include <set>
#include <thread>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

constexpr auto kExportTimeout = seconds(60);

struct FormatCase {
  std::string format;
  std::string compression;
};

void PrintTo(const FormatCase& c, std::ostream* os) { *os << c.format << "/" << c.compression; }

std::string CaseName(const ::testing::TestParamInfo<FormatCase>& info) {
  return info.param.format + "_" + info.param.compression;
}

class FormatFlowTest : public ExportdTest, public ::testing::WithParamInterface<FormatCase> {};

TEST_P(FormatFlowTest, ExportsEveryRowExactly) {
  const auto& [format, compression] = GetParam();
  ASSERT_TRUE(StartWithItems(1000));
  const std::string id = CreateExport(*api_, {{"dataset", "items"},
                                              {"format", format},
                                              {"compression", compression},
                                              {"max_rows_per_file", 400}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForTerminal(*api_, id, kExportTimeout);
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();

  // 1000 rows at 400 a file: 400, 400, 200.
  ASSERT_TRUE(task["files"].is_array()) << task.dump();
  ASSERT_EQ(task["files"].size(), 3u) << task.dump();
  const std::string suffix = compression == "gzip" ? ".gz" : "";
  for (size_t i = 0; i < 3; ++i) {
    const Json& f = task["files"][i];
    EXPECT_EQ(f.value("name", ""), "part-0000" + std::to_string(i + 1) + "." + format + suffix)
        << f.dump();
    EXPECT_EQ(f.value("rows", -1), i < 2 ? 400 : 200) << f.dump();
    EXPECT_TRUE(f.contains("content_type") && f["content_type"].is_string()) << f.dump();
    EXPECT_TRUE(f.contains("expires_at") && f["expires_at"].is_string() &&
                ParseRfc3339Millis(f["expires_at"].get<std::string>()))
        << f.dump();
  }
  EXPECT_EQ(task["progress"].value("rows", -1), 1000) << task.dump();
  EXPECT_EQ(task.value("attempts", -1), 1) << task.dump();
  ExpectExportMatches(*api_, task, ExpectedItems());
}

INSTANTIATE_TEST_SUITE_P(AllFormats, FormatFlowTest,
                         ::testing::Values(FormatCase{"csv", "none"}, FormatCase{"tsv", "none"},
                                           FormatCase{"json", "none"}, FormatCase{"ndjson", "none"},
                                           FormatCase{"csv", "gzip"}, FormatCase{"tsv", "gzip"},
                                           FormatCase{"json", "gzip"},
                                           FormatCase{"ndjson", "gzip"}),
                         CaseName);

class ExportFlowTest : public ExportdTest {};

TEST_F(ExportFlowTest, TaskHasTheContractShape) {
  ASSERT_TRUE(StartWithItems(50));
  auto created = api_->PostJson("/v1/exports", {{"dataset", "items"}, {"tag", "shape check"}});
  ASSERT_EQ(created.status, 202) << created.Describe();
  const Json& t0 = created.json;
  ASSERT_TRUE(t0.is_object()) << created.Describe();
  EXPECT_EQ(t0.value("status", ""), "Pending") << created.Describe();
  EXPECT_EQ(t0.value("dataset", ""), "items");
  EXPECT_EQ(t0.value("format", ""), "csv");
  EXPECT_EQ(t0.value("tag", ""), "shape check");
  EXPECT_TRUE(std::regex_match(t0.value("query_hash", ""), std::regex("[0-9a-f]{64}")))
      << created.Describe();
  EXPECT_TRUE(t0.contains("started_at") && t0["started_at"].is_null()) << created.Describe();
  EXPECT_TRUE(t0.contains("finished_at") && t0["finished_at"].is_null()) << created.Describe();
  EXPECT_TRUE(t0.contains("error") && t0["error"].is_null()) << created.Describe();
  EXPECT_EQ(t0.value("attempts", -1), 0) << created.Describe();
  EXPECT_EQ(t0.value("max_attempts", -1), 3) << created.Describe();
  EXPECT_EQ(t0.value("cancel_requested", true), false) << created.Describe();
  EXPECT_TRUE(t0.contains("files") && t0["files"].is_array() && t0["files"].empty())
      << created.Describe();
  const std::string id = t0.value("id", "");
  EXPECT_TRUE(std::regex_match(id, std::regex("[A-Za-z0-9_-]+"))) << id;
  ASSERT_TRUE(t0.contains("links") && t0["links"].is_object()) << created.Describe();
  EXPECT_EQ(t0["links"].value("self", ""), "/v1/exports/" + id);
  EXPECT_EQ(t0["links"].value("cancel", ""), "/v1/exports/" + id + "/cancel");
  EXPECT_EQ(t0["links"].value("events", ""), "/v1/exports/" + id + "/events");
  ASSERT_TRUE(t0.contains("request") && t0["request"].is_object()) << created.Describe();
  for (const char* k : {"compression", "dataset", "fields", "filter", "format", "max_rows_per_file",
                        "partitions", "since", "until"}) {
    EXPECT_TRUE(t0["request"].contains(k)) << "request lacks " << k << ": " << created.Describe();
  }
  EXPECT_EQ(t0["request"].value("max_rows_per_file", -1), 80000);
  ASSERT_TRUE(t0.contains("progress") && t0["progress"].is_object()) << created.Describe();
  for (const char* k : {"rows", "rows_total", "bytes", "percent", "eta_seconds"}) {
    EXPECT_TRUE(t0["progress"].contains(k)) << "progress lacks " << k;
  }
  for (const char* k : {"created_at", "updated_at"}) {
    EXPECT_TRUE(t0.contains(k) && t0[k].is_string() && ParseRfc3339Millis(t0[k].get<std::string>()))
        << k << ": " << created.Describe();
  }

  Json task = WaitForTerminal(*api_, id, kExportTimeout);
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  for (const char* k : {"created_at", "started_at", "finished_at", "updated_at"}) {
    EXPECT_TRUE(task[k].is_string() && ParseRfc3339Millis(task[k].get<std::string>()))
        << k << ": " << task.dump();
  }
  if (task["started_at"].is_string() && task["finished_at"].is_string()) {
    auto ms = [&](const char* k) {
      return ParseRfc3339Millis(task[k].get<std::string>()).value_or(0);
    };
    EXPECT_LE(ms("created_at"), ms("started_at"));
    EXPECT_LE(ms("started_at"), ms("finished_at"));
  }
  EXPECT_EQ(task["progress"].value("rows", -1), 50) << task.dump();
  EXPECT_EQ(task["progress"].value("rows_total", -1), 50) << task.dump();
  EXPECT_TRUE(task["progress"]["percent"].is_number() &&
              task["progress"]["percent"].get<double>() == 100.0)
      << task.dump();
  EXPECT_TRUE(task["links"].contains("manifest") && task["links"]["manifest"].is_string())
      << task.dump();
  // Terminal: no Retry-After.
  auto res = api_->Get("/v1/exports/" + id);
  EXPECT_FALSE(res.HasHeader("Retry-After")) << "terminal task still says Retry-After";
  // The audit trail: created, start, succeed, with transitions Pending->Processing->Succeeded.
  Json events = GetEvents(*api_, id);
  ASSERT_GE(events.size(), 3u) << events.dump();
  EXPECT_EQ(events[0].value("type", ""), "created") << events.dump();
  auto starts = EventsOfType(events, "start");
  ASSERT_EQ(starts.size(), 1u) << events.dump();
  EXPECT_EQ(starts[0].value("from", ""), "Pending");
  EXPECT_EQ(starts[0].value("to", ""), "Processing");
  auto succeeds = EventsOfType(events, "succeed");
  ASSERT_EQ(succeeds.size(), 1u) << events.dump();
  EXPECT_EQ(succeeds[0].value("from", ""), "Processing");
  EXPECT_EQ(succeeds[0].value("to", ""), "Succeeded");

  // The list shows it, newest first, and filters by status, dataset and query_hash.
  auto list = api_->Get("/v1/exports?status=Succeeded&dataset=items&query_hash=" +
                        task.value("query_hash", ""));
  ASSERT_EQ(list.status, 200) << list.Describe();
  ASSERT_TRUE(list.json.contains("items") && list.json["items"].is_array()) << list.Describe();
  ASSERT_EQ(list.json["items"].size(), 1u) << list.Describe();
  EXPECT_EQ(list.json["items"][0].value("id", ""), id);
  EXPECT_TRUE(list.json.contains("next_cursor") && list.json["next_cursor"].is_null())
      << list.Describe();
}

// Polling a finished task is served from a cache of rendered bodies (api/task_body_cache.h): a
// change must show in the very next GET, within the same second, and the links must say exactly
// when they stop working.
TEST_F(ExportFlowTest, AFinishedTaskPolledAgainShowsEachChangeAtOnce) {
  ASSERT_TRUE(StartWithItems(50));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForTerminal(*api_, id, kExportTimeout);
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  ASSERT_EQ(task["files"].size(), 1u) << task.dump();
  for (int i = 0; i < 20; ++i) {
    HttpResponse again = api_->Get("/v1/exports/" + id);
    ASSERT_EQ(again.status, 200) << again.Describe();
    ASSERT_EQ(again.json["files"].size(), 1u) << again.Describe();
    // The expiry in the link is in whole seconds, and expires_at says the same instant.
    const std::string expires_at = again.json["files"][0].value("expires_at", "");
    const std::string url = again.json["files"][0].value("url", "");
    std::smatch param;
    ASSERT_TRUE(std::regex_search(url, param, std::regex("[?&]expires=([0-9]+)"))) << url;
    std::optional<int64_t> millis = ParseRfc3339Millis(expires_at);
    ASSERT_TRUE(millis.has_value()) << expires_at;
    EXPECT_EQ(*millis, std::stoll(param[1]) * 1000) << expires_at << " vs " << url;
  }

  ASSERT_EQ(api_->Delete("/v1/exports/" + id).status, 204);
  HttpResponse after = api_->Get("/v1/exports/" + id);
  ASSERT_EQ(after.status, 200) << after.Describe();
  EXPECT_TRUE(after.json["files"].empty()) << "the GET right after DELETE: " << after.Describe();
  EXPECT_FALSE(after.json["links"].contains("manifest")) << after.Describe();

  // Another principal still gets 404, cached body or not.
  CommandResult created =
      server_->RunCli({"keys", "create", "--name", "other", "--role", "reader", "--config",
                       server_->config_path(), "--data-dir", server_->data_dir()});
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  std::string other_key = created.out;
  while (!other_key.empty() && std::isspace(static_cast<unsigned char>(other_key.back()))) {
    other_key.pop_back();
  }
  HttpClient other(server_->host(), server_->port(), other_key);
  EXPECT_EQ(other.Get("/v1/exports/" + id).status, 404);
}

// Across the turns of the second, where the body of the next second is rendered ahead of time
// (api/task_body_cache.h): every GET's links expire the link lifetime after the second the
// request was in, never one rendered for the second before or after.
TEST_F(ExportFlowTest, APolledTasksLinksExpireTheirLifetimeAfterTheSecondOfTheRequest) {
  constexpr int64_t kTtlSeconds = 600;
  ASSERT_TRUE(StartWithItems(50, {{"download_url_ttl_seconds", kTtlSeconds}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForTerminal(*api_, id, kExportTimeout).value("status", ""), "Succeeded");

  auto unix_seconds = [] {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())
        .time_since_epoch()
        .count();
  };
  int requests = 0;
  std::set<int64_t> expiries;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(2600);
  while (std::chrono::steady_clock::now() < end) {
    const int64_t before = unix_seconds();
    HttpResponse polled = api_->Get("/v1/exports/" + id);
    const int64_t after = unix_seconds();
    ASSERT_EQ(polled.status, 200) << polled.Describe();
    ASSERT_EQ(polled.json["files"].size(), 1u) << polled.Describe();
    std::optional<int64_t> millis =
        ParseRfc3339Millis(polled.json["files"][0].value("expires_at", ""));
    ASSERT_TRUE(millis.has_value()) << polled.Describe();
    const int64_t expires = *millis / 1000;
    EXPECT_GE(expires, before + kTtlSeconds)
        << "a body of an earlier second: " << polled.Describe();
    EXPECT_LE(expires, after + kTtlSeconds) << "a body of a later second: " << polled.Describe();
    expiries.insert(expires);
    ++requests;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_GE(expiries.size(), 2u) << "the polls never crossed a second";
  EXPECT_GT(requests, 100);
}

TEST_F(ExportFlowTest, RollsOverAtMaxRowsPerFileWithAHeaderInEveryFile) {
  ASSERT_TRUE(StartWithItems(1000));
  const std::string a = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 300}});
  // Exactly 3 * 300 rows: three full files and no empty fourth one.
  const std::string b = CreateExport(
      *api_,
      {{"dataset", "items"}, {"max_rows_per_file", 300}, {"filter", {{"id", {{"lte", 900}}}}}});
  // One row a file.
  const std::string c = CreateExport(*api_, {{"dataset", "items"},
                                             {"format", "json"},
                                             {"max_rows_per_file", 1},
                                             {"filter", {{"id", {{"lte", 3}}}}}});
  ASSERT_FALSE(a.empty() || b.empty() || c.empty());

  Json ta = WaitForTerminal(*api_, a, kExportTimeout);
  ASSERT_EQ(ta.value("status", ""), "Succeeded") << ta.dump();
  std::vector<int64_t> rows;
  for (const auto& f : ta["files"]) rows.push_back(f.value("rows", -1));
  EXPECT_EQ(rows, (std::vector<int64_t>{300, 300, 300, 100})) << ta.dump();
  ExpectExportMatches(*api_, ta, ExpectedItems());

  Json tb = WaitForTerminal(*api_, b, kExportTimeout);
  ASSERT_EQ(tb.value("status", ""), "Succeeded") << tb.dump();
  rows.clear();
  for (const auto& f : tb["files"]) rows.push_back(f.value("rows", -1));
  EXPECT_EQ(rows, (std::vector<int64_t>{300, 300, 300})) << tb.dump();
  ExpectExportMatches(*api_, tb, ExpectedItems({}, "id <= 900"));

  Json tc = WaitForTerminal(*api_, c, kExportTimeout);
  ASSERT_EQ(tc.value("status", ""), "Succeeded") << tc.dump();
  EXPECT_EQ(tc["files"].size(), 3u) << tc.dump();
  ExpectExportMatches(*api_, tc, ExpectedItems({}, "id <= 3"));
}

TEST_F(ExportFlowTest, EmptyResultStillWritesAValidExport) {
  ASSERT_TRUE(StartWithItems(100));
  const std::string id =
      CreateExport(*api_, {{"dataset", "items"}, {"filter", {{"id", {{"gt", 1000000}}}}}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForTerminal(*api_, id, kExportTimeout);
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  EXPECT_EQ(task["progress"].value("rows", -1), 0) << task.dump();
  // Whether an empty export has one header-only file or none, what is there must be valid.
  ExpectExportMatches(*api_, task, ExpectedItems({}, "0"));
}

// Each case: a request and the SQL WHERE that selects the same rows of the source.
struct SelectionCase {
  const char* name;
  Json request;  // merged into {"dataset": "items"}
  std::vector<std::string> fields;
  std::string where;
};

TEST_F(ExportFlowTest, FilterFieldsTimeRangeAndPartitionsSelectExactlyTheRightRows) {
  ASSERT_TRUE(StartWithItems(1000));
  const std::vector<SelectionCase> cases = {
      {"eq on text", {{"filter", {{"region", "north"}}}}, {}, "region = 'north'"},
      {"eq on integer", {{"filter", {{"qty", 7}}}}, {}, "qty = 7"},
      {"gte+lt on integer",
       {{"filter", {{"qty", {{"gte", -10}, {"lt", 20}}}}}},
       {},
       "qty >= -10 AND qty < 20"},
      {"gt on real", {{"filter", {{"price", {{"gt", 50.5}}}}}}, {}, "price > 50.5"},
      {"lte on real", {{"filter", {{"price", {{"lte", 10}}}}}}, {}, "price <= 10"},
      {"ne on partition", {{"filter", {{"region", {{"ne", "south"}}}}}}, {}, "region <> 'south'"},
      {"in on integer",
       {{"filter", {{"qty", {{"in", {1, 2, 3, -50}}}}}}},
       {},
       "qty IN (1, 2, 3, -50)"},
      {"in on text",
       {{"filter", {{"region", {{"in", {"east", "west"}}}}}}},
       {},
       "region IN ('east', 'west')"},
      {"prefix",
       {{"filter", {{"name", {{"prefix", "comma"}}}}}},
       {},
       "substr(name, 1, 5) = 'comma'"},
      {"prefix with LIKE metacharacters",
       {{"filter", {{"name", {{"prefix", "back\\slash"}}}}}},
       {},
       "substr(name, 1, 10) = 'back\\slash'"},
      {"prefix with percent", {{"filter", {{"name", {{"prefix", "%"}}}}}}, {}, "0"},
      {"null true", {{"filter", {{"qty", {{"null", true}}}}}}, {}, "qty IS NULL"},
      {"null false", {{"filter", {{"name", {{"null", false}}}}}}, {}, "name IS NOT NULL"},
      {"document field gte",
       {{"filter", {{"gamma", {{"gte", 100000}}}}}},
       {},
       "json_extract(doc, '$.gamma') >= 100000"},
      {"document field null",
       {{"filter", {{"beta", {{"null", false}}}}}},
       {},
       "json_extract(doc, '$.beta') IS NOT NULL"},
      {"text eq with quotes and comma",
       {{"filter", {{"name", "comma, inside"}}}},
       {},
       "name = 'comma, inside'"},
      {"several conditions ANDed",
       {{"filter", {{"region", "east"}, {"qty", {{"gt", 0}}}, {"price", {{"null", false}}}}}},
       {},
       "region = 'east' AND qty > 0 AND price IS NOT NULL"},
      {"since/until",
       {{"since", "2024-01-10T00:00:00Z"}, {"until", "2024-01-20T12:00:00Z"}},
       {},
       "observed_at >= '2024-01-10T00:00:00Z' AND observed_at < '2024-01-20T12:00:00Z'"},
      {"since only",
       {{"since", "2024-02-10T05:00:00Z"}},
       {},
       "observed_at >= '2024-02-10T05:00:00Z'"},
      {"until with offset",
       {{"until", "2024-01-05T02:00:00+02:00"}},
       {},
       "observed_at < '2024-01-05T00:00:00Z'"},
      {"partitions", {{"partitions", {"west", "east"}}}, {}, "region IN ('east', 'west')"},
      {"fields projection order",
       {{"fields", {"price", "id", "beta", "observed_at"}}},
       {"price", "id", "beta", "observed_at"},
       ""},
      {"everything together",
       {{"format", "ndjson"},
        {"fields", {"id", "name", "alpha", "region"}},
        {"filter", {{"qty", {{"lt", 30}}}}},
        {"since", "2024-01-03T00:00:00Z"},
        {"until", "2024-02-01T00:00:00Z"},
        {"partitions", {"north", "south"}}},
       {"id", "name", "alpha", "region"},
       "qty < 30 AND observed_at >= '2024-01-03T00:00:00Z' AND observed_at < "
       "'2024-02-01T00:00:00Z' AND region IN ('north', 'south')"},
  };
  std::vector<std::string> ids;
  for (const auto& c : cases) {
    Json body = {{"dataset", "items"}};
    for (auto it = c.request.begin(); it != c.request.end(); ++it) body[it.key()] = it.value();
    auto res = api_->PostJson("/v1/exports", body);
    EXPECT_EQ(res.status, 202) << c.name << ": " << res.Describe();
    ids.push_back(res.json.is_object() ? res.json.value("id", "") : "");
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    if (ids[i].empty()) continue;
    Json task = WaitForTerminal(*api_, ids[i], kExportTimeout);
    ExpectExportMatches(*api_, task, ExpectedItems(cases[i].fields, cases[i].where));
  }
}

TEST_F(ExportFlowTest, QueryParameterFormExportsTheSameAsTheBody) {
  ASSERT_TRUE(StartWithItems(300));
  auto res =
      api_->Send("POST", "/v1/exports?dataset=items&fileType=json&filter.region=north", "", "");
  ASSERT_EQ(res.status, 202) << res.Describe();
  const std::string id = res.json.value("id", "");
  EXPECT_EQ(res.json.value("format", ""), "json") << res.Describe();
  // The same request as a body normalises to the same canonical request.
  auto body_res = api_->PostJson(
      "/v1/exports", {{"dataset", "items"}, {"format", "json"}, {"filter", {{"region", "north"}}}});
  ASSERT_EQ(body_res.status, 202) << body_res.Describe();
  EXPECT_EQ(res.json.value("query_hash", "a"), body_res.json.value("query_hash", "b"))
      << res.Describe() << "\n"
      << body_res.Describe();
  EXPECT_EQ(res.json["request"], body_res.json["request"]);
  Json task = WaitForTerminal(*api_, id, kExportTimeout);
  ExpectExportMatches(*api_, task, ExpectedItems({}, "region = 'north'"));
}

TEST_F(ExportFlowTest, DatasetsListsTheConfiguredDataset) {
  ASSERT_TRUE(StartWithItems(10));
  auto res = api_->Get("/v1/datasets");
  ASSERT_EQ(res.status, 200) << res.Describe();
  ASSERT_TRUE(res.json.contains("items") && res.json["items"].is_array()) << res.Describe();
  ASSERT_EQ(res.json["items"].size(), 1u) << res.Describe();
  const Json& d = res.json["items"][0];
  EXPECT_EQ(d.value("name", ""), "items");
  EXPECT_EQ(d.value("time_field", ""), "observed_at");
  EXPECT_EQ(d.value("partition_field", ""), "region");
  std::vector<std::string> names;
  for (const auto& f : d["fields"]) {
    names.push_back(f.value("name", ""));
    EXPECT_TRUE(f.contains("type") && f["type"].is_string()) << f.dump();
  }
  EXPECT_EQ(names, ItemsFields()) << res.Describe();
}

TEST_F(ExportFlowTest, DemoDatasetExportsAndIsListedWhenNoDatasetIsConfigured) {
  ExportdProcess::Options options;
  options.env["EXPORTD_DEMO_ROWS"] = "300";
  ASSERT_TRUE(StartServer(std::move(options)));

  auto res = api_->Get("/v1/datasets");
  ASSERT_EQ(res.status, 200) << res.Describe();
  Json samples;
  for (const auto& d : res.json.value("items", Json::array())) {
    if (d.value("name", "") == "samples") samples = d;
  }
  ASSERT_TRUE(samples.is_object()) << "no dataset \"samples\": " << res.Describe();
  EXPECT_EQ(samples.value("time_field", ""), "collected_at");
  EXPECT_EQ(samples.value("partition_field", ""), "study");
  std::vector<std::string> fields;
  for (const auto& f : samples["fields"]) fields.push_back(f.value("name", ""));
  EXPECT_GT(fields.size(), 7u) << "expected the columns and many flattened analytes";
  const std::string key = samples.value("key", "id");

  const std::string db = server_->data_dir() + "/demo/samples.sqlite";
  std::vector<std::string> table_cols;
  ASSERT_NO_THROW(table_cols = TableColumns(db, "samples")) << db;
  // The plain columns that the dataset exports, compared value by value.
  std::vector<std::string> plain;
  for (const auto& f : fields) {
    if (std::find(table_cols.begin(), table_cols.end(), f) != table_cols.end()) plain.push_back(f);
  }
  ASSERT_FALSE(plain.empty());

  const std::string all_id = CreateExport(*api_, {{"dataset", "samples"}});
  const std::string plain_id =
      CreateExport(*api_, {{"dataset", "samples"}, {"format", "json"}, {"fields", plain}});
  ASSERT_FALSE(all_id.empty() || plain_id.empty());

  Json all = WaitForTerminal(*api_, all_id, kExportTimeout);
  ASSERT_EQ(all.value("status", ""), "Succeeded") << all.dump();
  EXPECT_EQ(all["progress"].value("rows", -1), 300) << all.dump();
  DownloadedExport dl = DownloadExport(*api_, all);
  ASSERT_EQ(dl.contents.size(), 1u);
  Table table;
  std::string error;
  ASSERT_TRUE(ParseCsv(dl.contents[0], &table, &error)) << error;
  ASSERT_EQ(table.size(), 301u);
  EXPECT_EQ(table[0], fields);
  // Keys in source order.
  auto keys = QuerySql(db, "SELECT \"" + key + "\" FROM samples ORDER BY \"" + key + "\"");
  auto key_col = std::find(fields.begin(), fields.end(), key) - fields.begin();
  ASSERT_LT(static_cast<size_t>(key_col), fields.size());
  for (size_t r = 0; r < keys.size() && r + 1 < table.size(); ++r) {
    if (table[r + 1].size() != fields.size()) {
      ADD_FAILURE() << "row " << r + 1 << " has " << table[r + 1].size() << " fields";
      break;
    }
    if (DescribeValue(keys[r][0]) != table[r + 1][static_cast<size_t>(key_col)] &&
        DescribeValue(keys[r][0]) != Json(table[r + 1][static_cast<size_t>(key_col)]).dump()) {
      ADD_FAILURE() << "row " << r + 1 << ": key " << table[r + 1][static_cast<size_t>(key_col)]
                    << ", expected " << DescribeValue(keys[r][0]);
      break;
    }
  }

  Json plain_task = WaitForTerminal(*api_, plain_id, kExportTimeout);
  ExpectedExport expected;
  expected.fields = plain;
  std::string sql = "SELECT ";
  for (size_t i = 0; i < plain.size(); ++i) sql += (i ? ", \"" : "\"") + plain[i] + "\"";
  sql += " FROM samples ORDER BY \"" + key + "\"";
  expected.rows = QuerySql(db, sql);
  expected.time_fields = {"collected_at"};
  ExpectExportMatches(*api_, plain_task, expected);
}

}  // namespace
}  // namespace exportd::itest
