// Datasets on PostgreSQL through the real binary: the items table loaded into SQLite and into
// PostgreSQL exports byte-identical files (sha256) in every format; a server stopped mid-export
// is a transient error, /readyz names it, and the task resumes from its last committed file and
// Succeeds with every row once (`exportd verify --source` agrees); configuration errors stop
// start-up with a clear message.
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "storage/postgres/pg_connection.h"
#include "tests/integration/itest_support.h"
#include "tests/integration/source_db.h"
#include "tests/postgres/postgres_test_db.h"

namespace exportd::itest {
namespace {

namespace fs = std::filesystem;

// Runs tests/postgres/cluster.sh COMMAND DIR; true on exit 0.
bool Cluster(const std::string& command, const std::string& dir) {
  const std::string cmd = "bash '" EXPORTD_PG_CLUSTER_SCRIPT "' " + command + " '" + dir + "'";
  return std::system(cmd.c_str()) == 0;
}

std::string ParamText(const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) {
    if (std::isinf(*d)) return *d > 0 ? "Infinity" : "-Infinity";
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
    return std::string(buf, end);
  }
  return std::get<std::string>(v);
}

// Copies table items of the SQLite file `path` into table items of the schema that `url`'s
// search_path names: the same rows, in PostgreSQL's types.
void CopyItemsToPostgres(const std::string& path, const std::string& url) {
  auto conn = PgConnection::Open(url);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  ASSERT_TRUE((*conn)
                  ->ExecScript("CREATE TABLE items (id bigint PRIMARY KEY, name text, qty bigint, "
                               "price double precision, observed_at timestamptz NOT NULL, "
                               "region text NOT NULL, doc json); BEGIN")
                  .ok());
  for (const Row& row : QuerySql(
           path, "SELECT id, name, qty, price, observed_at, region, doc FROM items ORDER BY id")) {
    PgParams params;
    for (const Value& v : row) {
      if (std::holds_alternative<std::monostate>(v)) {
        params.Null();
      } else {
        params.Text(ParamText(v));
      }
    }
    auto inserted = (*conn)->Exec("INSERT INTO items VALUES ($1, $2, $3, $4, $5, $6, $7)", params);
    ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  }
  ASSERT_TRUE((*conn)->ExecScript("COMMIT").ok());
}

Json PgItemsDataset(const std::string& name, const std::string& url, const std::string& table) {
  Json d = ItemsDatasetConfig(name, "unused");
  d["source"] = {{"type", "postgres"}, {"url", url}, {"table", table}};
  return d;
}

std::vector<std::string> FileDigests(const Json& task) {
  std::vector<std::string> out;
  for (const Json& f : task["files"]) {
    out.push_back(f.value("name", "") + " " + f.value("sha256", ""));
  }
  return out;
}

std::vector<std::string> CheckpointedFiles(const Json& events) {
  std::vector<std::string> names;
  for (const Json& e : EventsOfType(events, "checkpoint")) {
    const std::string detail = e.value("detail", "");
    names.push_back(detail.substr(0, detail.find(':')));
  }
  return names;
}

ino_t InodeOf(const ExportdProcess& server, const std::string& id, const std::string& name) {
  struct stat st {};
  const fs::path path = fs::path(server.data_dir()) / "exports" / id / name;
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

class PgSourceFlowTest : public ExportdTest {};

TEST_F(PgSourceFlowTest, SameRowsExportByteIdenticalFilesFromSqliteAndPostgres) {
  std::string schema;
  const std::string url = FreshSchemaUrl(&schema);
  ASSERT_FALSE(url.empty());
  CreateItemsDb(source_path(), 700);
  CopyItemsToPostgres(source_path(), url);
  ExportdProcess::Options options;
  options.config = {
      {"datasets", Json::array({ItemsDatasetConfig("lite", source_path()),
                                PgItemsDataset("pg", TestPostgresUrl(), schema + ".items")})}};
  ASSERT_TRUE(StartServer(std::move(options)));

  const std::vector<Json> requests = {
      {{"format", "csv"}, {"max_rows_per_file", 250}},
      {{"format", "tsv"}},
      {{"format", "ndjson"}, {"max_rows_per_file", 300}},
      {{"format", "json"}},
      {{"format", "csv"},
       {"fields", {"gamma", "id", "price", "beta"}},
       {"filter", {{"region", {{"in", {"north", "east"}}}}, {"qty", {{"gte", -10}}}}},
       {"since", "2024-01-03T00:00:00Z"},
       {"until", "2024-01-20T00:00:00Z"}},
      {{"format", "ndjson"}, {"filter", {{"beta", {{"prefix", "c"}}}}}},
      {{"format", "csv"}, {"partitions", {"west"}}, {"compression", "gzip"}},
  };
  for (const Json& request : requests) {
    SCOPED_TRACE(request.dump());
    std::map<std::string, Json> tasks;
    for (const std::string dataset : {"lite", "pg"}) {
      Json body = request;
      body["dataset"] = dataset;
      const std::string id = CreateExport(*api_, body);
      ASSERT_FALSE(id.empty());
      tasks[dataset] = WaitForTerminal(*api_, id, seconds(60));
      ASSERT_EQ(tasks[dataset].value("status", ""), "Succeeded") << tasks[dataset].dump();
    }
    EXPECT_GT(tasks["lite"]["progress"].value("rows", 0), 0);
    EXPECT_EQ(tasks["pg"]["progress"].value("rows", -1),
              tasks["lite"]["progress"].value("rows", 0));
    EXPECT_EQ(FileDigests(tasks["pg"]), FileDigests(tasks["lite"]));
  }
}

TEST_F(PgSourceFlowTest, ServerStoppedMidExportIsRetriedAndResumesFromItsLastFile) {
  // A cluster of this test's own: stopping the fixture's would disturb the tests running beside.
  const std::string cluster =
      (fs::temp_directory_path() / ("exportd-itest-pg-" + std::to_string(::getpid()))).string();
  ASSERT_TRUE(Cluster("start", cluster));
  struct Cleanup {
    std::string dir;
    ~Cleanup() { Cluster("stop", dir); }
  } cleanup{cluster};
  const std::string base = "postgresql:///postgres?host=" + cluster + "/sock&user=postgres";
  // About 30 MB, more than a reader takes ahead of the rows it has written (8 MB, see
  // PgCopyStream), so that the outage reaches it mid-read.
  constexpr int kRows = 30000;
  {
    auto conn = PgConnection::Open(base);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    ASSERT_TRUE(
        (*conn)
            ->ExecScript("CREATE TABLE items (id bigint PRIMARY KEY, name text, qty bigint, "
                         "price double precision, observed_at timestamptz NOT NULL, "
                         "region text NOT NULL, doc json); "
                         "INSERT INTO items SELECT g, 'name ' || g || repeat('.', 1000), "
                         "g % 97, g * 0.25, "
                         "timestamptz '2024-01-01' + g * interval '1 minute', "
                         "(ARRAY['north', 'south', 'east', 'west'])[g % 4 + 1], "
                         "json_build_object('alpha', g * 0.5, 'gamma', g) "
                         "FROM generate_series(1, " +
                         std::to_string(kRows) + ") AS g")
            .ok());
  }

  ExportdProcess::Options options;
  options.config = {{"datasets", Json::array({PgItemsDataset("pg", base, "items")})},
                    {"workers", 1},
                    // One reader, which the rate limit holds back (shared readers read ahead).
                    {"threads_per_export", 1},
                    {"max_attempts", 5},
                    {"max_rows_per_second", 10000}};
  ASSERT_TRUE(StartServer(std::move(options)));
  const std::string id = CreateExport(*api_, {{"dataset", "pg"}, {"max_rows_per_file", 1000}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitForProcessingRows(*api_, id, 4000, seconds(20)));

  std::map<std::string, ino_t> before;
  for (const std::string& name : CheckpointedFiles(GetEvents(*api_, id))) {
    before[name] = InodeOf(*server_, id, name);
  }
  ASSERT_TRUE(Cluster("down", cluster));
  ASSERT_GE(before.size(), 3u);
  // The lost connection is a transient error: the task is put back for a retry.
  ASSERT_TRUE(
      WaitFor([&] { return !EventsOfType(GetEvents(*api_, id), "retry").empty(); }, seconds(20)))
      << GetEvents(*api_, id).dump();
  // /readyz names the unreachable source (its probe result is cached up to 5 s).
  ASSERT_TRUE(WaitFor(
      [&] {
        HttpResponse r = api_->Get("/readyz");
        return r.status == 503 && r.body.find("dataset 'pg'") != std::string::npos;
      },
      seconds(15)));
  ASSERT_TRUE(Cluster("up", cluster));

  Json task = WaitForTerminal(*api_, id, seconds(60));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  EXPECT_GE(task.value("attempts", 0), 2) << task.dump();
  std::vector<int64_t> expected(kRows);
  for (int i = 0; i < kRows; ++i) expected[static_cast<size_t>(i)] = i + 1;
  EXPECT_EQ(ExportedIds(*api_, task), expected);
  // The files committed before the outage were kept, not written again.
  for (const auto& [name, inode] : before) {
    EXPECT_EQ(InodeOf(*server_, id, name), inode) << name;
  }
  CommandResult verify =
      server_->RunCli({"verify", id, "--config", server_->config_path(), "--source"}, seconds(60));
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_TRUE(WaitFor([&] { return api_->Get("/readyz").status == 200; }, seconds(15)));
}

TEST_F(PgSourceFlowTest, StartUpRefusesAnUnreachableServerAndAMissingTable) {
  TempDir nowhere;
  for (const auto& [url, table, message] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"postgresql:///postgres?host=" + nowhere.path() + "&user=postgres", "items",
            "cannot connect"},
           {TestPostgresUrl(), "no_schema.items", "no table or view 'no_schema.items'"}}) {
    ExportdProcess::Options options;
    options.config = {{"datasets", Json::array({PgItemsDataset("pg", url, table)})}};
    options.start_timeout = seconds(10);
    ExportdProcess server(std::move(options));
    std::string error;
    EXPECT_FALSE(server.Start(&error));
    EXPECT_NE(error.find("dataset 'pg'"), std::string::npos) << error;
    EXPECT_NE(error.find(message), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace exportd::itest
