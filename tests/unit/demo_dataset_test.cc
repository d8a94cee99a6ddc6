#include "server/demo_dataset.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/time_format.h"
#include "storage/sqlite/sqlite_dataset.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_source.h"
#include "tests/fakes/temp_dir.h"

namespace exportd {
namespace {

using testing_support::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every row as text: "col|col|...", NULL as \N.
std::vector<std::string> Dump(const std::string& path) {
  auto db = Database::Open(path, SQLITE_OPEN_READONLY);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  auto stmt = db->Prepare("SELECT * FROM samples ORDER BY id");
  EXPECT_TRUE(stmt.ok());
  std::vector<std::string> rows;
  while (*stmt->Step()) {
    std::string row;
    for (int c = 0; c < sqlite3_column_count(stmt->get()); ++c) {
      row += stmt->ColumnOptText(c).value_or("\\N");
      row += '|';
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

TEST(DemoDatasetTest, MeasurementNames) {
  const auto& names = DemoMeasurementNames();
  EXPECT_GE(names.size(), 150u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const char* expected : {"SiO2", "TiO2", "Al2O3", "Au_ppb", "87Sr/86Sr", "δ18O_permil"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
}

TEST(DemoDatasetTest, DeterministicAndAtomic) {
  TempDir dir;
  const std::string a = dir.File("a.sqlite");
  const std::string b = dir.File("b.sqlite");
  ASSERT_TRUE(CreateDemoDataset(a, 3000).ok());
  ASSERT_TRUE(CreateDemoDataset(b, 3000).ok());
  std::vector<std::string> rows = Dump(a);
  EXPECT_EQ(rows.size(), 3000u);
  EXPECT_EQ(rows, Dump(b));
  EXPECT_EQ(ReadFile(a), ReadFile(b));  // same bytes with the same SQLite library

  // Replacing an existing file; nothing but the two files is left in the directory.
  ASSERT_TRUE(CreateDemoDataset(b, 10).ok());
  EXPECT_EQ(Dump(b).size(), 10u);
  EXPECT_EQ(std::vector<std::string>(rows.begin(), rows.begin() + 10), Dump(b));
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 2u);

  EXPECT_FALSE(CreateDemoDataset(dir.File("no/such/dir/x.sqlite"), 10).ok());
}

TEST(DemoDatasetTest, Shape) {
  TempDir dir;
  const std::string path = dir.File("demo.sqlite");
  ASSERT_TRUE(CreateDemoDataset(path, 5000).ok());
  auto db = Database::Open(path, SQLITE_OPEN_READONLY);
  ASSERT_TRUE(db.ok());
  auto stmt = db->Prepare(
      "SELECT id, study, collected_at, site, rock_type, depth_m, sample_mass_g, analytes "
      "FROM samples ORDER BY id");
  ASSERT_TRUE(stmt.ok());
  const auto& names = DemoMeasurementNames();
  const std::set<std::string> known(names.begin(), names.end());
  std::set<std::string> studies, sites;
  int64_t expected_id = 1, null_mass = 0, null_doc = 0, empty_doc = 0;
  const TimePoint first = *ParseRfc3339("2019-01-01T00:00:00Z");
  const TimePoint end = *ParseRfc3339("2025-01-01T00:00:00Z");
  while (*stmt->Step()) {
    EXPECT_EQ(stmt->ColumnInt(0), expected_id++);
    studies.insert(stmt->ColumnText(1));
    const std::string at = stmt->ColumnText(2);
    auto t = ParseRfc3339(at);
    ASSERT_TRUE(t.has_value()) << at;
    EXPECT_EQ(FormatRfc3339Seconds(*t), at);  // canonical, whole seconds, Z
    EXPECT_TRUE(*t >= first && *t < end) << at;
    sites.insert(stmt->ColumnText(3));
    EXPECT_FALSE(stmt->ColumnText(4).empty());
    EXPECT_EQ(sqlite3_column_type(stmt->get(), 5), SQLITE_FLOAT);
    if (stmt->ColumnIsNull(6)) ++null_mass;
    auto doc = stmt->ColumnOptText(7);
    if (!doc) {
      ++null_doc;
      continue;
    }
    auto json = nlohmann::json::parse(*doc);
    ASSERT_TRUE(json.is_object()) << *doc;
    if (json.empty()) {
      ++empty_doc;
      continue;
    }
    EXPECT_GE(json.size(), 5u);
    EXPECT_LE(json.size(), 15u);
    for (const auto& [key, value] : json.items()) {
      EXPECT_TRUE(known.count(key)) << key;
      EXPECT_TRUE(value.is_number()) << *doc;
    }
  }
  EXPECT_EQ(expected_id, 5001);
  EXPECT_EQ(studies.size(), 8u);
  EXPECT_GT(null_mass, 100);
  EXPECT_LT(null_mass, 500);
  EXPECT_GT(null_doc, 5);
  EXPECT_GT(empty_doc, 20);
  auto has = [&](auto pred) { return std::any_of(sites.begin(), sites.end(), pred); };
  EXPECT_TRUE(has([](const std::string& s) { return s.find(',') != std::string::npos; }));
  EXPECT_TRUE(has([](const std::string& s) { return s.find('"') != std::string::npos; }));
  EXPECT_TRUE(has([](const std::string& s) { return s.find('\n') != std::string::npos; }));
  EXPECT_TRUE(has([](const std::string& s) {
    return std::any_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) > 127; });
  }));

  auto indexes = db->Prepare(
      "SELECT group_concat(name, ',') FROM "
      "(SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'samples' ORDER BY "
      "name)");
  ASSERT_TRUE(indexes.ok());
  ASSERT_TRUE(*indexes->Step());
  EXPECT_EQ(indexes->ColumnText(0), "samples_collected_at,samples_study");
}

TEST(DemoDatasetTest, SpecResolvesAndReadsEveryField) {
  TempDir dir;
  const std::string path = dir.File("demo.sqlite");
  ASSERT_TRUE(CreateDemoDataset(path, 2000).ok());
  DatasetSpec spec = DemoDatasetSpec(path);
  EXPECT_EQ(spec.name, "samples");
  EXPECT_EQ(spec.key, "id");
  EXPECT_EQ(spec.time_field, "collected_at");
  EXPECT_EQ(spec.partition_field, "study");
  auto dataset = ResolveSqliteDataset(spec);
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
  EXPECT_EQ(dataset->fields().size(), 7 + DemoMeasurementNames().size());
  EXPECT_EQ(dataset->FindField("collected_at")->type, FieldType::kTimestamp);
  EXPECT_EQ(dataset->FindField("depth_m")->type, FieldType::kReal);
  auto shared = std::make_shared<const Dataset>(std::move(dataset).value());
  auto source = OpenSqliteSource(shared);
  ASSERT_TRUE(source.ok());

  SourceQuery q;
  for (const Field& f : shared->fields()) q.fields.push_back(f.name);
  auto reader = (*source)->Read(q);
  ASSERT_TRUE(reader.ok());
  int64_t rows = 0, numbers = 0;
  const size_t first_doc = 7;
  while ((*reader)->Next()) {
    ++rows;
    auto row = (*reader)->row();
    for (size_t i = first_doc; i < row.size(); ++i) {
      if (row[i].kind == CellKind::kNull) continue;
      EXPECT_EQ(row[i].kind, CellKind::kNumber);
      ++numbers;
    }
  }
  ASSERT_TRUE((*reader)->status().ok()) << (*reader)->status().ToString();
  EXPECT_EQ(rows, 2000);
  EXPECT_GT(numbers, 2000 * 5 * 9 / 10);

  q.fields = {"id", "SiO2"};
  q.filter = {{"SiO2", FilterOp::kGte, {70.0}}};
  q.partitions = {"island-arcs"};
  auto count = (*source)->Count(q);
  ASSERT_TRUE(count.ok());
  EXPECT_GT(*count, 0);
  reader = (*source)->Read(q);
  ASSERT_TRUE(reader.ok());
  int64_t matched = 0;
  while ((*reader)->Next()) {
    ++matched;
    EXPECT_GE(std::stod(std::string((*reader)->row()[1].text)), 70.0);
  }
  EXPECT_EQ(matched, *count);
}

}  // namespace
}  // namespace exportd
