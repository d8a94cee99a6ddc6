// /metrics of the real binary after real exports: the exposition is well formed (the checker
// of tests/support/prometheus_text.h, and `promtool check metrics` when it is installed), the
// figures equal what the exports did (rows, bytes, runs, a retry, a schedule firing, the queue,
// a watermark's lag), and every metric the Grafana dashboard in deploy/ queries is exposed.
// Also the JSON log format: one object per line with the task and request ids.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/integration/itest_support.h"
#include "tests/support/prometheus_text.h"

namespace exportd::itest {
namespace {

using exportd::testing::ParsePromText;
using exportd::testing::PromText;

PromText Scrape(const HttpClient& api) {
  HttpResponse res = api.Get("/metrics");
  EXPECT_EQ(res.status, 200) << res.Describe();
  EXPECT_EQ(res.Header("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
  PromText text = ParsePromText(res.body);
  for (const std::string& p : text.problems) ADD_FAILURE() << p << "\n" << res.body;
  return text;
}

// `promtool check metrics` over `body`, when a promtool is found (EXPORTD_PROMTOOL or PATH):
// its exit code 0 and no lint output. Returns false when there is no promtool.
bool PromtoolAccepts(const std::string& body, const std::string& dir) {
  std::string promtool;
  if (const char* given = std::getenv("EXPORTD_PROMTOOL"); given != nullptr && *given != '\0') {
    promtool = given;
  } else if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    promtool = "promtool";
  } else {
    return false;
  }
  const std::string in = dir + "/scrape.txt";
  const std::string out = dir + "/promtool.out";
  std::ofstream(in) << body;
  const int rc = std::system((promtool + " check metrics < " + in + " > " + out + " 2>&1").c_str());
  std::ifstream read(out);
  std::stringstream said;
  said << read.rdbuf();
  EXPECT_EQ(rc, 0) << said.str();
  EXPECT_EQ(said.str(), "") << "promtool's lint";
  return true;
}

int64_t SumOfFiles(const Json& task, const char* member) {
  int64_t sum = 0;
  for (const Json& f : task["files"]) sum += f.value(member, int64_t{0});
  return sum;
}

class MetricsScrapeTest : public ExportdTest {};

TEST_F(MetricsScrapeTest, FiguresMatchRealExportsAndTheDashboardQueriesOnlyWhatIsExposed) {
  // A retry waits 2.5-5 s (base 5 s, jitter): long enough to look at the queue meanwhile.
  ASSERT_TRUE(StartWithItems(
      300, {{"max_attempts", 3}, {"retry_base_delay_ms", 5000}, {"retry_max_delay_ms", 5000}}, {},
      /*busy_timeout_ms=*/50));
  PromText text = Scrape(*api_);
  EXPECT_EQ(text.Value("exportd_tasks", {{"state", "Pending"}}), 0);
  EXPECT_EQ(text.Value("exportd_queue_depth"), 0);
  EXPECT_EQ(text.Value("exportd_oldest_pending_task_age_seconds"), 0);

  // A locked source: the first run fails and waits for its retry, Pending but not ready.
  auto lock = std::make_unique<SqliteExclusiveLock>(source_path());
  const std::string first = CreateExport(*api_, {{"dataset", "items"}, {"format", "csv"}});
  ASSERT_FALSE(first.empty());
  ASSERT_TRUE(WaitFor([&] { return !EventsOfType(GetEvents(*api_, first), "retry").empty(); },
                      seconds(15), milliseconds(10)));
  text = Scrape(*api_);
  EXPECT_EQ(text.Value("exportd_tasks", {{"state", "Pending"}}), 1);
  EXPECT_EQ(text.Value("exportd_queue_depth"), 0) << "waiting for its retry, not for a worker";
  const std::optional<double> age = text.Value("exportd_oldest_pending_task_age_seconds");
  ASSERT_TRUE(age.has_value());
  EXPECT_GT(*age, 0);
  EXPECT_LT(*age, 60);
  EXPECT_EQ(text.Sum("exportd_export_retries_total"), 1);
  EXPECT_EQ(text.Value("exportd_export_duration_seconds_count",
                       {{"dataset", "items"}, {"outcome", "retry"}}),
            1);
  lock->Release();
  const Json a = WaitForTerminal(*api_, first, seconds(30));
  ASSERT_EQ(a.value("status", ""), "Succeeded") << a.dump();

  const std::string second =
      CreateExport(*api_, {{"dataset", "items"}, {"format", "ndjson"}, {"max_rows_per_file", 100}});
  const Json b = WaitForTerminal(*api_, second, seconds(30));
  ASSERT_EQ(b.value("status", ""), "Succeeded") << b.dump();

  // A schedule run by hand: one firing, one more export.
  HttpResponse schedule =
      api_->PostJson("/v1/schedules",
                     {{"name", "nightly"},
                      {"cron", "0 3 * * *"},
                      {"time_zone", "UTC"},
                      {"request", {{"dataset", "items"}, {"format", "csv"}, {"fields", {"id"}}}}});
  ASSERT_EQ(schedule.status, 201) << schedule.Describe();
  HttpResponse run =
      api_->PostJson("/v1/schedules/" + schedule.json.value("id", "") + "/run", Json::object());
  ASSERT_EQ(run.status, 202) << run.Describe();
  const Json c = WaitForTerminal(*api_, run.json.value("id", ""), seconds(30));
  ASSERT_EQ(c.value("status", ""), "Succeeded") << c.dump();

  // A watermark an hour old: the dataset lags an hour.
  const int64_t hour_ago_s = *UnixNowSeconds() - 3600;
  char when[32];
  std::time_t t = hour_ago_s;
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  HttpResponse mark = api_->Send("PUT", "/v1/datasets/items/watermarks/north",
                                 Json{{"watermark", when}}.dump(), "application/json");
  ASSERT_EQ(mark.status, 200) << mark.Describe();
  ASSERT_EQ(api_->Get("/no/such/route").status, 404);

  // A request is counted once its answer is sent: wait until the last one before is.
  const std::string h = "exportd_http_request_duration_seconds_count";
  ASSERT_TRUE(WaitFor(
      [&] {
        text = Scrape(*api_);
        return text.Value(h, {{"route", "unmatched"}, {"code", "404"}}) == 1;
      },
      seconds(10), milliseconds(10)));
  HttpResponse raw = api_->Get("/metrics");
  const std::map<std::string, std::string> items = {{"dataset", "items"}};
  EXPECT_EQ(text.Value("exportd_rows_exported_total", items), 900);
  EXPECT_EQ(text.Value("exportd_bytes_exported_total", items),
            SumOfFiles(a, "bytes") + SumOfFiles(b, "bytes") + SumOfFiles(c, "bytes"));
  EXPECT_EQ(SumOfFiles(a, "rows") + SumOfFiles(b, "rows"), 600);
  EXPECT_EQ(text.Value("exportd_export_duration_seconds_count",
                       {{"dataset", "items"}, {"outcome", "succeeded"}}),
            3);
  EXPECT_EQ(text.Value("exportd_export_duration_seconds_bucket",
                       {{"dataset", "items"}, {"outcome", "succeeded"}, {"le", "+Inf"}}),
            3);
  EXPECT_EQ(text.Sum("exportd_export_retries_total"), 1);
  EXPECT_EQ(text.Value("exportd_tasks", {{"state", "Succeeded"}}), 3);
  EXPECT_EQ(text.Value("exportd_tasks", {{"state", "Pending"}}), 0);
  EXPECT_EQ(text.Value("exportd_queue_depth"), 0);
  EXPECT_EQ(text.Value("exportd_oldest_pending_task_age_seconds"), 0);
  EXPECT_EQ(text.Value("exportd_exports_running"), 0);
  EXPECT_EQ(
      text.Value("exportd_schedule_firings_total", {{"dataset", "items"}, {"outcome", "created"}}),
      1);
  EXPECT_EQ(text.Value("exportd_lease_expiries_total"), 0);
  const std::optional<double> lag = text.Value("exportd_watermark_lag_seconds", items);
  ASSERT_TRUE(lag.has_value());
  EXPECT_NEAR(*lag, 3600, 60);
  EXPECT_EQ(text.Value(h, {{"method", "POST"}, {"route", "/v1/exports"}, {"code", "202"}}), 2);
  EXPECT_EQ(text.Value(h, {{"method", "POST"}, {"route", "/v1/schedules/{id}/run"}}), 1);
  EXPECT_GE(*text.Value(h, {{"method", "GET"}, {"route", "/v1/exports/{id}"}, {"code", "200"}}), 3);
  EXPECT_EQ(text.Value(h, {{"method", "GET"}, {"route", "unmatched"}, {"code", "404"}}), 1);
  EXPECT_GE(*text.Value(h, {{"method", "GET"}, {"route", "/metrics"}, {"code", "200"}}), 2);

  if (!PromtoolAccepts(raw.body, source_dir_.path())) {
    std::cout << "promtool not installed: checked by the parser only\n";
  }

  // Every metric the dashboard queries is declared by this scrape.
  std::ifstream file(std::string(EXPORTD_SOURCE_DIR) + "/deploy/grafana/exportd-dashboard.json");
  ASSERT_TRUE(file.good());
  const Json dashboard = Json::parse(file, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(dashboard.is_discarded()) << "the dashboard is not JSON";
  std::set<std::string> queried;
  const std::regex name(R"(exportd_[a-z0-9_]+)");
  size_t expressions = 0;
  for (const Json& panel : dashboard["panels"]) {
    for (const Json& target : panel.value("targets", Json::array())) {
      const std::string expr = target.value("expr", "");
      ++expressions;
      for (auto it = std::sregex_iterator(expr.begin(), expr.end(), name);
           it != std::sregex_iterator(); ++it) {
        queried.insert(it->str());
      }
    }
  }
  for (const Json& variable : dashboard["templating"]["list"]) {
    const std::string q = variable.value("definition", "");
    for (auto it = std::sregex_iterator(q.begin(), q.end(), name); it != std::sregex_iterator();
         ++it) {
      queried.insert(it->str());
    }
  }
  EXPECT_GE(expressions, 15u);
  std::set<std::string> families;
  for (const auto& f : text.families) families.insert(f.name);
  for (std::string metric : queried) {
    for (const std::string suffix : {"_bucket", "_count", "_sum"}) {
      const std::string base =
          metric.substr(0, metric.size() - std::min(metric.size(), suffix.size()));
      if (metric.size() > suffix.size() &&
          metric.compare(base.size(), suffix.size(), suffix) == 0 && text.Find(base) != nullptr &&
          text.Find(base)->type == "histogram") {
        metric = base;
      }
    }
    EXPECT_TRUE(families.count(metric))
        << "the dashboard queries " << metric << ", which /metrics does not expose";
  }
  // And the dashboard shows every family /metrics exposes.
  for (const std::string& family : families) {
    bool shown = false;
    for (const std::string& q : queried) shown = shown || q.rfind(family, 0) == 0;
    EXPECT_TRUE(shown) << family << " is on no panel of the dashboard";
  }
}

TEST_F(MetricsScrapeTest, JsonLogsAreOneObjectPerLineWithTaskAndRequestIds) {
  ASSERT_TRUE(StartWithItems(50, {{"log_format", "json"}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForTerminal(*api_, id, seconds(30)).value("status", ""), "Succeeded");
  ASSERT_EQ(api_->Get("/v1/exports/" + id, {{"X-Request-Id", "req-json-log-1"}}).status, 200);
  // The access log line is written after the answer: wait for it.
  ASSERT_TRUE(
      WaitFor([&] { return server_->stderr_log().find("req-json-log-1") != std::string::npos; },
              seconds(10), milliseconds(10)));

  std::istringstream lines(server_->stderr_log());
  std::string line;
  int objects = 0;
  bool finished_line = false;
  bool request_line = false;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    const Json entry = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(entry.is_object()) << "not one JSON object: " << line;
    ++objects;
    ASSERT_TRUE(entry["time"].is_string()) << line;
    EXPECT_TRUE(ParseRfc3339Millis(entry["time"].get<std::string>()).has_value()) << line;
    EXPECT_TRUE(entry["level"].is_string()) << line;
    EXPECT_TRUE(entry["message"].is_string()) << line;
    const std::string message = entry.value("message", "");
    if (entry.value("task_id", "") == id && message.find("-> Succeeded") != std::string::npos) {
      finished_line = true;
    }
    if (entry.value("request_id", "") == "req-json-log-1") {
      request_line = true;
      EXPECT_EQ(entry.value("task_id", ""), id) << "the request is about that task: " << line;
      EXPECT_NE(message.find("GET /v1/exports/" + id + " 200"), std::string::npos) << line;
    }
  }
  EXPECT_GT(objects, 5);
  EXPECT_TRUE(finished_line) << "no line of the task's end with its task_id";
  EXPECT_TRUE(request_line) << "no line with the request id";
}

TEST_F(MetricsScrapeTest, TextLogsStayTheDefault) {
  ASSERT_TRUE(StartWithItems(10));
  const std::string log = server_->stderr_log();
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.front(), '{') << log.substr(0, 200);
  EXPECT_NE(log.find(" info "), std::string::npos) << log.substr(0, 200);
}

}  // namespace
}  // namespace exportd::itest
