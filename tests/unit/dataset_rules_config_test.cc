// The dataset keys of recurring exports: time_zone, settle_seconds, row_filter and
// metrics.count_distinct, read from the configuration (ParseConfig) and checked against the
// resolved dataset at start-up (LoadDatasets), each bad value with a message naming it.
#include <gtest/gtest.h>

#include <string>

#include "core/canonical_json.h"
#include "server/config.h"
#include "server/datasets.h"
#include "server/demo_dataset.h"
#include "tests/fakes/fake_time_zone_db.h"
#include "tests/fakes/temp_dir.h"

namespace exportd {
namespace {

class DatasetRulesConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(CreateDemoDataset(path_, 20).ok()); }

  // A config with the demo table as dataset "samples" plus `keys` (JSON members).
  std::string ConfigText(const std::string& keys) const {
    return R"({"datasets": [{"name": "samples", "key": "id", "time_field": "collected_at",
               "partition_field": "study",
               "source": {"type": "sqlite", "path": ")" +
           path_ + R"(", "table": "samples"})" + (keys.empty() ? "" : ", " + keys) + "}]}";
  }

  // The message of the first error, from parsing or from loading; "" when both succeed.
  std::string ErrorOf(const std::string& keys) const {
    Result<Config> config = ParseConfig(ConfigText(keys), "");
    if (!config.ok()) return config.status().message();
    Result<DatasetCatalog> catalog = LoadDatasets(*config, time_zones_, /*create_demo=*/false);
    return catalog.ok() ? "" : catalog.status().ToString();
  }

  testing_support::TempDir dir_;
  std::string path_ = dir_.path() + "/samples.sqlite";
  fakes::FakeTimeZoneDb time_zones_;
};

TEST_F(DatasetRulesConfigTest, AbsentKeysMeanNoRules) {
  Result<Config> config = ParseConfig(ConfigText(""), "");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const DatasetSpec& spec = config->datasets.at(0);
  EXPECT_FALSE(spec.time_zone);
  EXPECT_EQ(spec.settle_seconds, 0);
  EXPECT_TRUE(spec.row_filter.empty());
  EXPECT_TRUE(spec.count_distinct.empty());
}

TEST_F(DatasetRulesConfigTest, EveryKeyIsReadCheckedAndCanonical) {
  Result<Config> config =
      ParseConfig(ConfigText(R"("time_zone": "Europe/Berlin", "settle_seconds": 120,
                    "row_filter": {"study": {"ne": "no_sharing"}, "id": {"gt": "3"}},
                    "metrics": {"count_distinct": ["study", "rock_type"]})"),
                  "");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  Result<DatasetCatalog> catalog = LoadDatasets(*config, time_zones_, /*create_demo=*/false);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  const DatasetSpec& spec = catalog->Find("samples")->dataset->spec();
  EXPECT_EQ(spec.time_zone, "Europe/Berlin");
  EXPECT_EQ(spec.settle_seconds, 120);
  EXPECT_EQ(
      CanonicalFilterJson(spec.row_filter),
      R"([{"field":"id","op":"gt","value":3},{"field":"study","op":"ne","value":"no_sharing"}])")
      << "coerced to the fields' types and in canonical order";
  EXPECT_EQ(spec.count_distinct, (std::vector<std::string>{"study", "rock_type"}));
}

TEST_F(DatasetRulesConfigTest, BadValuesFailWithAMessageNamingTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("time_zone": "Mars/Olympus_Mons")", "time_zone 'Mars/Olympus_Mons'"},
      {R"("time_zone": 5)", "time_zone"},
      {R"("settle_seconds": -1)", "settle_seconds must be 0 or more"},
      {R"("settle_seconds": "soon")", "settle_seconds"},
      {R"("row_filter": {"nope": 1})", "row_filter: unknown field 'nope'"},
      {R"("row_filter": {"study": {"like": "x"}})", "row_filter"},
      {R"("row_filter": {"id": "ten"})", "row_filter"},
      {R"("row_filter": [1])", "row_filter"},
      {R"("metrics": {"count_distinct": ["nope"]})", "count_distinct names 'nope'"},
      {R"("metrics": {"count_distinct": ["study", "study"]})", "twice"},
      {R"("metrics": {"sum": ["id"]})", "metrics.sum"},
      {R"("metrics": [])", "metrics must be an object"},
  };
  for (const auto& [keys, expected] : cases) {
    const std::string error = ErrorOf(keys);
    EXPECT_NE(error.find(expected), std::string::npos) << keys << " -> " << error;
    EXPECT_TRUE(error.find("dataset 'samples'") != std::string::npos ||
                error.find("datasets[0].") != std::string::npos)
        << "the message names the dataset: " << error;
  }
}

// The source object: sqlite (path) or postgres (url), each refusing the other's key.
TEST(DatasetSourceConfigTest, SourceTypesAndTheirKeys) {
  auto error_of = [](const std::string& source, const std::string& extra = "") {
    Result<Config> config = ParseConfig(
        R"({"datasets": [{"name": "d", "key": "id", "source": )" + source + extra + "}]}", "");
    return config.ok() ? std::string() : config.status().message();
  };
  Result<Config> pg = ParseConfig(
      R"({"datasets": [{"name": "d", "key": "id", "source": {"type": "postgres",
          "url": "postgresql://u@db/lab", "table": "public.items"}}]})",
      "");
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  EXPECT_EQ(pg->datasets.at(0).source.type, "postgres");
  EXPECT_EQ(pg->datasets.at(0).source.url, "postgresql://u@db/lab");
  EXPECT_EQ(pg->datasets.at(0).source.table, "public.items");
  EXPECT_NE(error_of(R"({"type": "postgres", "table": "t"})")
                .find("source.url and source.table are required for a postgres source"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type": "postgres", "url": "postgresql:///x", "path": "a.db",
                        "table": "t"})")
                .find("source.path is for sqlite sources"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type": "sqlite", "path": "a.db", "url": "postgresql:///x",
                        "table": "t"})")
                .find("source.url is for postgres sources"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type": "mysql", "table": "t"})")
                .find("source.type 'mysql' is not supported (sqlite or postgres)"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type": "postgres", "url": "postgresql:///x", "table": "t"})",
                     R"(, "importable": true)")
                .find("importable is supported for sqlite sources only"),
            std::string::npos);
}

}  // namespace
}  // namespace exportd
