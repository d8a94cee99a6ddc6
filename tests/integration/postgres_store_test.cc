// exportd on PostgreSQL (task_store via EXPORTD_TASK_STORE_URL): the real binary against the
// throwaway cluster of the ctest fixture "postgres", in a schema of the test's own.
#include <filesystem>

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
