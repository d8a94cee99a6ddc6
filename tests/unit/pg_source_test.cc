// PgSource against the fixture's PostgreSQL server, and differentially against SqliteSource: the
// same rows loaded into both must read as the same cells, keys and counts under every query.
#include "storage/postgres_source/pg_source.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/time_format.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres_source/pg_copy_stream.h"
#include "storage/postgres_source/pg_values.h"
#include "storage/sqlite/sqlite_dataset.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_source.h"
#include "tests/fakes/temp_dir.h"
#include "tests/postgres/postgres_test_db.h"

namespace exportd {
namespace {

using testing_support::TempDir;

// ---- Value conversions -----------------------------------------------------------------------

std::string NumericText(std::string_view pg) {
  std::string scratch;
  const Cell cell = NumericCell(pg, scratch);
  return std::string(cell.kind == CellKind::kNull ? "NULL" : cell.text);
}

TEST(PgValuesTest, NumericReadsAsSqliteNumericAffinityWritesIt) {
  EXPECT_EQ(NumericText("3.00"), "3");
  EXPECT_EQ(NumericText("-42"), "-42");
  EXPECT_EQ(NumericText("123.4500"), "123.45");
  EXPECT_EQ(NumericText("0.00001"), "1e-05");
  EXPECT_EQ(NumericText("0.1"), "0.1");
  EXPECT_EQ(NumericText("100000000000000000000"), "1e+20");
  EXPECT_EQ(NumericText("9223372036854775807"), "9223372036854775807");
  // More digits than a double holds: exact (SQLite could not hold the value at all).
  EXPECT_EQ(NumericText("-12345678901234567890.1234567890"), "-12345678901234567890.123456789");
  EXPECT_EQ(NumericText("0.12345678901234567"), "0.12345678901234567");
  EXPECT_EQ(NumericText("NaN"), "NULL");
  std::string scratch;
  EXPECT_EQ(NumericCell("-Infinity", scratch).text, "-Inf");
  EXPECT_EQ(NumericCell("-Infinity", scratch).kind, CellKind::kText);
}

TEST(PgValuesTest, FloatIsTheShortestTextOfTheDouble) {
  std::string scratch;
  EXPECT_EQ(FloatCell("1e+20", scratch).text, "1e+20");
  EXPECT_EQ(FloatCell("100", scratch).text, "100");
  EXPECT_EQ(FloatCell("1.1", scratch).text, "1.1");
  EXPECT_EQ(FloatCell("-2.5e-300", scratch).text, "-2.5e-300");
  EXPECT_EQ(FloatCell("Infinity", scratch).text, "Inf");
  EXPECT_EQ(FloatCell("-Infinity", scratch).kind, CellKind::kText);
  EXPECT_EQ(FloatCell("NaN", scratch).kind, CellKind::kNull);
}

TEST(PgValuesTest, TimestampsBecomeRfc3339Utc) {
  auto convert = [](std::string_view pg) {
    std::string out;
    AppendRfc3339FromPg(pg, out);
    return out;
  };
  EXPECT_EQ(convert("2024-01-02 03:04:05+00"), "2024-01-02T03:04:05Z");
  EXPECT_EQ(convert("2024-01-02 03:04:05.25+00"), "2024-01-02T03:04:05.25Z");
  EXPECT_EQ(convert("2024-01-02 03:04:05.000001"), "2024-01-02T03:04:05.000001Z");
  EXPECT_EQ(convert("infinity"), "infinity");
  EXPECT_EQ(convert("0044-03-15 00:00:00+00 BC"), "0044-03-15 00:00:00+00 BC");
  EXPECT_EQ(PgInstantText(*ParseRfc3339("2024-01-02T03:04:05.5Z")),
            "2024-01-02T03:04:05.500000000Z");
}

TEST(PgValuesTest, ByteaHexBecomesBase64) {
  std::string out;
  EXPECT_TRUE(AppendBase64FromByteaHex("\\x00ff10", out));
  EXPECT_EQ(out, "AP8Q");
  out.clear();
  EXPECT_TRUE(AppendBase64FromByteaHex("\\x", out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(AppendBase64FromByteaHex("\\x0g", out));
}

TEST(PgValuesTest, CopyTextRowsSplitIntoFieldsAndUnescape) {
  std::vector<std::optional<std::string_view>> fields(4);
  std::vector<std::string> scratch(4);
  ASSERT_TRUE(SplitCopyTextRow("12\t\\N\tplain\t\n", fields, scratch));
  EXPECT_EQ(fields[0], "12");
  EXPECT_EQ(fields[1], std::nullopt);
  EXPECT_EQ(fields[2], "plain");
  EXPECT_EQ(fields[3], "");  // the empty text, not NULL

  ASSERT_TRUE(
      SplitCopyTextRow("a\\tb\\\\c\tx\\ny\\rz\t\\\\N\t\\101\\x41\\0\\q\\b\\f\\v", fields, scratch));
  EXPECT_EQ(fields[0], "a\tb\\c");
  EXPECT_EQ(fields[1], "x\ny\rz");
  EXPECT_EQ(fields[2], "\\N");  // an escaped backslash before N: the text, not NULL
  EXPECT_EQ(fields[3], std::string_view("AA\0q\b\f\v", 7));

  EXPECT_FALSE(SplitCopyTextRow("1\t2\t3\n", fields, scratch));
  EXPECT_FALSE(SplitCopyTextRow("1\t2\t3\t4\t5\n", fields, scratch));
}

TEST(PgQueryTest, IdentifiersAreQuotedAndValuesAreParameters) {
  EXPECT_EQ(QuotePgIdentifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuotePgRelation("s.t"), "\"s\".\"t\"");
  DatasetSpec spec;
  spec.name = "d";
  spec.key = "id";
  Dataset dataset(spec, {{"id", FieldType::kInteger}, {"name", FieldType::kText}});
  PgTableInfo table{"\"t\"", {{"id", 20, "bigint", false, true}, {"name", 25, "text", false}}};
  SourceQuery q;
  q.fields = {"name"};
  q.filter = {{"name", FilterOp::kEq, {std::string("x'); DROP TABLE t; --")}},
              {"name", FilterOp::kGt, {std::string("a")}}};
  q.after_key = int64_t{7};
  auto sql = PgCompileSelect(dataset, q, table);
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  EXPECT_EQ(sql->query.sql,
            "SELECT \"name\", \"id\" FROM \"t\" WHERE \"name\" = $1::text AND \"name\" COLLATE "
            "\"C\" > $2::text AND \"id\" > $3::bigint ORDER BY \"id\"");
  EXPECT_EQ(sql->query.params, (std::vector<std::string>{"x'); DROP TABLE t; --", "a", "7"}));
  // For COPY: the same parameters, read from the transaction's settings.
  auto copy = PgCompileSelect(dataset, q, table, PgParamStyle::kSetting);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(
      copy->query.sql,
      "SELECT \"name\", \"id\" FROM \"t\" WHERE \"name\" = "
      "current_setting('exportd.p1')::text AND \"name\" COLLATE \"C\" > "
      "current_setting('exportd.p2')::text AND \"id\" > current_setting('exportd.p3')::bigint "
      "ORDER BY \"id\"");
  EXPECT_EQ(copy->query.params, sql->query.params);
  q.filter = {{"nope", FilterOp::kEq, {int64_t{1}}}};
  EXPECT_EQ(PgCompileSelect(dataset, q, table).status().code(), StatusCode::kInvalidArgument);
}

// ---- Against the server ------------------------------------------------------------------------

struct Got {
  CellKind kind;
  std::string text;
  friend bool operator==(const Got&, const Got&) = default;
};

std::ostream& operator<<(std::ostream& os, const Got& g) {
  static const char* kNames[] = {"null", "number", "text", "bool", "json"};
  return os << kNames[static_cast<int>(g.kind)] << ":" << g.text;
}

struct ReadResult {
  std::vector<std::vector<Got>> rows;
  std::vector<FilterValue> keys;
  Status status;
};

ReadResult Drain(RecordReader& reader) {
  ReadResult out;
  while (reader.Next()) {
    std::vector<Got> row;
    for (const Cell& c : reader.row()) row.push_back({c.kind, std::string(c.text)});
    out.rows.push_back(std::move(row));
    out.keys.push_back(reader.key());
  }
  out.status = reader.status();
  return out;
}

ReadResult ReadAll(Source& source, const SourceQuery& query) {
  auto reader = source.Read(query);
  if (!reader.ok()) return ReadResult{{}, {}, reader.status()};
  return Drain(**reader);
}

// One row of the differential table, written into SQLite and PostgreSQL alike.
struct Item {
  int64_t id;
  std::optional<std::string> name;
  std::optional<int64_t> qty;
  std::optional<double> price;
  std::optional<std::string> amount;  // decimal text
  std::optional<bool> ok;
  std::optional<std::string> raw;  // bytes
  std::optional<std::string> at;   // RFC 3339 UTC, in the form exportd writes
  std::optional<std::string> day;
  std::optional<std::string> region;
  std::optional<std::string> doc;
};

const std::vector<Item>& Items() {
  static const std::vector<Item> items = {
      {1, "café, \"q\"", 42, 0.1, "123.4500", true, std::string("\x00\xff\x10", 3),
       "2024-01-01T00:00:00Z", "2024-01-01", "north",
       R"({"a": 1e-05, "b": "x\ny", "c": {"k": [1]}, "zeta": 9})"},
      {2, std::nullopt, std::numeric_limits<int64_t>::min(), 1e20, "3.00", false, "",
       "2024-01-02T00:00:00.5Z", "2024-02-29", "south", R"({"a": 2, "b": null})"},
      // COPY's text format escapes these: a tab, a backslash, a newline, a carriage return, and
      // a literal backslash-N that is not NULL.
      {3, "tab\there \\ new\nline\r\\N", 0, -2.5e-300, "0.00001", std::nullopt, std::nullopt,
       "2024-01-03T12:30:00.123456Z", std::nullopt, std::nullopt, std::nullopt},
      {4, "\xc3\xbf prefix", 7, std::numeric_limits<double>::infinity(), "-0.5", true, "abc",
       "2024-01-04T00:00:00Z", "1999-12-31", "north", R"({"a": 0.5, "b": "text", "c": [1,2]})"},
      {5, "", 9007199254740993, std::nullopt, "100000000000000000000", std::nullopt, "\x01",
       "2024-01-05T00:00:00Z", "2024-01-05", "east", "{}"},
      {6, "b", 5, 3.0, "0.1", false, std::nullopt, std::nullopt, std::nullopt, "west",
       R"({"b": "bee", "a": 10})"},
  };
  return items;
}

std::string DoubleText(double d) {
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, end);
}

std::string HexBytes(const std::string& bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "\\x";
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

class PgSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = FreshSchemaUrl(&schema_);
    ASSERT_FALSE(url_.empty());
    auto conn = PgConnection::Open(url_);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    pg_ = std::move(conn).value();
    ASSERT_TRUE(pg_->ExecScript(R"(
      CREATE TABLE items (id bigint PRIMARY KEY, name text, qty bigint, price float8,
                          amount numeric, ok boolean, raw bytea, at timestamptz, day date,
                          region text, doc json))")
                    .ok());
    sqlite_path_ = dir_.File("items.sqlite");
    auto db = Database::Open(sqlite_path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, "
                         "price REAL, amount NUMERIC, ok BOOLEAN, raw BLOB, at TEXT, day DATE, "
                         "region TEXT, doc TEXT)")
                    .ok());
    for (const Item& item : Items()) {
      PgParams p;
      p.Int(item.id).OptText(item.name).OptInt(item.qty);
      p.OptText(item.price ? std::optional(DoubleText(*item.price)) : std::nullopt);
      p.OptText(item.amount);
      p.OptText(item.ok ? std::optional<std::string>(*item.ok ? "true" : "false") : std::nullopt);
      p.OptText(item.raw ? std::optional(HexBytes(*item.raw)) : std::nullopt);
      p.OptText(item.at).OptText(item.day).OptText(item.region).OptText(item.doc);
      auto inserted =
          pg_->Exec("INSERT INTO items VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", p);
      ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();

      auto stmt = db->Prepare("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      ASSERT_TRUE(stmt.ok());
      sqlite3_stmt* s = stmt->get();
      sqlite3_bind_int64(s, 1, item.id);
      auto text = [&](int i, const std::optional<std::string>& v) {
        if (v) sqlite3_bind_text(s, i, v->data(), static_cast<int>(v->size()), SQLITE_TRANSIENT);
      };
      text(2, item.name);
      if (item.qty) sqlite3_bind_int64(s, 3, *item.qty);
      if (item.price) sqlite3_bind_double(s, 4, *item.price);
      text(5, item.amount);
      if (item.ok) sqlite3_bind_int(s, 6, *item.ok ? 1 : 0);
      if (item.raw) {
        sqlite3_bind_blob(s, 7, item.raw->data(), static_cast<int>(item.raw->size()),
                          SQLITE_TRANSIENT);
      }
      text(8, item.at);
      text(9, item.day);
      text(10, item.region);
      text(11, item.doc);
      ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
    }
    spec_.name = "items";
    spec_.key = "id";
    spec_.time_field = "at";
    spec_.partition_field = "region";
    spec_.document = DocumentSpec{"doc", {"a", "b", "c"}};
    DatasetSpec lite = spec_;
    lite.source.path = sqlite_path_;
    lite.source.table = "items";
    auto lite_dataset = ResolveSqliteDataset(lite);
    ASSERT_TRUE(lite_dataset.ok()) << lite_dataset.status().ToString();
    auto lite_source = OpenSqliteSource(std::make_shared<const Dataset>(*lite_dataset));
    ASSERT_TRUE(lite_source.ok());
    sqlite_ = std::move(lite_source).value();
    OpenPg();
  }

  void OpenPg() {
    DatasetSpec spec = spec_;
    spec.source.type = "postgres";
    spec.source.url = url_;
    spec.source.table = schema_ + ".items";
    auto dataset = ResolvePgDataset(spec);
    ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
    dataset_ = std::make_shared<const Dataset>(std::move(dataset).value());
    auto source = PgSource::Open(dataset_);
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    source_ = std::move(source).value();
  }

  SourceQuery AllFields() const {
    SourceQuery q;
    for (const Field& f : dataset_->fields()) q.fields.push_back(f.name);
    return q;
  }

  // The query read through both sources: the same cells, keys and count.
  void ExpectSameAsSqlite(const SourceQuery& q, const std::string& what) {
    SCOPED_TRACE(what);
    ReadResult pg = ReadAll(*source_, q);
    ReadResult lite = ReadAll(*sqlite_, q);
    ASSERT_TRUE(pg.status.ok()) << pg.status.ToString();
    ASSERT_TRUE(lite.status.ok()) << lite.status.ToString();
    EXPECT_EQ(pg.rows, lite.rows);
    EXPECT_EQ(pg.keys, lite.keys);
    auto pg_count = source_->Count(q);
    ASSERT_TRUE(pg_count.ok()) << pg_count.status().ToString();
    EXPECT_EQ(*pg_count, static_cast<int64_t>(lite.rows.size()));
  }

  TempDir dir_;
  std::string url_;
  std::string schema_;
  std::string sqlite_path_;
  std::unique_ptr<PgConnection> pg_;
  DatasetSpec spec_;
  std::shared_ptr<const Dataset> dataset_;
  std::shared_ptr<PgSource> source_;
  std::shared_ptr<Source> sqlite_;
};

TEST_F(PgSourceTest, ResolvesFieldTypesLikeTheSqliteSource) {
  std::vector<std::string> names;
  for (const Field& f : dataset_->fields()) {
    names.push_back(f.name + ":" + std::string(FieldTypeName(f.type)));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"id:integer", "name:text", "qty:integer", "price:real",
                                             "amount:real", "ok:boolean", "raw:any", "at:timestamp",
                                             "day:any", "region:text", "a:any", "b:any", "c:any"}));
}

// FloatCell keeps most of the server's float8 text as it is: checked against std::to_chars for
// doubles of every shape, as this server writes them.
TEST_F(PgSourceTest, FloatTextIsTheShortestTextOfTheDoubleForEveryShape) {
  std::mt19937_64 random(7);
  std::vector<double> values = {0.0,
                                -0.0,
                                1.0,
                                0.5,
                                0.1,
                                0.0001,
                                0.00012,
                                0.001,
                                1e-05,
                                1e15,
                                1e16,
                                123456789012345.6,
                                1e14 + 0.5,
                                100.0,
                                1e6,
                                1234567.0,
                                -3.25,
                                5e-324,
                                std::numeric_limits<double>::max()};
  for (int i = 0; i < 4000; ++i) {
    uint64_t bits = random();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (std::isfinite(d)) values.push_back(d);
    values.push_back(std::uniform_real_distribution<double>(-1000, 1000)(random));
    const int64_t k = static_cast<int64_t>(random() % 2000000) - 1000000;
    values.push_back(static_cast<double>(k) / std::pow(10.0, static_cast<int>(random() % 12)));
    values.push_back(static_cast<double>(k) * std::pow(10.0, static_cast<int>(random() % 20)));
  }
  std::string array = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) array += ",";
    char buf[32];
    array.append(buf, std::to_chars(buf, buf + sizeof buf, values[i]).ptr);
  }
  array += "}";
  ASSERT_TRUE(pg_->ExecScript("SET extra_float_digits = 1").ok());
  auto rows = pg_->Exec(
      "SELECT v::text FROM unnest($1::float8[]) WITH ORDINALITY AS t(v, n) "
      "ORDER BY n",
      PgParams().Text(array));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->rows(), static_cast<int>(values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    char buf[32];
    const std::string expected(buf, std::to_chars(buf, buf + sizeof buf, values[i]).ptr);
    const std::string server = rows->Text(static_cast<int>(i), 0);
    std::string scratch;
    const Cell cell = FloatCell(server, scratch);
    ASSERT_EQ(cell.kind, CellKind::kNumber) << server;
    ASSERT_EQ(cell.text, expected) << "the server wrote " << server;
  }
}

TEST_F(PgSourceTest, EveryTypeReadsAsTheSqliteSourceReadsTheSameData) {
  ReadResult pg = ReadAll(*source_, AllFields());
  ASSERT_TRUE(pg.status.ok()) << pg.status.ToString();
  ASSERT_EQ(pg.rows.size(), Items().size());
  // Spot checks of the mapping itself, then the whole table against SQLite.
  EXPECT_EQ(pg.rows[0][4], (Got{CellKind::kNumber, "123.45"}));
  EXPECT_EQ(pg.rows[0][6], (Got{CellKind::kText, "AP8Q"}));
  EXPECT_EQ(pg.rows[1][7], (Got{CellKind::kText, "2024-01-02T00:00:00.5Z"}));
  EXPECT_EQ(pg.rows[3][3], (Got{CellKind::kText, "Inf"}));
  EXPECT_EQ(pg.rows[0][10], (Got{CellKind::kNumber, "1e-05"}));
  EXPECT_EQ(pg.rows[0][12], (Got{CellKind::kJson, R"({"k": [1]})"}));
  ExpectSameAsSqlite(AllFields(), "all fields");
}

TEST_F(PgSourceTest, FiltersSelectTheSameRowsAsSqlite) {
  using V = std::vector<FilterValue>;
  const std::vector<std::pair<std::string, std::vector<Condition>>> cases = {
      {"name eq", {{"name", FilterOp::kEq, V{std::string("b")}}}},
      {"name ne", {{"name", FilterOp::kNe, V{std::string("b")}}}},
      {"name gt", {{"name", FilterOp::kGt, V{std::string("b")}}}},
      {"name prefix", {{"name", FilterOp::kPrefix, V{std::string("ta")}}}},
      {"name prefix high byte", {{"name", FilterOp::kPrefix, V{std::string("\xc3\xbf")}}}},
      {"name in with null", {{"name", FilterOp::kIn, V{std::string("b"), std::monostate{}}}}},
      {"name null", {{"name", FilterOp::kNull, V{true}}}},
      {"qty gt", {{"qty", FilterOp::kGt, V{int64_t{5}}}}},
      {"qty lte", {{"qty", FilterOp::kLte, V{int64_t{0}}}}},
      {"qty in", {{"qty", FilterOp::kIn, V{int64_t{42}, int64_t{7}}}}},
      {"qty eq double", {{"qty", FilterOp::kEq, V{5.0}}}},
      {"price gt", {{"price", FilterOp::kGt, V{1.0}}}},
      {"price lt", {{"price", FilterOp::kLt, V{0.0}}}},
      {"amount gte", {{"amount", FilterOp::kGte, V{3.0}}}},
      {"ok eq", {{"ok", FilterOp::kEq, V{true}}}},
      {"ok ne", {{"ok", FilterOp::kNe, V{true}}}},
      {"day gt", {{"day", FilterOp::kGt, V{std::string("2024-01-01")}}}},
      {"region in", {{"region", FilterOp::kIn, V{std::string("north"), std::string("east")}}}},
      {"doc a eq", {{"a", FilterOp::kEq, V{int64_t{2}}}}},
      {"doc a gte", {{"a", FilterOp::kGte, V{0.5}}}},
      {"doc b eq", {{"b", FilterOp::kEq, V{std::string("bee")}}}},
      {"doc b ne", {{"b", FilterOp::kNe, V{std::string("bee")}}}},
      {"doc b null", {{"b", FilterOp::kNull, V{true}}}},
      {"doc b prefix", {{"b", FilterOp::kPrefix, V{std::string("te")}}}},
      {"at eq", {{"at", FilterOp::kEq, V{std::string("2024-01-02T00:00:00.500Z")}}}},
      {"at lt", {{"at", FilterOp::kLt, V{std::string("2024-01-03T12:30:00.123Z")}}}},
      {"at in",
       {{"at", FilterOp::kIn, V{std::string("2024-01-01T00:00:00.000Z"), std::monostate{}}}}},
      {"two conditions",
       {{"qty", FilterOp::kGte, V{int64_t{0}}}, {"name", FilterOp::kNull, V{false}}}},
  };
  for (const auto& [what, filter] : cases) {
    SourceQuery q = AllFields();
    q.filter = filter;
    ExpectSameAsSqlite(q, what);
  }
}

TEST_F(PgSourceTest, TimeRangesPartitionsWindowsKeysAndResumeMatchSqlite) {
  SourceQuery q = AllFields();
  q.since = *ParseRfc3339("2024-01-02T00:00:00.5Z");
  q.until = *ParseRfc3339("2024-01-04T00:00:00Z");
  ExpectSameAsSqlite(q, "since/until");
  q = AllFields();
  q.partitions = {"north", "west"};
  ExpectSameAsSqlite(q, "partitions");
  q = AllFields();
  q.null_partition = true;
  ExpectSameAsSqlite(q, "null partition");
  q = AllFields();
  q.windows = std::vector<PartitionWindow>{
      {"north", *ParseRfc3339("2024-01-01T00:00:01Z"), *ParseRfc3339("2024-01-05T00:00:00Z")},
      {"east", std::nullopt, *ParseRfc3339("2024-02-01T00:00:00Z")}};
  ExpectSameAsSqlite(q, "windows");
  q.windows = std::vector<PartitionWindow>{};
  ExpectSameAsSqlite(q, "no windows");
  q = AllFields();
  q.keys = std::vector<FilterValue>{int64_t{6}, int64_t{1}, int64_t{99}};
  ExpectSameAsSqlite(q, "keys");
  auto missing = source_->MissingKeys(q);
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_EQ(*missing, std::vector<FilterValue>{int64_t{99}});
  q = AllFields();
  q.after_key = int64_t{2};
  ExpectSameAsSqlite(q, "after key");
  q.fields = {"b", "qty"};
  ExpectSameAsSqlite(q, "projection");

  auto partitions = source_->Partitions();
  ASSERT_TRUE(partitions.ok()) << partitions.status().ToString();
  EXPECT_EQ(*partitions, *sqlite_->Partitions());
  SourceQuery all = AllFields();
  auto summary = source_->Summarize(all, {"qty", "b"});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(*summary, *sqlite_->Summarize(all, {"qty", "b"}));
}

TEST_F(PgSourceTest, SharedReadersReadOneSnapshot) {
  auto readers = source_->ReadShared(AllFields(), 2);
  ASSERT_TRUE(readers.ok()) << readers.status().ToString();
  ASSERT_EQ(readers->size(), 2u);
  // Committed after the snapshot was taken: neither reader sees it.
  ASSERT_TRUE(
      pg_->ExecScript("DELETE FROM items WHERE id = 1; INSERT INTO items (id) VALUES (7)").ok());
  ReadResult first = Drain(*(*readers)[0]);
  ReadResult second = Drain(*(*readers)[1]);
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  EXPECT_EQ(first.keys, second.keys);
  EXPECT_EQ(first.rows, second.rows);
  std::vector<FilterValue> expected;
  for (const Item& item : Items()) expected.push_back(item.id);
  EXPECT_EQ(first.keys, expected);
  // A new reader sees the change.
  ReadResult now = ReadAll(*source_, AllFields());
  EXPECT_EQ(now.keys.front(), FilterValue(int64_t{2}));
  EXPECT_EQ(now.keys.back(), FilterValue(int64_t{7}));

  // Without a document field there is nothing worth a second pass of the server over the rows.
  SourceQuery plain;
  plain.fields = {"id", "name", "price"};
  auto one = source_->ReadShared(plain, 2);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->size(), 1u);
}

TEST_F(PgSourceTest, LosingTheServerMidReadIsTransient) {
  // About 40 MB: more than the reader takes ahead (PgCopyStream::kMaxAhead) and the socket
  // buffers hold, so it cannot have every row in hand when its connection is killed.
  static_assert(PgCopyStream::kMaxAhead < (20 << 20));  // the rows below: 40 MB
  ASSERT_TRUE(pg_->ExecScript("INSERT INTO items (id, name) SELECT g, 'row ' || g || "
                              "repeat('x', 2000) FROM generate_series(100, 20100) AS g")
                  .ok());
  SourceQuery q;
  q.fields = {"id", "name"};
  auto reader = source_->Read(q);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_TRUE((*reader)->Next());
  // Every backend of this test's connections but the one asking (the URL names the schema as
  // application_name): the reader's connection is among them.
  auto killed = pg_->Exec(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1 "
      "AND pid <> pg_backend_pid()",
      PgParams().Text(schema_));
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  ASSERT_GE(killed->Int(0, 0), 1);
  int64_t rows = 1;
  while ((*reader)->Next()) ++rows;
  EXPECT_LT(rows, 20007);
  EXPECT_EQ((*reader)->status().code(), StatusCode::kUnavailable) << (*reader)->status().ToString();
}

// An export cancelled mid-read drops its reader while the server is still sending: the reader
// lets go at once (its thread stops) and its connection closes.
TEST_F(PgSourceTest, DroppingAReaderMidCopyStopsItAndClosesItsConnection) {
  ASSERT_TRUE(pg_->ExecScript("INSERT INTO items (id, name) SELECT g, repeat('x', 2000) FROM "
                              "generate_series(100, 20100) AS g")
                  .ok());
  const auto backends = [&] {
    auto n = pg_->Exec(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND pid <> "
        "pg_backend_pid()",
        PgParams().Text(schema_));
    return n.ok() ? n->Int(0, 0) : -1;
  };
  const int64_t before = backends();
  SourceQuery q;
  q.fields = {"id", "name"};
  auto reader = source_->Read(q);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_TRUE((*reader)->Next());
  EXPECT_EQ(backends(), before + 1);
  reader->reset();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (backends() != before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(backends(), before);
}

TEST_F(PgSourceTest, ConfigurationErrorsAreClear) {
  DatasetSpec spec = spec_;
  spec.source.type = "postgres";
  spec.source.url = url_;
  spec.source.table = "no_such_table";
  Status s = ResolvePgDataset(spec).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("no table or view 'no_such_table'"), std::string::npos) << s.message();

  spec.source.table = "items";
  spec.time_field = "name";
  s = ResolvePgDataset(spec).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("must be timestamptz, timestamp or an integer"), std::string::npos)
      << s.message();

  spec.time_field = "at";
  spec.source.url = "postgresql://[bad";
  EXPECT_EQ(ResolvePgDataset(spec).status().code(), StatusCode::kInvalidArgument);

  spec.source.url = "postgresql:///postgres?host=" + dir_.path() + "/no-server&user=postgres";
  s = ResolvePgDataset(spec).status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("dataset 'items'"), std::string::npos) << s.message();

  EXPECT_TRUE(source_->CheckReachable().ok());
  EXPECT_TRUE(source_->CheckSchema().ok());
  ASSERT_TRUE(pg_->ExecScript("ALTER TABLE items RENAME COLUMN qty TO quantity").ok());
  s = source_->CheckSchema();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("'qty' is no longer a column"), std::string::npos) << s.message();
  EXPECT_EQ(ReadAll(*source_, AllFields()).status.code(), StatusCode::kFailedPrecondition);
}

TEST_F(PgSourceTest, JsonbDocumentsAndTextKeys) {
  ASSERT_TRUE(pg_->ExecScript(R"(
    CREATE TABLE notes (code text PRIMARY KEY, body jsonb);
    INSERT INTO notes VALUES ('b', '{"n": 1, "s": "x"}'), ('B', '{"n": 2.5}'), ('a', NULL),
                             ('é', '{"s": null, "n": [1, 2]}');)")
                  .ok());
  DatasetSpec spec;
  spec.name = "notes";
  spec.key = "code";
  spec.source.type = "postgres";
  spec.source.url = url_;
  spec.source.table = "notes";
  spec.document = DocumentSpec{"body", {"n", "s"}};
  auto dataset = ResolvePgDataset(spec);
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
  auto source = PgSource::Open(std::make_shared<const Dataset>(*dataset));
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  SourceQuery q;
  q.fields = {"code", "n", "s"};
  ReadResult r = ReadAll(**source, q);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  // Byte order of the keys, whatever the column's collation.
  EXPECT_EQ(r.keys, (std::vector<FilterValue>{std::string("B"), std::string("a"), std::string("b"),
                                              std::string("\xc3\xa9")}));
  ASSERT_EQ(r.rows.size(), 4u);
  EXPECT_EQ(r.rows[0][1], (Got{CellKind::kNumber, "2.5"}));
  EXPECT_EQ(r.rows[2][2], (Got{CellKind::kText, "x"}));
  EXPECT_EQ(r.rows[3][1], (Got{CellKind::kJson, "[1, 2]"}));
  q.after_key = std::string("a");
  q.filter = {{"n", FilterOp::kGte, {int64_t{1}}}};
  r = ReadAll(**source, q);
  // An array is above every number in jsonb's order (in SQLite's too: there it is text).
  EXPECT_EQ(r.keys, (std::vector<FilterValue>{std::string("b"), std::string("\xc3\xa9")}));
}

}  // namespace
}  // namespace exportd
