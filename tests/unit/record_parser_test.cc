// The import readers (CSV, TSV, NDJSON) and the checks of headers and values.
#include "core/imports/record_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "core/imports/import_values.h"

namespace exportd {
namespace {

// Gives its text in pieces of `chunk` bytes, so that records cross buffer refills.
class StringStream final : public ByteStream {
 public:
  StringStream(std::string text, size_t chunk) : text_(std::move(text)), chunk_(chunk) {}
  Result<size_t> Read(char* buf, size_t len) override {
    const size_t n = std::min({len, chunk_, text_.size() - pos_});
    std::memcpy(buf, text_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string text_;
  size_t chunk_;
  size_t pos_ = 0;
};

struct Parsed {
  std::vector<Record> records;
  std::vector<int64_t> lines;
  Status error;
  int64_t error_line = 0;
  int64_t error_column = 0;
};

Parsed ParseAll(Format format, const std::string& text, size_t chunk = 1 << 20) {
  StringStream in(text, chunk);
  std::unique_ptr<RecordParser> parser = RecordParser::Create(format, in);
  Parsed out;
  Record r;  // one record for the whole file, as an import reads it
  for (;;) {
    Result<bool> next = parser->Next(r);
    if (!next.ok()) {
      out.error = next.status();
      out.error_line = parser->line();
      out.error_column = parser->error_column();
      return out;
    }
    if (!*next) return out;
    out.records.push_back(r);
    out.lines.push_back(parser->line());
  }
}

std::vector<std::string> Texts(const Record& r) {
  std::vector<std::string> out;
  for (const RecordValue& v : r.values)
    out.push_back(v.kind == CellKind::kNull ? "<null>" : v.text);
  return out;
}

TEST(CsvParserTest, QuotingLineEndsAndNulls) {
  const std::string text =
      "id,name\r\n"
      "1,\"a, \"\"quoted\"\"\r\nvalue\"\r\n"
      "2,\r\n"
      "3,\"\"\n"
      "4,plain";
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{1} << 20}) {
    SCOPED_TRACE(chunk);
    Parsed p = ParseAll(Format::kCsv, text, chunk);
    ASSERT_TRUE(p.error.ok()) << p.error.ToString();
    ASSERT_EQ(p.records.size(), 5u);
    EXPECT_EQ(Texts(p.records[0]), (std::vector<std::string>{"id", "name"}));
    EXPECT_EQ(Texts(p.records[1]), (std::vector<std::string>{"1", "a, \"quoted\"\r\nvalue"}));
    EXPECT_EQ(Texts(p.records[2]), (std::vector<std::string>{"2", "<null>"}));
    // A quoted empty field is the empty text, not NULL.
    EXPECT_EQ(p.records[3].values[1].kind, CellKind::kText);
    EXPECT_EQ(p.records[3].values[1].text, "");
    EXPECT_EQ(Texts(p.records[4]), (std::vector<std::string>{"4", "plain"}));
    // Records start on these lines (the quoted value spans two).
    EXPECT_EQ(p.lines, (std::vector<int64_t>{1, 2, 4, 5, 6}));
  }
}

TEST(CsvParserTest, MalformedRecordsAreLocated) {
  Parsed p = ParseAll(Format::kCsv, "a,b\r\n1,\"open\r\n2,3\r\n");
  EXPECT_EQ(p.error.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.error_line, 2);
  EXPECT_EQ(p.error_column, 2);
  p = ParseAll(Format::kCsv, "a,b\r\n1,\"x\"y\r\n");
  EXPECT_EQ(p.error.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.error_column, 2);
  p = ParseAll(Format::kCsv, "a,b\r\n1,x\"y\r\n");
  EXPECT_EQ(p.error.code(), StatusCode::kInvalidArgument);
}

// One Record is reused from row to row: values of a shorter, longer or differently quoted row
// must not keep anything of the row before.
TEST(CsvParserTest, ReusedRecordKeepsNothingOfTheRowBefore) {
  const std::string csv =
      "a,b,c\r\n"
      "\"long quoted text, more than fifteen bytes\",x,y\r\n"
      "1\r\n"
      ",\"\"\r\n"
      "plain,\"q\"\"\",3,4\r\n";
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{1} << 20}) {
    SCOPED_TRACE(chunk);
    Parsed p = ParseAll(Format::kCsv, csv, chunk);
    ASSERT_TRUE(p.error.ok()) << p.error.ToString();
    ASSERT_EQ(p.records.size(), 5u);
    EXPECT_EQ(Texts(p.records[1]),
              (std::vector<std::string>{"long quoted text, more than fifteen bytes", "x", "y"}));
    EXPECT_EQ(Texts(p.records[2]), (std::vector<std::string>{"1"}));
    EXPECT_EQ(Texts(p.records[3]), (std::vector<std::string>{"<null>", ""}));
    EXPECT_EQ(p.records[3].values[1].kind, CellKind::kText);
    EXPECT_EQ(Texts(p.records[4]), (std::vector<std::string>{"plain", "q\"", "3", "4"}));
  }
  Parsed t = ParseAll(Format::kTsv, "a\tb\nx\\ty\tz\n\t\nw\n", 3);
  ASSERT_TRUE(t.error.ok()) << t.error.ToString();
  ASSERT_EQ(t.records.size(), 4u);
  EXPECT_EQ(Texts(t.records[1]), (std::vector<std::string>{"x\ty", "z"}));
  EXPECT_EQ(Texts(t.records[2]), (std::vector<std::string>{"<null>", "<null>"}));
  EXPECT_EQ(Texts(t.records[3]), (std::vector<std::string>{"w"}));
  Parsed n = ParseAll(Format::kNdjson, "{\"a\": \"xyz\", \"b\": 2}\n{\"c\": null}\n{}\n", 4);
  ASSERT_TRUE(n.error.ok()) << n.error.ToString();
  ASSERT_EQ(n.records.size(), 3u);
  EXPECT_EQ(n.records[1].names, (std::vector<std::string>{"c"}));
  EXPECT_EQ(Texts(n.records[1]), (std::vector<std::string>{"<null>"}));
  EXPECT_TRUE(n.records[2].names.empty());
  EXPECT_TRUE(n.records[2].values.empty());
}

TEST(TsvParserTest, EscapesAndNulls) {
  Parsed p = ParseAll(Format::kTsv, "id\tname\n1\ta\\tb\\nc\\\\d\\re\n2\t\n", 2);
  ASSERT_TRUE(p.error.ok()) << p.error.ToString();
  ASSERT_EQ(p.records.size(), 3u);
  EXPECT_EQ(Texts(p.records[1]), (std::vector<std::string>{"1", "a\tb\nc\\d\re"}));
  EXPECT_EQ(Texts(p.records[2]), (std::vector<std::string>{"2", "<null>"}));
  p = ParseAll(Format::kTsv, "id\n\\x\n");
  EXPECT_EQ(p.error.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.error_line, 2);
}

TEST(NdjsonParserTest, KindsNamesAndEscapes) {
  Parsed p =
      ParseAll(Format::kNdjson,
               "{\"id\": 1, \"name\": \"a\\\"b\\u00e9\\ud83d\\ude00\", \"x\": null, \"ok\": true, "
               "\"n\": -1.5e-05, \"doc\": {\"k\": [1, \"}\"]}}\n"
               "\n"
               "{}\r\n",
               5);
  ASSERT_TRUE(p.error.ok()) << p.error.ToString();
  ASSERT_EQ(p.records.size(), 2u);
  const Record& r = p.records[0];
  EXPECT_EQ(r.names, (std::vector<std::string>{"id", "name", "x", "ok", "n", "doc"}));
  EXPECT_EQ(r.values[0].kind, CellKind::kNumber);
  EXPECT_EQ(r.values[1].text, "a\"b\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(r.values[2].kind, CellKind::kNull);
  EXPECT_EQ(r.values[3].kind, CellKind::kBool);
  EXPECT_EQ(r.values[4].text, "-1.5e-05");
  EXPECT_EQ(r.values[5].kind, CellKind::kJson);
  EXPECT_EQ(r.values[5].text, "{\"k\": [1, \"}\"]}");
  EXPECT_EQ(p.lines, (std::vector<int64_t>{1, 3}));
  for (const char* bad : {"[1]\n", "{\"a\": 01}\n", "{\"a\" 1}\n", "{\"a\": 1} x\n",
                          "{\"a\": \"\\ud800\"}\n", "{\"a\": tru}\n"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ParseAll(Format::kNdjson, bad).error.code(), StatusCode::kInvalidArgument);
  }
}

Dataset TestDataset() {
  DatasetSpec spec;
  spec.name = "t";
  spec.key = "id";
  return Dataset(spec, {{"id", FieldType::kInteger},
                        {"price", FieldType::kReal},
                        {"name", FieldType::kText},
                        {"at", FieldType::kTimestamp},
                        {"flag", FieldType::kBoolean},
                        {"doc_value", FieldType::kAny, true}});
}

TEST(ImportValuesTest, HeaderMustNameKnownFieldsOnceWithTheKey) {
  Dataset d = TestDataset();
  int64_t column = -1;
  Result<std::vector<size_t>> m = MapHeader(d, {"name", "id"}, &column);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(*m, (std::vector<size_t>{2, 0}));
  EXPECT_EQ(column, 0);
  EXPECT_FALSE(MapHeader(d, {"id", "colour"}, &column).ok());
  EXPECT_EQ(column, 2);
  EXPECT_FALSE(MapHeader(d, {"id", "name", "id"}, &column).ok());
  EXPECT_EQ(column, 3);
  Result<std::vector<size_t>> no_key = MapHeader(d, {"name"}, &column);
  EXPECT_FALSE(no_key.ok());
  EXPECT_NE(no_key.status().message().find("key"), std::string::npos);
  EXPECT_EQ(column, 0);
}

RecordValue Text(std::string s) { return {CellKind::kText, std::move(s)}; }

TEST(ImportValuesTest, ValuesAreCheckedByType) {
  Dataset d = TestDataset();
  const auto& f = d.fields();
  auto ok = [&](size_t field, RecordValue v) { return ConvertValue(f[field], v); };
  Result<ImportValue> v = ok(0, Text("-9223372036854775808"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->type, ImportValue::Type::kInteger);
  EXPECT_EQ(v->integer, INT64_MIN);
  for (const char* bad : {"1.0", "+1", "", "1e3", "9223372036854775808", "x"}) {
    EXPECT_FALSE(ok(0, Text(bad)).ok()) << bad;
  }
  v = ok(1, Text("1e-05"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->real, 1e-05);
  EXPECT_TRUE(ok(1, Text("-Inf")).ok());
  for (const char* bad : {"nan", "0x10", ".5", "1,5"}) EXPECT_FALSE(ok(1, Text(bad)).ok()) << bad;
  EXPECT_TRUE(ok(2, {CellKind::kNumber, "12"}).ok());
  EXPECT_TRUE(ok(3, Text("2024-01-01T00:00:00Z")).ok());
  EXPECT_FALSE(ok(3, Text("2024-01-01 00:00")).ok());
  v = ok(4, Text("false"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->type, ImportValue::Type::kBool);
  EXPECT_EQ(v->integer, 0);
  EXPECT_FALSE(ok(4, Text("yes")).ok());
  // Untyped: a JSON number keeps its token; anything else is text.
  v = ok(5, Text("1.50"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->type, ImportValue::Type::kReal);
  EXPECT_EQ(v->text, "1.50");
  EXPECT_EQ(ok(5, Text("n.d.")).value().type, ImportValue::Type::kText);
  EXPECT_EQ(ok(5, {CellKind::kText, "007"}).value().type, ImportValue::Type::kText);
  // NULL for any type.
  for (size_t i = 0; i < f.size(); ++i) {
    EXPECT_EQ(ok(i, {CellKind::kNull, ""}).value().type, ImportValue::Type::kNull);
  }
  EXPECT_FALSE(ok(0, {CellKind::kJson, "{}"}).ok());
}

// The import converts into the same ImportValue row after row: each conversion sets what its
// type needs, whatever the value held before.
TEST(ImportValuesTest, ConvertingIntoAUsedValueKeepsNothingOfIt) {
  Dataset d = TestDataset();
  const auto& f = d.fields();
  ImportValue v;
  ASSERT_TRUE(ConvertValue(f[2], Text("a text longer than fifteen bytes"), v).ok());
  EXPECT_EQ(v.type, ImportValue::Type::kText);
  ASSERT_TRUE(ConvertValue(f[5], Text("42"), v).ok());
  EXPECT_EQ(v.type, ImportValue::Type::kInteger);
  EXPECT_EQ(v.integer, 42);
  EXPECT_EQ(v.text, "42");
  ASSERT_TRUE(ConvertValue(f[5], Text("1e999"), v).ok());
  EXPECT_EQ(v.type, ImportValue::Type::kReal);
  EXPECT_EQ(v.text, "1e999");
  ASSERT_TRUE(ConvertValue(f[5], Text("-2.5"), v).ok());
  EXPECT_EQ(v.real, -2.5);
  ASSERT_TRUE(ConvertValue(f[2], {CellKind::kNull, ""}, v).ok());
  EXPECT_EQ(v.type, ImportValue::Type::kNull);
  EXPECT_EQ(v.text, "");
  ASSERT_TRUE(ConvertValue(f[4], Text("true"), v).ok());
  EXPECT_EQ(v.type, ImportValue::Type::kBool);
  EXPECT_EQ(v.integer, 1);
  EXPECT_FALSE(ConvertValue(f[0], Text("x"), v).ok());
}

}  // namespace
}  // namespace exportd
