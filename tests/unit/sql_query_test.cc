#include "storage/sqlite/sql_query.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/time_format.h"
#include "storage/sqlite/sqlite_dataset.h"
#include "storage/sqlite/sqlite_db.h"
#include "tests/fakes/temp_dir.h"

namespace exportd {
namespace {

using Ids = std::vector<int64_t>;

// Hostile identifiers: a quote, a semicolon, a comment, a space, a dot, a '?' and non-ASCII.
const std::string kText = "we\"ird; --name";
const std::string kInt = "sp ace.dot?";
const std::string kReal = "ünï";
// Document field names: a quote, dots and spaces, non-ASCII (written escaped in row 6).
const std::string kDocX = "x\"y";
const std::string kDocAbc = "a.b c";
const std::string kDocU = "ü";
const std::string kDocCafe = "café";

TimePoint Time(const char* text) {
  auto t = ParseRfc3339(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(TimePoint{});
}

using testing_support::TempDir;

struct Row {
  int64_t id;
  std::optional<std::string> text;
  std::optional<int64_t> integer;
  std::optional<double> real;
  std::optional<int64_t> flag;
  std::optional<std::string> ts;
  std::optional<std::string> part;
  std::optional<std::string> doc;
};

std::vector<Row> Rows() {
  using std::nullopt;
  return {
      {1, "' OR 1=1 --", 5, 1.5, 1, "2024-03-01T12:00:00Z", "north",
       R"({"x\"y": 1, "a.b c": "hello", "ü": true})"},
      {2, "100%", 10, 2.5, 0, "2024-03-01T12:00:00.500Z", "south",
       R"({"x\"y": 2, "a.b c": "help", "n": null})"},
      {3, "a_b", nullopt, -1.0, nullopt, "2024-03-01T12:00:01Z", "north", R"({"x\"y": 3.5})"},
      {4, "axb", 7, nullopt, 1, "2024-03-01T11:59:59.999Z", "east", nullopt},
      {5, "back\\slash", -3, 0.0, 0, "2024-02-29T00:00:00Z", "west", ""},
      {6, std::string("nu\0l", 4), 10, 3.25, 1, "2024-03-01T12:00:00.5Z", "south",
       R"({"caf\u00e9": "x", "a.b c": "HELLO"})"},
      {7, nullopt, 0, 1e10, 0, nullopt, nullopt, R"({"x\"y": "2"})"},
      {8, "%", 100, 2.0, 1, "2024-03-01T12:00:00.000Z", "north", R"({"a.b c": "he"})"},
      {9, "", 1, 0.5, 0, "2023-12-31T23:59:59Z", "east", R"({"x\"y": [1,2]})"},
      {10, "abc", 2, 2.5, 1, "2024-03-01T12:00:00.0001Z", "west", "{}"},
  };
}

class SqlQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("hostile.sqlite");
    auto db = Database::Open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(db->Exec("PRAGMA synchronous = OFF").ok());
    ASSERT_TRUE(db->Exec("CREATE TABLE " + QuoteIdentifier("tab le") +
                         " (id INTEGER PRIMARY KEY, " + QuoteIdentifier(kText) + " TEXT, " +
                         QuoteIdentifier(kInt) + " INTEGER, " + QuoteIdentifier(kReal) +
                         " REAL, flag BOOLEAN, ts TEXT, part TEXT, doc TEXT)")
                    .ok());
    auto insert = db->Prepare("INSERT INTO \"tab le\" VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    ASSERT_TRUE(insert.ok()) << insert.status().ToString();
    for (const Row& r : Rows()) {
      insert->Bind(1, r.id).Bind(2, r.text).Bind(3, r.integer).Bind(5, r.flag).Bind(6, r.ts);
      insert->Bind(7, r.part).Bind(8, r.doc);
      if (r.real) {
        insert->Bind(4, *r.real);
      } else {
        insert->BindNull(4);
      }
      ASSERT_TRUE(insert->Run().ok());
    }

    DatasetSpec spec;
    spec.name = "hostile";
    spec.source.path = path_;
    spec.source.table = "tab le";
    spec.key = "id";
    spec.time_field = "ts";
    spec.partition_field = "part";
    spec.document = DocumentSpec{"doc", {kDocX, kDocAbc, kDocU, kDocCafe, "n"}};
    auto dataset = ResolveSqliteDataset(spec);
    ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
    dataset_.emplace(std::move(dataset).value());
    db_.emplace(std::move(db).value());
  }

  // Runs the compiled SELECT and COUNT and returns the keys, checking that both agree, that
  // keys come in ascending order, and that each '?' has exactly one bind.
  Ids Run(SourceQuery q) {
    if (q.fields.empty()) q.fields = {"id"};
    auto select = CompileSelect(*dataset_, q, info_);
    if (!select.ok()) {
      ADD_FAILURE() << select.status().ToString();
      return {};
    }
    auto stmt = db_->Prepare(select->query.sql);
    if (!stmt.ok()) {
      ADD_FAILURE() << stmt.status().ToString() << "\n" << select->query.sql;
      return {};
    }
    EXPECT_EQ(static_cast<size_t>(sqlite3_bind_parameter_count(stmt->get())),
              select->query.binds.size());
    BindAll(*stmt, select->query.binds);
    Ids ids;
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok()) {
        ADD_FAILURE() << row.status().ToString();
        return {};
      }
      if (!*row) break;
      ids.push_back(stmt->ColumnInt(select->key_column));
    }
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));

    auto count = CompileCount(*dataset_, q, info_);
    EXPECT_TRUE(count.ok()) << count.status().ToString();
    if (count.ok()) {
      auto cstmt = db_->Prepare(count->sql);
      EXPECT_TRUE(cstmt.ok()) << cstmt.status().ToString();
      if (cstmt.ok()) {
        BindAll(*cstmt, count->binds);
        EXPECT_TRUE(cstmt->Step().ok());
        EXPECT_EQ(cstmt->ColumnInt(0), static_cast<int64_t>(ids.size()));
      }
    }
    return ids;
  }

  Ids Where(const std::string& field, FilterOp op, std::vector<FilterValue> values) {
    SourceQuery q;
    q.filter.push_back({field, op, std::move(values)});
    return Run(std::move(q));
  }

  TempDir dir_;
  std::string path_;
  std::optional<Database> db_;
  std::optional<Dataset> dataset_;
  SqlTableInfo info_;
};

TEST_F(SqlQueryTest, HostileValuesMatchLiterally) {
  EXPECT_EQ(Where(kText, FilterOp::kEq, {std::string("' OR 1=1 --")}), Ids({1}));
  EXPECT_EQ(Where(kText, FilterOp::kEq, {std::string("%")}), Ids({8}));
  EXPECT_EQ(Where(kText, FilterOp::kEq, {std::string("a_b")}), Ids({3}));
  EXPECT_EQ(Where(kText, FilterOp::kEq, {std::string("back\\slash")}), Ids({5}));
  EXPECT_EQ(Where(kText, FilterOp::kEq, {std::string("nu\0l", 4)}), Ids({6}));
  EXPECT_EQ(Where(kText, FilterOp::kEq, {std::string("nu")}), Ids({}));
  EXPECT_EQ(Where(kText, FilterOp::kEq, {std::string("")}), Ids({9}));
}

TEST_F(SqlQueryTest, ValuesNeverReachTheSqlText) {
  SourceQuery q;
  q.fields = {"id", kText, kDocX};
  q.filter = {{kText, FilterOp::kEq, {std::string("' OR 1=1 --")}},
              {kDocAbc, FilterOp::kPrefix, {std::string("he%_")}}};
  q.partitions = {"north'; DROP TABLE x; --"};
  q.after_key = int64_t{0};
  auto select = CompileSelect(*dataset_, q, info_);
  ASSERT_TRUE(select.ok()) << select.status().ToString();
  EXPECT_EQ(select->query.sql.find("1=1"), std::string::npos) << select->query.sql;
  EXPECT_EQ(select->query.sql.find("DROP"), std::string::npos);
  EXPECT_EQ(select->query.sql.find("he%"), std::string::npos);
  EXPECT_EQ(select->query.sql.find(kDocAbc), std::string::npos);  // the key name is bound too
  EXPECT_NE(select->query.sql.find(QuoteIdentifier(kText)), std::string::npos);
  EXPECT_EQ(Run(q), Ids({}));
}

TEST_F(SqlQueryTest, Prefix) {
  EXPECT_EQ(Where(kText, FilterOp::kPrefix, {std::string("%")}), Ids({8}));
  EXPECT_EQ(Where(kText, FilterOp::kPrefix, {std::string("a_")}), Ids({3}));
  EXPECT_EQ(Where(kText, FilterOp::kPrefix, {std::string("ab")}), Ids({10}));
  EXPECT_EQ(Where(kText, FilterOp::kPrefix, {std::string("A")}), Ids({}));
  EXPECT_EQ(Where(kText, FilterOp::kPrefix, {std::string("nu\0", 3)}), Ids({6}));
  EXPECT_EQ(Where(kText, FilterOp::kPrefix, {std::string("back\\")}), Ids({5}));
  EXPECT_EQ(Where(kText, FilterOp::kPrefix, {std::string("' OR")}), Ids({1}));
  EXPECT_EQ(Where(kText, FilterOp::kPrefix, {std::string("")}), Ids({1, 2, 3, 4, 5, 6, 8, 9, 10}));
  EXPECT_EQ(Where(kDocAbc, FilterOp::kPrefix, {std::string("hel")}), Ids({1, 2}));
}

TEST_F(SqlQueryTest, PrefixSuccessor) {
  EXPECT_EQ(PrefixSuccessor("abc"), "abd");
  EXPECT_EQ(PrefixSuccessor("a\xFF\xFF"), "b");
  EXPECT_EQ(PrefixSuccessor(""), std::nullopt);
  EXPECT_EQ(PrefixSuccessor("\xFF"), std::nullopt);
}

TEST_F(SqlQueryTest, EqualityAndNull) {
  // ne keeps rows whose value is NULL: they differ from the value.
  EXPECT_EQ(Where(kText, FilterOp::kNe, {std::string("abc")}), Ids({1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(Where(kText, FilterOp::kEq, {std::monostate{}}), Ids({7}));
  EXPECT_EQ(Where(kText, FilterOp::kNe, {std::monostate{}}), Ids({1, 2, 3, 4, 5, 6, 8, 9, 10}));
  EXPECT_EQ(Where(kInt, FilterOp::kNull, {true}), Ids({3}));
  EXPECT_EQ(Where(kInt, FilterOp::kNull, {false}), Ids({1, 2, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(Where("flag", FilterOp::kEq, {true}), Ids({1, 4, 6, 8, 10}));
  EXPECT_EQ(Where("flag", FilterOp::kEq, {false}), Ids({2, 5, 7, 9}));
  EXPECT_EQ(Where("flag", FilterOp::kNe, {true}), Ids({2, 3, 5, 7, 9}));
}

TEST_F(SqlQueryTest, Ordering) {
  EXPECT_EQ(Where(kInt, FilterOp::kGt, {int64_t{5}}), Ids({2, 4, 6, 8}));
  EXPECT_EQ(Where(kInt, FilterOp::kGte, {int64_t{10}}), Ids({2, 6, 8}));
  EXPECT_EQ(Where(kInt, FilterOp::kLt, {int64_t{1}}), Ids({5, 7}));
  EXPECT_EQ(Where(kInt, FilterOp::kLte, {int64_t{1}}), Ids({5, 7, 9}));
  EXPECT_EQ(Where(kInt, FilterOp::kGt, {4.5}), Ids({1, 2, 4, 6, 8}));
  EXPECT_EQ(Where(kReal, FilterOp::kGt, {2.0}), Ids({2, 6, 7, 10}));
  EXPECT_EQ(Where(kReal, FilterOp::kEq, {int64_t{2}}), Ids({8}));
  EXPECT_EQ(Where(kReal, FilterOp::kLte, {0.0}), Ids({3, 5}));
}

TEST_F(SqlQueryTest, In) {
  EXPECT_EQ(Where(kInt, FilterOp::kIn, {int64_t{10}, int64_t{0}}), Ids({2, 6, 7}));
  EXPECT_EQ(Where(kInt, FilterOp::kIn, {int64_t{5}, std::monostate{}}), Ids({1, 3}));
  EXPECT_EQ(Where(kText, FilterOp::kIn, {std::string("%"), std::string("a_b"), std::string("zz")}),
            Ids({3, 8}));
}

TEST_F(SqlQueryTest, SinceUntilCompareInstantsNotText) {
  SourceQuery q;
  // '...12:00:00.000Z' sorts before '...12:00:00Z' as text but is the same instant.
  q.since = Time("2024-03-01T12:00:00Z");
  EXPECT_EQ(Run(q), Ids({1, 2, 3, 6, 8, 10}));
  q.since.reset();
  q.until = Time("2024-03-01T12:00:00.5Z");
  EXPECT_EQ(Run(q), Ids({1, 4, 5, 8, 9, 10}));
  // Sub-millisecond instants (ParseRfc3339 keeps milliseconds; the compiler keeps nanoseconds).
  const TimePoint noon_plus_100us = Time("2024-03-01T12:00:00Z") + std::chrono::microseconds(100);
  q.since = noon_plus_100us;
  q.until = Time("2024-03-01T12:00:01Z");
  EXPECT_EQ(Run(q), Ids({2, 6, 10}));
  q.since = noon_plus_100us + std::chrono::nanoseconds(1);
  EXPECT_EQ(Run(q), Ids({2, 6}));
  q.since = Time("2024-03-01T13:00:00+01:00");  // = 12:00:00Z
  q.until = noon_plus_100us;
  EXPECT_EQ(Run(q), Ids({1, 8}));
  q.until = noon_plus_100us + std::chrono::nanoseconds(1);
  EXPECT_EQ(Run(q), Ids({1, 8, 10}));
}

TEST_F(SqlQueryTest, ConditionsOnTheTimeField) {
  EXPECT_EQ(Where("ts", FilterOp::kEq, {std::string("2024-03-01T12:00:00.5Z")}), Ids({2, 6}));
  EXPECT_EQ(Where("ts", FilterOp::kNe, {std::string("2024-03-01T12:00:00.5Z")}),
            Ids({1, 3, 4, 5, 7, 8, 9, 10}));
  EXPECT_EQ(Where("ts", FilterOp::kGt, {std::string("2024-03-01T12:00:00Z")}), Ids({2, 3, 6, 10}));
  EXPECT_EQ(Where("ts", FilterOp::kGte, {std::string("2024-03-01T12:00:00.001Z")}), Ids({2, 3, 6}));
  EXPECT_EQ(Where("ts", FilterOp::kLt, {std::string("2024-03-01T12:00:00.001Z")}),
            Ids({1, 4, 5, 8, 9, 10}));
  EXPECT_EQ(Where("ts", FilterOp::kLte, {std::string("2024-03-01T12:00:00Z")}),
            Ids({1, 4, 5, 8, 9}));
  EXPECT_EQ(Where("ts", FilterOp::kLt, {std::string("2024-03-01T12:00:00Z")}), Ids({4, 5, 9}));
  EXPECT_EQ(Where("ts", FilterOp::kIn,
                  {std::string("2024-03-01T12:00:00Z"), std::string("2024-02-29T00:00:00Z")}),
            Ids({1, 5, 8}));
  SourceQuery bad;
  bad.fields = {"id"};
  bad.filter = {{"ts", FilterOp::kGt, {std::string("yesterday")}}};
  EXPECT_EQ(CompileSelect(*dataset_, bad, info_).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqlQueryTest, PartitionsAndAfterKey) {
  SourceQuery q;
  q.partitions = {"north", "east"};
  EXPECT_EQ(Run(q), Ids({1, 3, 4, 8, 9}));
  q.after_key = int64_t{4};
  EXPECT_EQ(Run(q), Ids({8, 9}));
  q.partitions.clear();
  EXPECT_EQ(Run(q), Ids({5, 6, 7, 8, 9, 10}));
  q.partitions = {"nowhere"};
  EXPECT_EQ(Run(q), Ids({}));
}

TEST_F(SqlQueryTest, NullPartitionSelectsTheRowsWithoutAPartition) {
  SourceQuery q;
  q.null_partition = true;
  EXPECT_EQ(Run(q), Ids({7}));
  q.after_key = int64_t{7};
  EXPECT_EQ(Run(q), Ids({}));
  q.after_key.reset();
  q.partitions = {"north"};  // ANDed: no row is both
  EXPECT_EQ(Run(q), Ids({}));
}

// A reader that moves on rebinds the last parameter; the key query selects the key alone.
TEST_F(SqlQueryTest, WindowsWithTheSameBoundsAreOneRangeOverTheirPartitions) {
  const TimePoint since = *ParseRfc3339("2024-01-01T00:00:00Z");
  const TimePoint until = *ParseRfc3339("2024-02-01T00:00:00Z");
  SourceQuery q;
  q.windows = std::vector<PartitionWindow>{
      {"north", since, until}, {"east", since, until}, {"south", std::nullopt, until}};
  auto count = CompileCount(*dataset_, q, info_);
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  // Two terms: (north, east) share their bounds; south has no lower bound.
  size_t terms = 0;
  for (size_t at = count->sql.find(" IN ("); at != std::string::npos;
       at = count->sql.find(" IN (", at + 1)) {
    ++terms;
  }
  EXPECT_EQ(terms, 2u) << count->sql;
  // The keys go in as one bound JSON array, whatever their number.
  q.keys = std::vector<FilterValue>{int64_t{1}, std::string("it's \"x\"")};
  count = CompileCount(*dataset_, q, info_);
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->binds.back(), FilterValue(std::string(R"([1,"it's \"x\""])")));
}

TEST_F(SqlQueryTest, TheAfterKeyIsTheLastBindAndTheKeyQueryHasTheSameWhere) {
  SourceQuery q;
  q.fields = {"id"};
  q.partitions = {"north", "east"};
  q.filter = {Condition{"id", FilterOp::kNe, {int64_t{3}}}};
  q.after_key = int64_t{4};
  auto select = CompileSelect(*dataset_, q, info_);
  auto keys = CompileKeys(*dataset_, q, info_);
  ASSERT_TRUE(select.ok() && keys.ok());
  EXPECT_EQ(select->query.binds.back(), FilterValue{int64_t{4}});
  EXPECT_EQ(keys->binds, select->query.binds);
  EXPECT_EQ(keys->sql.substr(0, keys->sql.find(" FROM ")), "SELECT \"id\"");
  EXPECT_EQ(keys->sql.substr(keys->sql.find(" FROM ")),
            select->query.sql.substr(select->query.sql.find(" FROM ")));
}

TEST_F(SqlQueryTest, DocumentFields) {
  EXPECT_EQ(Where(kDocX, FilterOp::kEq, {int64_t{2}}), Ids({2}));  // not the string "2"
  EXPECT_EQ(Where(kDocX, FilterOp::kEq, {std::string("2")}), Ids({7}));
  EXPECT_EQ(Where(kDocX, FilterOp::kNe, {int64_t{1}}), Ids({2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(Where(kDocX, FilterOp::kIn, {int64_t{1}, 3.5}), Ids({1, 3}));
  EXPECT_EQ(Where(kDocX, FilterOp::kNull, {false}), Ids({1, 2, 3, 7, 9}));
  EXPECT_EQ(Where(kDocX, FilterOp::kNull, {true}), Ids({4, 5, 6, 8, 10}));
  EXPECT_EQ(Where(kDocU, FilterOp::kEq, {true}), Ids({1}));
  EXPECT_EQ(Where(kDocCafe, FilterOp::kEq, {std::string("x")}), Ids({6}));  // key written escaped
  EXPECT_EQ(Where("n", FilterOp::kNull, {true}), Ids({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  SourceQuery q;
  q.filter = {{kDocX, FilterOp::kGte, {int64_t{2}}}, {kDocX, FilterOp::kLt, {int64_t{4}}}};
  EXPECT_EQ(Run(q), Ids({2, 3}));
}

TEST_F(SqlQueryTest, UnknownFieldsAreInvalidArgument) {
  SourceQuery q;
  q.fields = {"id", "nope"};
  EXPECT_EQ(CompileSelect(*dataset_, q, info_).status().code(), StatusCode::kInvalidArgument);
  q.fields = {"id"};
  q.filter = {{"\"; DROP TABLE x; --", FilterOp::kEq, {int64_t{1}}}};
  EXPECT_EQ(CompileSelect(*dataset_, q, info_).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CompileCount(*dataset_, q, info_).status().code(), StatusCode::kInvalidArgument);
  q.filter.clear();
  q.fields.clear();
  EXPECT_EQ(CompileSelect(*dataset_, q, info_).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqlQueryTest, SelectLayout) {
  SourceQuery q;
  q.fields = {kDocX, kText, "id", kText, kDocAbc};
  auto select = CompileSelect(*dataset_, q, info_);
  ASSERT_TRUE(select.ok()) << select.status().ToString();
  EXPECT_EQ(select->field_columns, (std::vector<int>{-1, 0, 1, 0, -1}));
  EXPECT_EQ(select->key_column, 2);
  EXPECT_EQ(select->document_column, 3);
  q.fields = {"id"};
  select = CompileSelect(*dataset_, q, info_);
  ASSERT_TRUE(select.ok());
  EXPECT_EQ(select->document_column, -1);
}

// The same checks against a time field stored as INTEGER unix seconds.
TEST(SqlQueryUnixTimeTest, ComparesIntegerSecondsExactly) {
  TempDir dir;
  const std::string path = dir.File("unix.sqlite");
  auto db = Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, at INTEGER);"
                       "INSERT INTO t VALUES (1, 999), (2, 1000), (3, 1001), (4, 1002), (5, NULL)")
                  .ok());
  DatasetSpec spec;
  spec.name = "unix";
  spec.source.path = path;
  spec.source.table = "t";
  spec.key = "id";
  spec.time_field = "at";
  auto dataset = ResolveSqliteDataset(spec);
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
  SqlTableInfo info{TimeStorage::kUnixSeconds};
  auto run = [&](const SourceQuery& q) {
    auto select = CompileSelect(*dataset, q, info);
    EXPECT_TRUE(select.ok()) << select.status().ToString();
    auto stmt = db->Prepare(select->query.sql);
    EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
    BindAll(*stmt, select->query.binds);
    Ids ids;
    while (*stmt->Step()) ids.push_back(stmt->ColumnInt(0));
    return ids;
  };
  auto at = [](int64_t ms) { return FromUnixMillis(ms); };
  SourceQuery q;
  q.fields = {"id"};
  q.since = at(1'000'500);  // 1000.5 s
  q.until = at(1'002'000);
  EXPECT_EQ(run(q), Ids({3}));
  q.since = at(1'000'000);
  q.until = at(1'002'001);
  EXPECT_EQ(run(q), Ids({2, 3, 4}));
  q.since.reset();
  q.until.reset();
  q.filter = {{"at", FilterOp::kEq, {std::string("1970-01-01T00:16:40Z")}}};  // 1000
  EXPECT_EQ(run(q), Ids({2}));
  q.filter = {{"at", FilterOp::kEq, {std::string("1970-01-01T00:16:40.5Z")}}};
  EXPECT_EQ(run(q), Ids({}));
  q.filter = {{"at", FilterOp::kNe, {std::string("1970-01-01T00:16:40.5Z")}}};
  EXPECT_EQ(run(q), Ids({1, 2, 3, 4, 5}));
  q.filter = {{"at", FilterOp::kGt, {std::string("1970-01-01T00:16:40.5Z")}}};
  EXPECT_EQ(run(q), Ids({3, 4}));
  q.filter = {{"at", FilterOp::kLte, {std::string("1970-01-01T00:16:40.5Z")}}};
  EXPECT_EQ(run(q), Ids({1, 2}));
  q.filter = {{"at", FilterOp::kIn, {std::string("1970-01-01T00:16:41Z"), int64_t{999}}}};
  EXPECT_EQ(run(q), Ids({1, 3}));
}

}  // namespace
}  // namespace exportd
