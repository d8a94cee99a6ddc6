// exportd on PostgreSQL (task_store via EXPORTD_TASK_STORE_URL): the real binary against the
// throwaway cluster of the ctest fixture "postgres", in a schema of the test's own.
#include <filesystem>
#include <iostream>
#include <map>

#include "tests/integration/itest_support.h"
#include "tests/postgres/postgres_test_db.h"

namespace exportd::itest {
namespace {

constexpr auto kExportTimeout = seconds(60);

std::string Text(exportd::PgConnection& conn, const std::string& sql) {
  Result<PgResult> r = conn.Exec(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  return r.ok() && r->rows() > 0 ? r->Text(0, 0) : "";
}

class PostgresStoreTest : public ExportdTest {
 protected:
  void SetUp() override {
    url_ = FreshSchemaUrl();
    ASSERT_FALSE(url_.empty());
  }
  std::string url_;
};

TEST_F(PostgresStoreTest, AnExportSucceedsWithEveryRecordInPostgres) {
  ASSERT_TRUE(StartWithItems(1000, Json::object(), {{"EXPORTD_TASK_STORE_URL", url_}}));
  const std::string id =
      CreateExport(*api_, {{"dataset", "items"}, {"format", "csv"}, {"max_rows_per_file", 400}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForTerminal(*api_, id, kExportTimeout);
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  EXPECT_EQ(task["files"].size(), 3u) << task.dump();
  ExpectExportMatches(*api_, task, ExpectedItems());

  // The records are in PostgreSQL, not in a SQLite file of the data dir.
  EXPECT_FALSE(std::filesystem::exists(server_->data_dir() + "/exportd.db"));
  Result<std::unique_ptr<PgConnection>> raw = PgConnection::Open(url_);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(Text(**raw, "SELECT state FROM tasks WHERE id = '" + id + "'"), "Succeeded");
  EXPECT_EQ(Text(**raw, "SELECT COUNT(*) FROM task_events WHERE task_id = '" + id +
                            "' AND type = 'checkpoint'"),
            "3");
  EXPECT_EQ(Text(**raw, "SELECT COUNT(*) FROM api_keys WHERE role = 'admin'"), "1");

  // A restart is a new instance (its own id, not one kept in the data dir) on the same records.
  const std::string first_instance =
      EventsOfType(GetEvents(*api_, id), "start").at(0).value("actor", "");
  EXPECT_TRUE(first_instance.starts_with("inst_")) << first_instance;
  EXPECT_FALSE(std::filesystem::exists(server_->data_dir() + "/instance_id"));
  ASSERT_EQ(server_->Stop(), 0) << server_->LogTail();
  std::string error;
  ASSERT_TRUE(server_->Start(&error)) << error;
  EXPECT_EQ(GetTask(*api_, id).value("status", ""), "Succeeded");
  const std::string second = CreateExport(*api_, {{"dataset", "items"}, {"format", "ndjson"}});
  ASSERT_FALSE(second.empty());
  task = WaitForTerminal(*api_, second, kExportTimeout);
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  const std::string second_instance =
      EventsOfType(GetEvents(*api_, second), "start").at(0).value("actor", "");
  EXPECT_TRUE(second_instance.starts_with("inst_")) << second_instance;
  EXPECT_NE(second_instance, first_instance);
}

// GET /v1/instances (admin): this instance, its host, its heartbeat, the task it is running.
TEST_F(PostgresStoreTest, InstancesListsThisInstanceWithTheTaskItRuns) {
  // 2,000 rows at 400 rows/s: Processing for about 5 s, long enough to be seen running.
  ASSERT_TRUE(
      StartWithItems(2000, {{"max_rows_per_second", 400}}, {{"EXPORTD_TASK_STORE_URL", url_}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"format", "csv"}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitForProcessingRows(*api_, id, 1, seconds(20)));
  const std::string instance = EventsOfType(GetEvents(*api_, id), "start").at(0).value("actor", "");

  HttpResponse res = api_->Get("/v1/instances");
  ASSERT_EQ(res.status, 200) << res.body;
  Json list = Json::parse(res.body);
  ASSERT_EQ(list["items"].size(), 1u) << res.body;
  const Json& self = list["items"][0];
  EXPECT_EQ(self.value("id", ""), instance) << res.body;
  EXPECT_FALSE(self.value("host", "").empty()) << res.body;
  const auto started = ParseRfc3339Millis(self.value("started_at", ""));
  const auto beat = ParseRfc3339Millis(self.value("heartbeat_at", ""));
  ASSERT_TRUE(started && beat) << res.body;
  EXPECT_GE(*beat, *started);
  EXPECT_EQ(self["running"], Json::array({id})) << res.body;

  // Admins only.
  HttpClient reader(server_->host(), server_->port(), CreateKey("dashboards", "reader"));
  EXPECT_EQ(reader.Get("/v1/instances").status, 403);
  ASSERT_EQ(api_->PostJson("/v1/exports/" + id + "/cancel", Json::object()).status, 202);
  Json done = WaitForTerminal(*api_, id, kExportTimeout);
  EXPECT_EQ(done.value("status", ""), "Cancelled") << done.dump();
  res = api_->Get("/v1/instances");
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(Json::parse(res.body)["items"][0]["running"], Json::array()) << res.body;
}

// The id an exportd on PostgreSQL logged at start ("instance inst_...; leases of ..."), "" if none.
std::string InstanceIdOf(const ExportdProcess& server) {
  const std::string log = server.stderr_log() + server.stdout_log();
  const size_t at = log.find("instance inst_");
  if (at == std::string::npos) return "";
  const size_t start = at + std::string("instance ").size();
  return log.substr(start, log.find_first_of("; \n", start) - start);
}

int64_t AtMillis(const Json& event) {
  return ParseRfc3339Millis(event.value("at", "")).value_or(-1);
}

// Two instances with one worker each, both busy: a cancel accepted by A stops the export B runs.
// The task is Cancelled, B's worker is free for the next task (which B starts, A being busy),
// and the cancelled export wrote nothing more: no file left in B's data dir, no checkpoint after
// the one that may have been in flight when the request came.
TEST_F(PostgresStoreTest, ACancelThroughOneInstanceStopsTheExportAnotherRuns) {
  // 3,000 rows at 300 rows/s in files of 100: about 10 s each, a file every third of a second.
  const Json config = {{"workers", 1}, {"max_rows_per_second", 300}};
  const std::map<std::string, std::string> env = {{"EXPORTD_TASK_STORE_URL", url_}};
  ASSERT_TRUE(StartWithItems(3000, config, env));
  ExportdProcess::Options options;
  options.config = config;
  options.config["datasets"] = Json::array({ItemsDatasetConfig("items", source_path())});
  options.env = env;
  ExportdProcess b(std::move(options));
  std::string error;
  ASSERT_TRUE(b.Start(&error)) << error;
  const std::string a_id = InstanceIdOf(*server_);
  const std::string b_id = InstanceIdOf(b);
  ASSERT_TRUE(a_id.starts_with("inst_") && b_id.starts_with("inst_")) << a_id << " " << b_id;

  const Json body = {{"dataset", "items"}, {"format", "csv"}, {"max_rows_per_file", 100}};
  const std::string first = CreateExport(*api_, body);
  const std::string second = CreateExport(*api_, body);
  ASSERT_FALSE(first.empty() || second.empty());
  ASSERT_TRUE(WaitForProcessingRows(*api_, first, 1, seconds(20)));
  ASSERT_TRUE(WaitForProcessingRows(*api_, second, 1, seconds(20)));
  auto runner = [&](const std::string& id) {
    std::vector<Json> starts = EventsOfType(GetEvents(*api_, id), "start");
    return starts.empty() ? std::string() : starts.back().value("actor", "");
  };
  const std::string on_b = runner(first) == b_id ? first : second;
  ASSERT_EQ(runner(on_b), b_id) << "each instance runs one of the two";
  const std::string next = CreateExport(*api_, body);  // waits: both workers are busy
  ASSERT_FALSE(next.empty());

  const auto asked = Clock::now();
  HttpResponse res = api_->PostJson("/v1/exports/" + on_b + "/cancel", Json::object());
  ASSERT_EQ(res.status, 202) << res.body;
  Json task = WaitForStatus(*api_, on_b, {"Cancelled"}, seconds(10));
  const auto seen = Clock::now();
  ASSERT_EQ(task.value("status", ""), "Cancelled") << task.dump();
  // B's only worker is free again: it starts the waiting task (A's is still busy).
  ASSERT_TRUE(WaitFor([&] { return runner(next) == b_id; }, seconds(10)))
      << "the next task did not start on " << b_id << ": " << GetEvents(*api_, next).dump();

  const Json events = GetEvents(*api_, on_b);
  const std::vector<Json> requested = EventsOfType(events, "cancel_requested");
  const std::vector<Json> cancelled = EventsOfType(events, "cancel");
  ASSERT_EQ(requested.size(), 1u) << events.dump();
  ASSERT_EQ(cancelled.size(), 1u) << events.dump();
  EXPECT_EQ(cancelled[0].value("actor", ""), b_id) << "stopped by the instance that ran it";
  int after_request = 0;
  for (const Json& e : EventsOfType(events, "checkpoint")) {
    if (AtMillis(e) > AtMillis(requested[0])) ++after_request;
  }
  EXPECT_LE(after_request, 1) << "files kept coming after the cancel: " << events.dump();
  std::vector<std::string> left;
  std::error_code ec;
  for (const auto& f :
       std::filesystem::recursive_directory_iterator(b.data_dir() + "/exports/" + on_b, ec)) {
    if (f.is_regular_file()) left.push_back(f.path().filename().string());
  }
  EXPECT_TRUE(left.empty()) << left.size() << " files left, e.g. " << left.front();
  EXPECT_TRUE(GetTask(*api_, on_b)["files"].empty());
  std::cout << "cancel through another instance: Cancelled "
            << AtMillis(cancelled[0]) - AtMillis(requested[0])
            << " ms after the request (store events), seen by the client after "
            << std::chrono::duration_cast<milliseconds>(seen - asked).count() << " ms; "
            << after_request << " checkpoint(s) after the request" << std::endl;
}

TEST_F(PostgresStoreTest, AnUnreachableDatabaseStopsTheStartWithAClearError) {
  ExportdProcess::Options options;
  options.env = {{"EXPORTD_TASK_STORE_URL",
                  "postgresql:///exportd?host=/nonexistent-exportd-dir&connect_timeout=2"}};
  options.start_timeout = seconds(10);
  server_ = std::make_unique<ExportdProcess>(std::move(options));
  std::string error;
  EXPECT_FALSE(server_->Start(&error));
  EXPECT_NE(server_->stderr_log().find("cannot connect"), std::string::npos) << server_->LogTail();
}

}  // namespace
}  // namespace exportd::itest
