#include "core/canonical_json.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/time_format.h"

namespace exportd {
namespace {

ExportRequest Base() {
  ExportRequest r;
  r.dataset = "samples";
  return r;
}

Condition Cond(std::string field, FilterOp op, std::vector<FilterValue> values) {
  return Condition{std::move(field), op, std::move(values)};
}

// The text CanonicalJson writes for one value, as the "value" of an eq condition.
std::string ValueText(FilterValue v) {
  ExportRequest r = Base();
  r.filter = {Cond("f", FilterOp::kEq, {std::move(v)})};
  const std::string json = CanonicalJson(r);
  const std::string head = "\"value\":";
  const size_t start = json.find(head) + head.size();
  const size_t end = json.find("}]", start);
  return json.substr(start, end - start);
}

TEST(CanonicalJsonTest, DefaultsAreWrittenOut) {
  EXPECT_EQ(CanonicalJson(Base()),
            "{\"compression\":\"none\",\"dataset\":\"samples\",\"fields\":[],\"filter\":[],"
            "\"format\":\"csv\",\"max_rows_per_file\":80000,\"partitions\":[],\"since\":null,"
            "\"until\":null}");
}

TEST(CanonicalJsonTest, FullRequest) {
  ExportRequest r = Base();
  r.format = Format::kNdjson;
  r.compression = Compression::kGzip;
  r.fields = {"id", "study"};
  r.filter = {Cond("depth_m", FilterOp::kGt, {2.5}),
              Cond("id", FilterOp::kIn, {int64_t{1}, int64_t{2}}),
              Cond("study", FilterOp::kNull, {false})};
  r.partitions = {"a", "b"};
  r.since = ParseRfc3339("2024-01-01T02:00:00+02:00");
  r.until = ParseRfc3339("2024-02-01T00:00:00.5Z");
  r.max_rows_per_file = 1000;
  EXPECT_EQ(CanonicalJson(r),
            "{\"compression\":\"gzip\",\"dataset\":\"samples\",\"fields\":[\"id\",\"study\"],"
            "\"filter\":[{\"field\":\"depth_m\",\"op\":\"gt\",\"value\":2.5},"
            "{\"field\":\"id\",\"op\":\"in\",\"values\":[1,2]},"
            "{\"field\":\"study\",\"op\":\"null\",\"value\":false}],"
            "\"format\":\"ndjson\",\"max_rows_per_file\":1000,\"partitions\":[\"a\",\"b\"],"
            "\"since\":\"2024-01-01T00:00:00.000Z\",\"until\":\"2024-02-01T00:00:00.500Z\"}");
}

TEST(CanonicalJsonTest, EveryValueType) {
  EXPECT_EQ(ValueText(std::monostate{}), "null");
  EXPECT_EQ(ValueText(true), "true");
  EXPECT_EQ(ValueText(false), "false");
  EXPECT_EQ(ValueText(int64_t{0}), "0");
  EXPECT_EQ(ValueText(int64_t{-42}), "-42");
  EXPECT_EQ(ValueText(std::numeric_limits<int64_t>::max()), "9223372036854775807");
  EXPECT_EQ(ValueText(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(ValueText(1.0), "1.0") << "a real stays a real";
  EXPECT_EQ(ValueText(-2.5), "-2.5");
  EXPECT_EQ(ValueText(0.1), "0.1");
  EXPECT_EQ(ValueText(1e300), "1e+300");
  EXPECT_EQ(ValueText(100000.0), "1e+05") << "the shorter of fixed and scientific";
  EXPECT_EQ(ValueText(1234.0), "1234.0");
  EXPECT_EQ(ValueText(std::string("plain")), "\"plain\"");
  EXPECT_EQ(ValueText(std::string("q\"b\\n\nt\t\x01")), "\"q\\\"b\\\\n\\nt\\t\\u0001\"");
  EXPECT_EQ(ValueText(std::string("\xc3\xa9t\xc3\xa9")), "\"\xc3\xa9t\xc3\xa9\"");
}

TEST(CanonicalJsonTest, NonFiniteRealsBecomeNull) {
  EXPECT_EQ(ValueText(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(ValueText(std::numeric_limits<double>::quiet_NaN()), "null");
}

TEST(CanonicalJsonTest, RealsReadBackExactly) {
  for (double d : {0.1, 0.2 + 0.1, 1.0 / 3.0, 123456789.123456789, 5e-324, 2.2250738585072014e-308,
                   1.7976931348623157e308, -9007199254740993.0, 1e21, 1e-7}) {
    const std::string text = ValueText(d);
    double back = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), back);
    ASSERT_EQ(ec, std::errc()) << text;
    EXPECT_EQ(end, text.data() + text.size()) << text;
    EXPECT_EQ(back, d) << text;
    EXPECT_NE(text.find_first_of(".e"), std::string::npos) << text;
  }
}

TEST(CanonicalJsonTest, EscapesNamesAndPartitions) {
  ExportRequest r = Base();
  r.dataset = "s\"x";
  r.fields = {"a\\b"};
  r.partitions = {"line\nbreak"};
  const std::string json = CanonicalJson(r);
  EXPECT_NE(json.find("\"dataset\":\"s\\\"x\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"fields\":[\"a\\\\b\"]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"partitions\":[\"line\\nbreak\"]"), std::string::npos) << json;
}

TEST(CanonicalJsonTest, EquivalentRequestsGiveIdenticalText) {
  ExportRequest a = Base();
  a.filter = {Cond("z", FilterOp::kIn, {std::string("b"), std::string("a")}),
              Cond("a", FilterOp::kEq, {std::monostate{}}), Cond("m", FilterOp::kLt, {1.5})};
  a.partitions = {"y", "x", "y"};
  ExportRequest b = Base();
  b.filter = {Cond("m", FilterOp::kLt, {1.5}), Cond("a", FilterOp::kNull, {true}),
              Cond("z", FilterOp::kIn, {std::string("a"), std::string("b"), std::string("a")})};
  b.partitions = {"x", "y"};
  Canonicalize(a);
  Canonicalize(b);
  EXPECT_EQ(CanonicalJson(a), CanonicalJson(b));
}

TEST(CanonicalJsonTest, DifferentOutputsGiveDifferentText) {
  ExportRequest a = Base();
  ExportRequest b = Base();
  a.filter = {Cond("f", FilterOp::kEq, {int64_t{1}})};
  b.filter = {Cond("f", FilterOp::kEq, {1.0})};
  EXPECT_NE(CanonicalJson(a), CanonicalJson(b));
  b.filter = {Cond("f", FilterOp::kEq, {std::string("1")})};
  EXPECT_NE(CanonicalJson(a), CanonicalJson(b));
  ExportRequest c = Base();
  c.fields = {"x", "y"};
  ExportRequest d = Base();
  d.fields = {"y", "x"};
  EXPECT_NE(CanonicalJson(c), CanonicalJson(d)) << "field order decides the output";
}

// Escaping changes CSV/TSV bytes, so it is part of the text (and query_hash); written only when
// true, so a request without it keeps the text (and hash) it had before the option existed.
TEST(CanonicalJsonTest, EscapeFormulasCountsForSpreadsheetFormatsOnly) {
  for (Format format : {Format::kCsv, Format::kTsv}) {
    ExportRequest plain = Base();
    plain.format = format;
    ExportRequest escaped = plain;
    escaped.escape_formulas = true;
    Canonicalize(plain);
    Canonicalize(escaped);
    EXPECT_TRUE(escaped.escape_formulas);
    EXPECT_NE(CanonicalJson(plain), CanonicalJson(escaped));
    EXPECT_EQ(CanonicalJson(plain).find("escape_formulas"), std::string::npos);
    EXPECT_NE(CanonicalJson(escaped).find("\"dataset\":\"samples\",\"escape_formulas\":true,"),
              std::string::npos)
        << CanonicalJson(escaped);
  }
  for (Format format : {Format::kJson, Format::kNdjson}) {
    ExportRequest plain = Base();
    plain.format = format;
    ExportRequest escaped = plain;
    escaped.escape_formulas = true;
    Canonicalize(plain);
    Canonicalize(escaped);
    EXPECT_FALSE(escaped.escape_formulas) << "no spreadsheet, nothing to escape";
    EXPECT_EQ(CanonicalJson(plain), CanonicalJson(escaped));
  }
}

// The recurring-export members are written only when they differ from their defaults: the
// text (and query_hash) of every request that existed before them is what it was.
TEST(CanonicalJsonTest, RecurringExportDefaultsLeaveTheTextAsItWas) {
  ExportRequest r = Base();
  r.incremental = false;
  r.export_type = ExportType::kInstant;
  r.time_zone.reset();
  r.record_ids.clear();
  r.split_by.reset();
  EXPECT_EQ(CanonicalJson(r),
            "{\"compression\":\"none\",\"dataset\":\"samples\",\"fields\":[],\"filter\":[],"
            "\"format\":\"csv\",\"max_rows_per_file\":80000,\"partitions\":[],\"since\":null,"
            "\"until\":null}");
}

TEST(CanonicalJsonTest, RecurringExportMembersInKeyOrder) {
  ExportRequest r = Base();
  r.incremental = true;
  r.export_type = ExportType::kDaily;
  r.time_zone = "Europe/Berlin";
  r.split_by = SplitBy::kPartition;
  r.since = ParseRfc3339("2024-01-01T00:00:00Z");
  EXPECT_EQ(CanonicalJson(r),
            "{\"compression\":\"none\",\"dataset\":\"samples\",\"export_type\":\"daily\","
            "\"fields\":[],\"filter\":[],\"format\":\"csv\",\"incremental\":true,"
            "\"max_rows_per_file\":80000,\"partitions\":[],"
            "\"since\":\"2024-01-01T00:00:00.000Z\",\"split_by\":\"partition\","
            "\"time_zone\":\"Europe/Berlin\",\"until\":null}");
  ExportRequest ids = Base();
  ids.record_ids = {int64_t{3}, int64_t{10}};
  EXPECT_NE(CanonicalJson(ids).find("\"partitions\":[],\"record_ids\":[3,10],\"since\":null"),
            std::string::npos)
      << CanonicalJson(ids);
  ids.record_ids = {std::string("a\"b")};
  EXPECT_NE(CanonicalJson(ids).find("\"record_ids\":[\"a\\\"b\"]"), std::string::npos)
      << CanonicalJson(ids);
}

TEST(CanonicalJsonTest, EachRecurringOptionChangesTheText) {
  const std::string plain = CanonicalJson(Base());
  std::vector<ExportRequest> variants(5, Base());
  variants[0].incremental = true;
  variants[1].export_type = ExportType::kHourly;
  variants[2].time_zone = "UTC";
  variants[3].record_ids = {int64_t{1}};
  variants[4].split_by = SplitBy::kPartition;
  for (const ExportRequest& v : variants) EXPECT_NE(CanonicalJson(v), plain);
}

}  // namespace
}  // namespace exportd
