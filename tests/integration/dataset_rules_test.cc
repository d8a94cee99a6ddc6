// Dataset rules against the real binary: a row_filter that no request can widen, a dataset over a
// SQL view that joins each record to its region's current sharing consent (so a withdrawal
// takes effect on re-exports), and the per-partition metrics of an export.
#include <set>

#include "tests/integration/itest_support.h"
#include "tests/integration/source_db.h"

namespace exportd::itest {
namespace {

using std::chrono::seconds;

class DatasetRulesTest : public ExportdTest {
 protected:
  // Starts exportd over 200 items with dataset "items" carrying `extra` keys, and dataset
  // "shared" over the view items_shared (items whose region's consent is not "no_sharing").
  bool Start(const Json& extra) {
    CreateItemsDb(source_path(), 200);
    ExecSql(source_path(),
            "CREATE TABLE consent (region TEXT PRIMARY KEY, scope TEXT NOT NULL);"
            "INSERT INTO consent VALUES ('north', 'all'), ('south', 'all'), ('east', 'all'),"
            " ('west', 'no_sharing');"
            "CREATE VIEW items_shared AS SELECT items.* FROM items JOIN consent USING (region)"
            " WHERE consent.scope <> 'no_sharing';");
    Json items = ItemsDatasetConfig("items", source_path());
    for (auto it = extra.begin(); it != extra.end(); ++it) items[it.key()] = it.value();
    Json shared = ItemsDatasetConfig("shared", source_path());
    shared["source"]["table"] = "items_shared";
    ExportdProcess::Options options;
    options.config = {{"datasets", Json::array({items, shared})}};
    return StartServer(std::move(options));
  }

  Json Run(const Json& body) {
    const std::string id = CreateExport(*api_, body);
    if (id.empty()) return Json();
    return WaitForTerminal(*api_, id, seconds(60));
  }

  std::vector<int64_t> IdsWhere(const std::string& where) {
    std::vector<int64_t> ids;
    for (const Row& row : QueryItems(source_path(), {"id"}, where)) {
      ids.push_back(std::get<int64_t>(row[0]));
    }
    return ids;
  }
};

TEST_F(DatasetRulesTest, TheRowFilterHoldsForEveryRequestAndItsExclusionsAreCounted) {
  // Only rows with a non-negative qty may leave (NULL qty fails "gte" too).
  ASSERT_TRUE(Start({{"row_filter", {{"qty", {{"gte", 0}}}}}}));
  const std::vector<int64_t> allowed = IdsWhere("qty >= 0");
  ASSERT_LT(allowed.size(), 200u);

  Json all = Run({{"dataset", "items"}, {"fields", {"id", "qty"}}});
  EXPECT_EQ(ExportedIds(*api_, all), allowed);
  EXPECT_EQ(all["metrics"]["excluded_rows"], 200 - static_cast<int>(allowed.size()));
  // A request that asks for exactly the excluded rows gets none of them.
  Json widened =
      Run({{"dataset", "items"}, {"fields", {"id", "qty"}}, {"filter", {{"qty", {{"lt", 0}}}}}});
  EXPECT_EQ(ExportedIds(*api_, widened), std::vector<int64_t>{});
  EXPECT_EQ(widened["metrics"]["excluded_rows"], static_cast<int>(IdsWhere("qty < 0").size()));
  // Nor through a record list.
  const std::vector<int64_t> negative = IdsWhere("qty < 0");
  ASSERT_FALSE(negative.empty());
  Json listed =
      Run({{"dataset", "items"}, {"fields", {"id"}}, {"record_ids", {negative[0], allowed[0]}}});
  EXPECT_EQ(ExportedIds(*api_, listed), std::vector<int64_t>{allowed[0]});
  EXPECT_EQ(listed["metrics"]["missing_ids"], 1);
  // Nor through an incremental export.
  Json incremental = Run({{"dataset", "items"}, {"fields", {"id"}}, {"incremental", true}});
  EXPECT_EQ(ExportedIds(*api_, incremental), allowed);
}

TEST_F(DatasetRulesTest, AViewJoiningConsentTakesAWithdrawalIntoAccountOnReExports) {
  ASSERT_TRUE(Start(Json::object()));
  Json before = Run({{"dataset", "shared"}, {"fields", {"id", "region"}}});
  EXPECT_EQ(ExportedIds(*api_, before), IdsWhere("region <> 'west'"));
  // South withdraws consent: a re-export of the same window leaves south out.
  ExecSql(source_path(), "UPDATE consent SET scope = 'no_sharing' WHERE region = 'south'");
  // Incremental (no watermark yet: from the beginning), so its metrics count rows per region.
  Json after = Run({{"dataset", "shared"}, {"fields", {"id", "region"}}, {"incremental", true}});
  EXPECT_EQ(ExportedIds(*api_, after), IdsWhere("region NOT IN ('west', 'south')"));
  EXPECT_EQ(after["metrics"]["rows_by_partition"],
            (Json{{"east", IdsWhere("region = 'east'").size()},
                  {"north", IdsWhere("region = 'north'").size()}}));
}

TEST_F(DatasetRulesTest, MetricsCountRowsAndDistinctValuesPerPartitionInTheTaskAndManifest) {
  ASSERT_TRUE(Start({{"metrics", {{"count_distinct", {"qty", "beta"}}}}}));
  Json task = Run({{"dataset", "items"},
                   {"fields", {"id"}},
                   {"since", "2024-01-02T00:00:00Z"},
                   {"until", "2024-01-04T00:00:00Z"}});
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  const std::string window =
      "observed_at >= '2024-01-02T00:00:00Z' AND observed_at < '2024-01-04T00:00:00Z'";
  for (const std::string region : {"north", "south", "east", "west"}) {
    const std::string in_region = window + " AND region = '" + region + "'";
    EXPECT_EQ(task["metrics"]["rows_by_partition"][region], IdsWhere(in_region).size()) << region;
    const auto qty =
        QuerySql(source_path(), "SELECT COUNT(DISTINCT qty) FROM items WHERE " + in_region);
    EXPECT_EQ(task["metrics"]["distinct"]["qty"][region], std::get<int64_t>(qty[0][0])) << region;
    const auto beta = QuerySql(source_path(),
                               "SELECT COUNT(DISTINCT json_extract(doc, '$.beta')) FROM items"
                               " WHERE " +
                                   in_region);
    EXPECT_EQ(task["metrics"]["distinct"]["beta"][region], std::get<int64_t>(beta[0][0])) << region;
  }
  EXPECT_EQ(DownloadExport(*api_, task).manifest["metrics"], task["metrics"]);
  EXPECT_NE(server_->LogTail(1 << 20).find("metrics {"), std::string::npos)
      << "one summary log line per finished export";
}

}  // namespace
}  // namespace exportd::itest
