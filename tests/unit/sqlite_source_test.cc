#include "storage/sqlite/sqlite_source.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/time_format.h"
#include "storage/sqlite/sqlite_dataset.h"
#include "storage/sqlite/sqlite_db.h"
#include "tests/fakes/temp_dir.h"

namespace exportd {
namespace {

struct Got {
  CellKind kind;
  std::string text;
  friend bool operator==(const Got&, const Got&) = default;
};

std::ostream& operator<<(std::ostream& os, const Got& g) {
  static const char* kNames[] = {"null", "number", "text", "bool", "json"};
  return os << kNames[static_cast<int>(g.kind)] << ":" << g.text;
}

Got N(std::string t) { return {CellKind::kNumber, std::move(t)}; }
Got T(std::string t) { return {CellKind::kText, std::move(t)}; }
Got B(std::string t) { return {CellKind::kBool, std::move(t)}; }
Got J(std::string t) { return {CellKind::kJson, std::move(t)}; }
Got Null() { return {CellKind::kNull, ""}; }

using testing_support::TempDir;

struct ReadResult {
  std::vector<std::vector<Got>> rows;
  std::vector<FilterValue> keys;
  Status status;
};

ReadResult ReadAll(Source& source, const SourceQuery& query) {
  ReadResult out;
  auto reader = source.Read(query);
  if (!reader.ok()) {
    out.status = reader.status();
    return out;
  }
  while ((*reader)->Next()) {
    std::vector<Got> row;
    for (const Cell& c : (*reader)->row()) row.push_back({c.kind, std::string(c.text)});
    out.rows.push_back(std::move(row));
    out.keys.push_back((*reader)->key());
  }
  out.status = (*reader)->status();
  return out;
}

// Table items: every SQLite storage class, a boolean, a time field, a partition, a document.
class SqliteSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("items.sqlite");
    auto db = Database::Open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec(R"(
      PRAGMA synchronous = OFF;
      CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL, ok BOOLEAN,
                          raw BLOB, at TEXT, region VARCHAR(10), extra, doc TEXT);
      INSERT INTO items VALUES
        (1, 'café, "q"', 42, 0.1, 1, x'00ff10', '2024-01-01T00:00:00Z', 'north', NULL,
         '{"a": 1e-05, "b": "x\ny", "c": {"k": [1]}, "zeta": 9}'),
        (2, NULL, -9223372036854775808, 1e20, 0, x'', '2024-01-02T00:00:00Z', 'south', 'anything',
         NULL),
        (3, '', 9007199254740993, 1e999, NULL, NULL, '2024-01-03T00:00:00.5Z', 'north', 3,
         '{"b": true, "a": -0}'),
        (4, 'z', 0, -1.5, 1, CAST('foo' AS BLOB), '2024-01-04T00:00:00Z', 'east', 1.5, '{}'),
        (5, 'five', 5, 100.0, 0, x'666f6f62', '2024-01-05T00:00:00Z', 'south', NULL,
         '{"a": 12345678901234567890, "b": "caf\u00e9 \ud83d\ude00"}');
    )")
                    .ok());
    spec_.name = "items";
    spec_.source.path = path_;
    spec_.source.table = "items";
    spec_.key = "id";
    spec_.time_field = "at";
    spec_.partition_field = "region";
    spec_.document = DocumentSpec{"doc", {"a", "b", "c"}};
    Open();
  }

  void Open() {
    auto dataset = ResolveSqliteDataset(spec_);
    ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
    dataset_ = std::make_shared<const Dataset>(std::move(dataset).value());
    auto source = OpenSqliteSource(dataset_);
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    source_ = std::move(source).value();
  }

  // Runs `sql` on the file through a connection of its own.
  void ExecOnFile(const std::string& sql) {
    auto db = Database::Open(path_, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec(sql).ok()) << sql;
  }

  std::vector<int64_t> Keys(const SourceQuery& q) {
    ReadResult r = ReadAll(*source_, q);
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    std::vector<int64_t> keys;
    for (const FilterValue& k : r.keys) keys.push_back(std::get<int64_t>(k));
    auto count = source_->Count(q);
    EXPECT_TRUE(count.ok()) << count.status().ToString();
    if (count.ok()) {
      EXPECT_EQ(*count, static_cast<int64_t>(keys.size()));
    }
    return keys;
  }

  TempDir dir_;
  std::string path_;
  DatasetSpec spec_;
  std::shared_ptr<const Dataset> dataset_;
  std::shared_ptr<Source> source_;
};

TEST_F(SqliteSourceTest, ResolvesFieldsAndTypes) {
  std::vector<std::pair<std::string, FieldType>> got;
  for (const Field& f : dataset_->fields()) got.emplace_back(f.name, f.type);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, FieldType>>{{"id", FieldType::kInteger},
                                                                 {"name", FieldType::kText},
                                                                 {"qty", FieldType::kInteger},
                                                                 {"price", FieldType::kReal},
                                                                 {"ok", FieldType::kBoolean},
                                                                 {"raw", FieldType::kAny},
                                                                 {"at", FieldType::kTimestamp},
                                                                 {"region", FieldType::kText},
                                                                 {"extra", FieldType::kAny},
                                                                 {"a", FieldType::kAny},
                                                                 {"b", FieldType::kAny},
                                                                 {"c", FieldType::kAny}}));
  EXPECT_FALSE(dataset_->FindField("name")->from_document);
  EXPECT_TRUE(dataset_->FindField("a")->from_document);
  EXPECT_EQ(dataset_->FindField("doc"), nullptr);

  spec_.columns = {"region", "id"};
  auto listed = ResolveSqliteDataset(spec_);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->fields().size(), 5u);
  EXPECT_EQ(listed->fields()[0].name, "region");
}

TEST_F(SqliteSourceTest, ResolveRejectsBadSpecs) {
  auto expect_error = [&](DatasetSpec spec, const std::string& needle) {
    auto r = ResolveSqliteDataset(spec);
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
    EXPECT_NE(r.status().message().find("items"), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().ToString();
  };
  DatasetSpec s = spec_;
  s.key = "nokey";
  expect_error(s, "'nokey'");
  s = spec_;
  s.time_field = "when";
  expect_error(s, "'when'");
  s = spec_;
  s.partition_field = "zone";
  expect_error(s, "'zone'");
  s = spec_;
  s.columns = {"id", "missing"};
  expect_error(s, "'missing'");
  s = spec_;
  s.columns = {"id", "name", "id"};
  expect_error(s, "'id'");
  s = spec_;
  s.document->column = "nodoc";
  expect_error(s, "'nodoc'");
  s = spec_;
  s.document->fields = {"a", "qty"};  // a document field named like a column
  expect_error(s, "'qty'");
  s = spec_;
  s.document->fields = {"a", "doc"};  // ... even the document column itself
  expect_error(s, "'doc'");
  s = spec_;
  s.document->fields = {"a", "b", "a"};
  expect_error(s, "'a'");
  s = spec_;
  s.source.table = "nope";
  expect_error(s, "nope");
  s = spec_;
  s.time_field = "price";  // REAL is neither RFC 3339 text nor unix seconds
  expect_error(s, "'price'");
}

TEST_F(SqliteSourceTest, ReadsEveryStorageClass) {
  SourceQuery q;
  for (const Field& f : dataset_->fields()) q.fields.push_back(f.name);
  ReadResult r = ReadAll(*source_, q);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.rows.size(), 5u);
  // id name qty price ok raw at region extra | a b c
  EXPECT_EQ(r.rows[0], (std::vector<Got>{N("1"), T("café, \"q\""), N("42"), N("0.1"), B("true"),
                                         T("AP8Q"), T("2024-01-01T00:00:00Z"), T("north"), Null(),
                                         N("1e-05"), T("x\ny"), J(R"({"k": [1]})")}));
  EXPECT_EQ(r.rows[1], (std::vector<Got>{N("2"), Null(), N("-9223372036854775808"), N("1e+20"),
                                         B("false"), T(""), T("2024-01-02T00:00:00Z"), T("south"),
                                         T("anything"), Null(), Null(), Null()}));
  EXPECT_EQ(r.rows[2], (std::vector<Got>{N("3"), T(""), N("9007199254740993"), T("Inf"), Null(),
                                         Null(), T("2024-01-03T00:00:00.5Z"), T("north"), N("3"),
                                         N("-0"), B("true"), Null()}));
  EXPECT_EQ(r.rows[3], (std::vector<Got>{N("4"), T("z"), N("0"), N("-1.5"), B("true"), T("Zm9v"),
                                         T("2024-01-04T00:00:00Z"), T("east"), N("1.5"), Null(),
                                         Null(), Null()}));
  EXPECT_EQ(r.rows[4], (std::vector<Got>{N("5"), T("five"), N("5"), N("100"), B("false"),
                                         T("Zm9vYg=="), T("2024-01-05T00:00:00Z"), T("south"),
                                         Null(), N("12345678901234567890"),
                                         T("caf\xC3\xA9 \xF0\x9F\x98\x80"), Null()}));
  EXPECT_EQ(r.keys,
            (std::vector<FilterValue>{int64_t{1}, int64_t{2}, int64_t{3}, int64_t{4}, int64_t{5}}));
}

// REAL values must read back as the same double: SQLite's own text form (15 significant digits)
// would turn 0.30000000000000004 into 0.3.
TEST_F(SqliteSourceTest, RealsAreExactShortestText) {
  const std::vector<double> values = {
      0.1 + 0.2, 1.0 / 3.0,    0.43333333333333335, 5e-324, 1.7976931348623157e308,
      -2.5e-10,  123456789.125};
  auto db = Database::Open(path_, SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db->Exec("DELETE FROM items").ok());
  auto insert = db->Prepare("INSERT INTO items (id, price) VALUES (?, ?)");
  ASSERT_TRUE(insert.ok());
  for (size_t i = 0; i < values.size(); ++i) {
    insert->Bind(1, int64_t(i + 1)).Bind(2, values[i]);
    ASSERT_TRUE(insert->Run().ok());
  }
  SourceQuery q;
  q.fields = {"price"};
  ReadResult r = ReadAll(*source_, q);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.rows.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(r.rows[i][0].kind, CellKind::kNumber);
    EXPECT_EQ(std::strtod(r.rows[i][0].text.c_str(), nullptr), values[i]) << r.rows[i][0].text;
  }
  EXPECT_EQ(r.rows[0][0].text, "0.30000000000000004");
}

TEST_F(SqliteSourceTest, ProjectionInAnyOrder) {
  SourceQuery q;
  q.fields = {"b", "region", "a", "id"};
  ReadResult r = ReadAll(*source_, q);
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.rows.size(), 5u);
  EXPECT_EQ(r.rows[0], (std::vector<Got>{T("x\ny"), T("north"), N("1e-05"), N("1")}));
  EXPECT_EQ(r.rows[2], (std::vector<Got>{B("true"), T("north"), N("-0"), N("3")}));
}

TEST_F(SqliteSourceTest, FiltersCountEqualsRowsRead) {
  SourceQuery q;
  q.fields = {"id", "a"};
  EXPECT_EQ(Keys(q), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  q.since = ParseRfc3339("2024-01-02T00:00:00Z");
  q.until = ParseRfc3339("2024-01-05T00:00:00Z");
  EXPECT_EQ(Keys(q), (std::vector<int64_t>{2, 3, 4}));
  q.partitions = {"north", "south"};
  EXPECT_EQ(Keys(q), (std::vector<int64_t>{2, 3}));
  q.after_key = int64_t{2};
  EXPECT_EQ(Keys(q), (std::vector<int64_t>{3}));
  q = SourceQuery{};
  q.fields = {"id"};
  q.filter = {{"b", FilterOp::kEq, {std::string("x\ny")}}};
  EXPECT_EQ(Keys(q), (std::vector<int64_t>{1}));
  q.filter = {{"a", FilterOp::kNull, {false}}};
  EXPECT_EQ(Keys(q), (std::vector<int64_t>{1, 3, 5}));
  q.filter = {{"ok", FilterOp::kEq, {true}}, {"qty", FilterOp::kGte, {int64_t{0}}}};
  EXPECT_EQ(Keys(q), (std::vector<int64_t>{1, 4}));
}

TEST_F(SqliteSourceTest, WindowsSelectEachPartitionsOwnTimeRange) {
  SourceQuery q;
  q.fields = {"id"};
  const TimePoint jan2 = *ParseRfc3339("2024-01-02T00:00:00Z");
  const TimePoint jan4 = *ParseRfc3339("2024-01-04T00:00:00Z");
  const TimePoint jan6 = *ParseRfc3339("2024-01-06T00:00:00Z");
  // north: rows 1 (Jan 1) and 3 (Jan 3 12:00); south: 2 (Jan 2) and 5 (Jan 5); east: 4.
  q.windows = std::vector<PartitionWindow>{{"north", jan2, jan4}, {"south", std::nullopt, jan4}};
  EXPECT_EQ(Keys(q), (std::vector<int64_t>{2, 3}));
  q.windows = std::vector<PartitionWindow>{
      {"north", std::nullopt, jan6}, {"south", jan4, jan6}, {"east", jan4, jan6}};
  EXPECT_EQ(Keys(q), (std::vector<int64_t>{1, 3, 4, 5}));
  // Other conditions still hold; an empty list matches nothing.
  q.filter = {{"qty", FilterOp::kGte, {int64_t{1}}}};
  EXPECT_EQ(Keys(q), (std::vector<int64_t>{1, 3, 5}));
  q.windows = std::vector<PartitionWindow>{};
  EXPECT_EQ(Keys(q), (std::vector<int64_t>{}));
}

TEST_F(SqliteSourceTest, KeysSelectExactlyThoseRowsAndMissingKeysNameTheOthers) {
  SourceQuery q;
  q.fields = {"id", "name"};
  q.keys = std::vector<FilterValue>{int64_t{5}, int64_t{2}, int64_t{99}, int64_t{-7}};
  EXPECT_EQ(Keys(q), (std::vector<int64_t>{2, 5}));
  auto missing = source_->MissingKeys(q);
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_EQ(*missing, (std::vector<FilterValue>{int64_t{-7}, int64_t{99}}));
  // A key whose row other conditions exclude is missing from the export too.
  q.partitions = {"north"};
  EXPECT_EQ(Keys(q), (std::vector<int64_t>{}));
  missing = source_->MissingKeys(q);
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_EQ(*missing, (std::vector<FilterValue>{int64_t{-7}, int64_t{2}, int64_t{5}, int64_t{99}}));
}

TEST_F(SqliteSourceTest, MoreKeysThanSqliteTakesParameters) {
  std::vector<FilterValue> keys;
  for (int64_t k = 100'000; k > 0; --k) keys.push_back(k);
  SourceQuery q;
  q.fields = {"id"};
  q.keys = keys;
  EXPECT_EQ(Keys(q), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  auto missing = source_->MissingKeys(q);
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_EQ(missing->size(), 100'000u - 5u);
}

TEST_F(SqliteSourceTest, PartitionsAndSummaryCountRowsAndDistinctValuesPerPartition) {
  auto partitions = source_->Partitions();
  ASSERT_TRUE(partitions.ok()) << partitions.status().ToString();
  EXPECT_EQ(*partitions, (std::vector<std::string>{"east", "north", "south"}));

  SourceQuery q;
  q.fields = {"id"};
  q.until = ParseRfc3339("2024-01-05T00:00:00Z");
  auto summary = source_->Summarize(q, {"ok", "a"});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows_by_partition,
            (std::map<std::string, int64_t>{{"east", 1}, {"north", 2}, {"south", 1}}));
  // ok: north has 1 and NULL (one distinct non-NULL value); a (a document field): north 1e-05, -0.
  EXPECT_EQ(summary->distinct.at("ok"),
            (std::map<std::string, int64_t>{{"east", 1}, {"north", 1}, {"south", 1}}));
  EXPECT_EQ(summary->distinct.at("a"),
            (std::map<std::string, int64_t>{{"east", 0}, {"north", 2}, {"south", 0}}));
}

TEST_F(SqliteSourceTest, ADatasetWithoutPartitionsSummarisesUnderOneName) {
  spec_.partition_field.reset();
  Open();
  EXPECT_EQ(source_->Partitions().status().code(), StatusCode::kFailedPrecondition);
  SourceQuery q;
  q.fields = {"id"};
  auto summary = source_->Summarize(q, {});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows_by_partition, (std::map<std::string, int64_t>{{"", 5}}));
  q.windows = std::vector<PartitionWindow>{};
  EXPECT_EQ(source_->Count(q).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteSourceTest, UnknownFieldIsInvalidArgument) {
  SourceQuery q;
  q.fields = {"id", "zeta"};  // in the documents, but not declared
  EXPECT_EQ(ReadAll(*source_, q).status.code(), StatusCode::kInvalidArgument);
  q.fields = {"id"};
  q.filter = {{"doc", FilterOp::kNull, {true}}};
  EXPECT_EQ(source_->Count(q).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteSourceTest, MalformedDocumentIsDataLossNamingTheKey) {
  {
    auto db = Database::Open(path_, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("UPDATE items SET doc = '{\"a\": 1,' WHERE id = 4").ok());
  }
  SourceQuery q;
  q.fields = {"id", "a"};
  ReadResult r = ReadAll(*source_, q);
  EXPECT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.status.code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status.message().find("row key 4"), std::string::npos) << r.status.ToString();
  // Without document fields the document is never parsed.
  q.fields = {"id"};
  EXPECT_EQ(ReadAll(*source_, q).rows.size(), 5u);
}

TEST_F(SqliteSourceTest, ExclusiveLockIsUnavailable) {
  spec_.source.busy_timeout_ms = 50;
  Open();
  sqlite3* locker = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &locker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(locker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  SourceQuery q;
  q.fields = {"id", "a"};
  auto count = source_->Count(q);
  EXPECT_EQ(count.status().code(), StatusCode::kUnavailable) << count.status().ToString();
  ReadResult r = ReadAll(*source_, q);
  EXPECT_TRUE(r.rows.empty());
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable) << r.status.ToString();
  EXPECT_TRUE(IsTransient(r.status.code()));
  ASSERT_EQ(sqlite3_exec(locker, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(locker);
  EXPECT_EQ(Keys(q).size(), 5u);
}

TEST_F(SqliteSourceTest, MissingTableIsFailedPrecondition) {
  {
    auto db = Database::Open(path_, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("DROP TABLE items").ok());
  }
  SourceQuery q;
  q.fields = {"id"};
  auto count = source_->Count(q);
  EXPECT_EQ(count.status().code(), StatusCode::kFailedPrecondition) << count.status().ToString();
  EXPECT_FALSE(IsTransient(count.status().code()));
  EXPECT_EQ(ReadAll(*source_, q).status.code(), StatusCode::kFailedPrecondition);
}

// Schema drift after start-up (issue 16, item 3): a column renamed, a column dropped, the
// document column renamed, a view redefined. The attempt must fail permanently naming the column;
// before, the double-quoted name of a vanished column read as a string literal.
TEST_F(SqliteSourceTest, ARenamedColumnFailsTheSchemaCheckAndIsNeverReadAsText) {
  ASSERT_TRUE(source_->CheckSchema().ok()) << source_->CheckSchema().ToString();
  ExecOnFile("ALTER TABLE items RENAME COLUMN name TO label");
  const Status check = source_->CheckSchema();
  EXPECT_EQ(check.code(), StatusCode::kFailedPrecondition) << check.ToString();
  EXPECT_FALSE(IsTransient(check.code()));
  EXPECT_NE(check.message().find("column 'name'"), std::string::npos) << check.ToString();
  EXPECT_NE(check.message().find("dataset 'items'"), std::string::npos) << check.ToString();
  // Reading without the check fails too, rather than yielding the text "name" in every row.
  SourceQuery q;
  q.fields = {"id", "name"};
  ReadResult r = ReadAll(*source_, q);
  EXPECT_TRUE(r.rows.empty());
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition) << r.status.ToString();
  EXPECT_NE(r.status.message().find("no such column"), std::string::npos) << r.status.ToString();
}

TEST_F(SqliteSourceTest, ADroppedColumnOrRenamedDocumentColumnFailsTheSchemaCheck) {
  ExecOnFile("ALTER TABLE items DROP COLUMN extra");
  Status check = source_->CheckSchema();
  EXPECT_EQ(check.code(), StatusCode::kFailedPrecondition) << check.ToString();
  EXPECT_NE(check.message().find("column 'extra'"), std::string::npos) << check.ToString();
  ExecOnFile("ALTER TABLE items ADD COLUMN extra");
  ASSERT_TRUE(source_->CheckSchema().ok()) << source_->CheckSchema().ToString();
  ExecOnFile("ALTER TABLE items RENAME COLUMN doc TO document");
  check = source_->CheckSchema();
  EXPECT_EQ(check.code(), StatusCode::kFailedPrecondition) << check.ToString();
  EXPECT_NE(check.message().find("document column 'doc'"), std::string::npos) << check.ToString();
}

TEST_F(SqliteSourceTest, AChangedViewFailsTheSchemaCheck) {
  ExecOnFile("CREATE VIEW items_view AS SELECT id, name, qty FROM items");
  spec_ = DatasetSpec{};
  spec_.name = "view";
  spec_.source.path = path_;
  spec_.source.table = "items_view";
  spec_.key = "id";
  Open();
  ASSERT_TRUE(source_->CheckSchema().ok()) << source_->CheckSchema().ToString();
  ExecOnFile(
      "DROP VIEW items_view; CREATE VIEW items_view AS SELECT id, name AS title, qty FROM items");
  const Status check = source_->CheckSchema();
  EXPECT_EQ(check.code(), StatusCode::kFailedPrecondition) << check.ToString();
  EXPECT_NE(check.message().find("column 'name'"), std::string::npos) << check.ToString();
  SourceQuery q;
  q.fields = {"id", "name"};
  EXPECT_EQ(ReadAll(*source_, q).status.code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteSourceTest, ConcurrentReaders) {
  SourceQuery q;
  q.fields = {"id", "name", "a", "b"};
  std::vector<size_t> rows(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < rows.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        ReadResult r = ReadAll(*source_, q);
        if (r.status.ok()) rows[t] += r.rows.size();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (size_t n : rows) EXPECT_EQ(n, 100u);
}

std::vector<Got> RowOf(const RecordReader& reader) {
  std::vector<Got> row;
  for (const Cell& c : reader.row()) row.push_back({c.kind, std::string(c.text)});
  return row;
}

TEST_F(SqliteSourceTest, SharedReadersSeeOneSnapshotAndHoldWritersOffUntilTheyEnd) {
  SourceQuery q;
  q.fields = {"id", "name", "a", "b"};
  const ReadResult alone = ReadAll(*source_, q);
  ASSERT_TRUE(alone.status.ok());
  auto readers = source_->ReadShared(q, 3);
  ASSERT_TRUE(readers.ok()) << readers.status().ToString();
  ASSERT_EQ(readers->size(), 3u);

  // A writer cannot commit while the readers hold their snapshot.
  auto writer = Database::Open(path_, SQLITE_OPEN_READWRITE, /*busy_timeout_ms=*/0);
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ(writer->Exec("INSERT INTO items (id, name) VALUES (6, 'six')").code(),
            StatusCode::kUnavailable);

  // Each reader yields the rows of a reader alone; the third skips two rows first.
  for (size_t r = 0; r < 3; ++r) {
    RecordReader& reader = *(*readers)[r];
    size_t first = 0;
    if (r == 2) {
      ASSERT_TRUE(reader.Skip());
      ASSERT_TRUE(reader.Skip());
      first = 2;
    }
    for (size_t i = first; i < alone.rows.size(); ++i) {
      ASSERT_TRUE(reader.Next()) << "reader " << r << " row " << i;
      EXPECT_EQ(RowOf(reader), alone.rows[i]);
      EXPECT_EQ(reader.key(), alone.keys[i]);
    }
    EXPECT_FALSE(reader.Next());
    EXPECT_TRUE(reader.status().ok()) << reader.status().ToString();
  }
  // A reader that reached its end has let go; the writer now commits.
  EXPECT_TRUE(writer->Exec("INSERT INTO items (id, name) VALUES (6, 'six')").ok());
}

// A shared reader skips by reading keys alone and comes back to full rows after the last key it
// passed, whatever the pattern, from the query's own starting key and under its filter.
TEST_F(SqliteSourceTest, SharedReadersSwitchBetweenSkippingAndReadingAtTheRightRow) {
  SourceQuery q;
  q.fields = {"id", "name", "a"};
  q.filter = {Condition{"id", FilterOp::kNe, {FilterValue{int64_t{3}}}}};
  q.after_key = FilterValue{int64_t{1}};  // as a resumed export: rows 2, 4, 5
  const ReadResult alone = ReadAll(*source_, q);
  ASSERT_TRUE(alone.status.ok()) << alone.status.ToString();
  ASSERT_EQ(alone.rows.size(), 3u);
  // N = Next, S = Skip; the keys Next must give.
  const std::vector<std::pair<std::string, std::vector<int64_t>>> patterns = {
      {"NNN", {2, 4, 5}}, {"SNN", {4, 5}}, {"NSN", {2, 5}}, {"SSN", {5}}, {"NNS", {2, 4}}};
  for (const auto& [pattern, expected] : patterns) {
    auto readers = source_->ReadShared(q, 2);
    ASSERT_TRUE(readers.ok()) << readers.status().ToString();
    ASSERT_EQ(readers->size(), 2u);
    RecordReader& reader = *readers->back();
    std::vector<int64_t> keys;
    for (char step : pattern) {
      if (step == 'S') {
        ASSERT_TRUE(reader.Skip()) << pattern;
        continue;
      }
      ASSERT_TRUE(reader.Next()) << pattern;
      const int64_t key = std::get<int64_t>(reader.key());
      keys.push_back(key);
      const size_t at = key == 2 ? 0 : key == 4 ? 1 : 2;
      EXPECT_EQ(RowOf(reader), alone.rows[at]) << pattern;
    }
    EXPECT_EQ(keys, expected) << pattern;
    EXPECT_FALSE(reader.Skip()) << pattern;
    EXPECT_FALSE(reader.Next()) << pattern;
    EXPECT_TRUE(reader.status().ok()) << reader.status().ToString();
  }
}

TEST_F(SqliteSourceTest, AWalFileGetsOneReaderSinceItsReadersCannotShareASnapshot) {
  ExecOnFile("PRAGMA journal_mode = WAL");
  SourceQuery q;
  q.fields = {"id", "a"};
  auto readers = source_->ReadShared(q, 3);
  ASSERT_TRUE(readers.ok()) << readers.status().ToString();
  ASSERT_EQ(readers->size(), 1u);
  int rows = 0;
  while (readers->front()->Next()) ++rows;
  EXPECT_TRUE(readers->front()->status().ok());
  EXPECT_EQ(rows, 5);
}

TEST_F(SqliteSourceTest, AQueryServedByASecondaryIndexGetsOneReaderSinceItSortsItsRows) {
  SourceQuery q;
  q.fields = {"id", "region"};
  q.windows =
      std::vector<PartitionWindow>{{"north", std::nullopt, *ParseRfc3339("2030-01-01T00:00:00Z")},
                                   {"south", std::nullopt, *ParseRfc3339("2030-01-01T00:00:00Z")}};
  auto readers = source_->ReadShared(q, 3);
  ASSERT_TRUE(readers.ok()) << readers.status().ToString();
  EXPECT_EQ(readers->size(), 3u) << "read in key order: shared readers";
  readers->clear();
  ExecOnFile("CREATE INDEX items_region_at ON items (region, at)");
  readers = source_->ReadShared(q, 3);
  ASSERT_TRUE(readers.ok()) << readers.status().ToString();
  ASSERT_EQ(readers->size(), 1u) << "served by the index, sorted: one reader";
  std::vector<int64_t> keys;
  while (readers->front()->Next()) keys.push_back(std::get<int64_t>(readers->front()->key()));
  EXPECT_TRUE(readers->front()->status().ok());
  EXPECT_EQ(keys, (std::vector<int64_t>{1, 2, 3, 5}));
  // With the index, the partitions are found one seek per value: the same list.
  auto partitions = source_->Partitions();
  ASSERT_TRUE(partitions.ok()) << partitions.status().ToString();
  EXPECT_EQ(*partitions, (std::vector<std::string>{"east", "north", "south"}));
}

TEST_F(SqliteSourceTest, ATableWithANullKeyGetsOneReaderThatReadsEveryRow) {
  ExecOnFile(
      "CREATE TABLE loose (id INTEGER, name TEXT);"
      "INSERT INTO loose VALUES (NULL, 'a'), (2, 'b'), (NULL, 'c'), (1, 'd');");
  spec_.source.table = "loose";
  spec_.time_field.reset();
  spec_.partition_field.reset();
  spec_.document.reset();
  Open();
  SourceQuery q;
  q.fields = {"id", "name"};
  auto readers = source_->ReadShared(q, 2);
  ASSERT_TRUE(readers.ok()) << readers.status().ToString();
  ASSERT_EQ(readers->size(), 1u);
  int rows = 0;
  while (readers->front()->Next()) ++rows;
  EXPECT_TRUE(readers->front()->status().ok()) << readers->front()->status().ToString();
  EXPECT_EQ(rows, 4);
}

TEST_F(SqliteSourceTest, SkippingARowDoesNotParseItsDocument) {
  ExecOnFile("UPDATE items SET doc = '{\"a\": [' WHERE id = 4");
  SourceQuery q;
  q.fields = {"id", "a"};
  auto readers = source_->ReadShared(q, 2);
  ASSERT_TRUE(readers.ok()) << readers.status().ToString();
  RecordReader& reader = *readers->back();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(reader.Skip());
  ASSERT_TRUE(reader.Next());
  EXPECT_EQ(std::get<int64_t>(reader.key()), 5);
  EXPECT_FALSE(reader.Next());
  EXPECT_TRUE(reader.status().ok()) << reader.status().ToString();
  // The other reader decodes row 4 and says so.
  RecordReader& decoding = *readers->front();
  while (decoding.Next()) {
  }
  EXPECT_EQ(decoding.status().code(), StatusCode::kDataLoss);
}

// Documents that set few of their fields tell the writers which cells may be set
// (RecordReader::non_null_cells): the plain columns and the fields the document named, ascending,
// with every other cell NULL. Documents that set more than an eighth of them do not.
TEST(SqliteSourceSparseTest, SparseDocumentsListTheCellsTheySet) {
  TempDir dir;
  const std::string path = dir.File("sparse.sqlite");
  std::vector<std::string> fields;
  for (int i = 0; i < 24; ++i) fields.push_back("f" + std::to_string(i));
  {
    auto db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec(R"(CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, doc TEXT);
      INSERT INTO t VALUES
        (1, 'one', '{"f20": 1, "f3": "x"}'),
        (2, NULL, NULL),
        (3, 'three', '{"f7": null, "zzz": 1}'),
        (4, 'four', '{"f0":0,"f1":1,"f2":2,"f3":3,"f4":4,"f5":5,"f6":6,"f7":7}'),
        (5, 'five', '{"f20": 2, "f3": "y"}'),
        (6, 'six', '{"f20": 3, "f3": "z"}'),
        (7, 'seven', '{"f20": 4, "f3": "w"}'),
        (8, 'eight', '{"f20": 5, "f23": "v"}');)")
                    .ok());
  }
  DatasetSpec spec;
  spec.name = "sparse";
  spec.source.path = path;
  spec.source.table = "t";
  spec.key = "id";
  spec.document = DocumentSpec{"doc", fields};
  auto dataset = ResolveSqliteDataset(spec);
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
  auto source = SqliteSource::Open(std::make_shared<const Dataset>(std::move(dataset).value()));
  ASSERT_TRUE(source.ok());
  SourceQuery q;
  q.fields = {"f23", "id"};  // fields and columns interleaved, out of the table's order
  for (const std::string& f : fields) {
    if (f != "f23") q.fields.push_back(f);
  }
  q.fields.push_back("name");
  auto reader = (*source)->Read(q);
  ASSERT_TRUE(reader.ok());
  // Per row: the cells expected in the list (slots into q.fields), or none when dense.
  const std::vector<std::optional<std::vector<uint32_t>>> expected = {
      std::vector<uint32_t>{1, 5, 22, 25},  // id, f3, f20, name
      std::vector<uint32_t>{1, 25},         // a NULL document
      std::vector<uint32_t>{1, 9, 25},      // f7 named as null; zzz is not a field
      std::nullopt,                         // 8 of 24 fields: more than an eighth
      std::vector<uint32_t>{1, 5, 22, 25},
      std::vector<uint32_t>{1, 5, 22, 25},
      std::vector<uint32_t>{1, 5, 22, 25},  // the flattener follows the layout by now
      std::vector<uint32_t>{0, 1, 22, 25},  // and leaves it
  };
  for (size_t r = 0; r < expected.size(); ++r) {
    ASSERT_TRUE((*reader)->Next()) << (*reader)->status().ToString();
    const std::optional<std::span<const uint32_t>> cells = (*reader)->non_null_cells();
    ASSERT_EQ(cells.has_value(), expected[r].has_value()) << "row " << r;
    if (!cells) continue;
    EXPECT_EQ(std::vector<uint32_t>(cells->begin(), cells->end()), *expected[r]) << "row " << r;
    const std::span<const Cell> row = (*reader)->row();
    for (size_t i = 0; i < row.size(); ++i) {
      if (std::find(cells->begin(), cells->end(), i) == cells->end()) {
        EXPECT_EQ(row[i].kind, CellKind::kNull) << "row " << r << ", cell " << i;
      }
    }
  }
  EXPECT_FALSE((*reader)->Next());
  EXPECT_TRUE((*reader)->status().ok());
}

TEST(SqliteSourceKeysTest, TextKeysAndUnixSecondsTime) {
  TempDir dir;
  const std::string path = dir.File("text_keys.sqlite");
  {
    auto db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("CREATE TABLE t (code TEXT PRIMARY KEY, at INTEGER);"
                         "INSERT INTO t VALUES ('b', 1700000000), ('a', 0), ('c', NULL)")
                    .ok());
  }
  DatasetSpec spec;
  spec.name = "codes";
  spec.source.path = path;
  spec.source.table = "t";
  spec.key = "code";
  spec.time_field = "at";
  auto dataset = ResolveSqliteDataset(spec);
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
  auto source = SqliteSource::Open(std::make_shared<const Dataset>(std::move(dataset).value()));
  ASSERT_TRUE(source.ok());
  EXPECT_EQ((*source)->table_info().time_storage, TimeStorage::kUnixSeconds);
  SourceQuery q;
  q.fields = {"code", "at"};
  ReadResult r = ReadAll(**source, q);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.keys,
            (std::vector<FilterValue>{std::string("a"), std::string("b"), std::string("c")}));
  EXPECT_EQ(r.rows[0], (std::vector<Got>{T("a"), T("1970-01-01T00:00:00Z")}));
  EXPECT_EQ(r.rows[1], (std::vector<Got>{T("b"), T("2023-11-14T22:13:20Z")}));
  EXPECT_EQ(r.rows[2], (std::vector<Got>{T("c"), Null()}));
  q.after_key = std::string("a");
  q.since = FromUnixMillis(1);
  r = ReadAll(**source, q);
  ASSERT_EQ(r.keys.size(), 1u);
  EXPECT_EQ(r.keys[0], FilterValue(std::string("b")));
}

}  // namespace
}  // namespace exportd
