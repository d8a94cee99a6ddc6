#include "core/request.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "core/dataset.h"
#include "core/time_format.h"

namespace exportd {
namespace {

Dataset Samples() {
  DatasetSpec spec;
  spec.name = "samples";
  spec.key = "id";
  spec.time_field = "collected_at";
  spec.partition_field = "study";
  return Dataset(spec, {{"id", FieldType::kInteger},
                        {"study", FieldType::kText},
                        {"collected_at", FieldType::kTimestamp},
                        {"depth_m", FieldType::kReal},
                        {"verified", FieldType::kBoolean},
                        {"extra", FieldType::kAny, true},
                        {"a/b", FieldType::kText}});
}

// No time field, no partition field.
Dataset Plain() {
  DatasetSpec spec;
  spec.name = "plain";
  spec.key = "id";
  return Dataset(spec, {{"id", FieldType::kInteger}});
}

ExportRequest Base() {
  ExportRequest r;
  r.dataset = "samples";
  return r;
}

Condition Cond(std::string field, FilterOp op, std::vector<FilterValue> values) {
  return Condition{std::move(field), op, std::move(values)};
}

TimePoint At(const char* text) { return *ParseRfc3339(text); }

TEST(RequestNamesTest, FormatsRoundTrip) {
  for (Format f : {Format::kCsv, Format::kTsv, Format::kJson, Format::kNdjson}) {
    EXPECT_EQ(ParseFormat(FormatName(f)), f);
    EXPECT_EQ(FormatExtension(f), FormatName(f));
  }
  EXPECT_EQ(FormatName(Format::kNdjson), "ndjson");
  EXPECT_EQ(FormatContentType(Format::kCsv), "text/csv; charset=utf-8");
  EXPECT_EQ(FormatContentType(Format::kTsv), "text/tab-separated-values; charset=utf-8");
  EXPECT_EQ(FormatContentType(Format::kJson), "application/json");
  EXPECT_EQ(FormatContentType(Format::kNdjson), "application/x-ndjson");
  EXPECT_EQ(ParseFormat("CSV"), std::nullopt);
  EXPECT_EQ(ParseFormat(""), std::nullopt);
  EXPECT_EQ(ParseFormat("xml"), std::nullopt);
}

TEST(RequestNamesTest, CompressionAndOpsRoundTrip) {
  EXPECT_EQ(ParseCompression(CompressionName(Compression::kNone)), Compression::kNone);
  EXPECT_EQ(ParseCompression(CompressionName(Compression::kGzip)), Compression::kGzip);
  EXPECT_EQ(ParseCompression("zstd"), std::nullopt);
  const std::vector<std::pair<FilterOp, std::string_view>> ops = {
      {FilterOp::kEq, "eq"},   {FilterOp::kNe, "ne"},         {FilterOp::kGt, "gt"},
      {FilterOp::kGte, "gte"}, {FilterOp::kLt, "lt"},         {FilterOp::kLte, "lte"},
      {FilterOp::kIn, "in"},   {FilterOp::kPrefix, "prefix"}, {FilterOp::kNull, "null"}};
  for (const auto& [op, name] : ops) {
    EXPECT_EQ(FilterOpName(op), name);
    EXPECT_EQ(ParseFilterOp(name), op);
  }
  EXPECT_EQ(ParseFilterOp("like"), std::nullopt);
  EXPECT_EQ(ParseFilterOp("GT"), std::nullopt);
}

TEST(CanonicalizeTest, SortsConditionsByFieldThenOpName) {
  ExportRequest r = Base();
  r.filter = {Cond("study", FilterOp::kEq, {std::string("b")}),
              Cond("id", FilterOp::kLt, {int64_t{9}}), Cond("id", FilterOp::kGt, {int64_t{1}}),
              Cond("depth_m", FilterOp::kGte, {2.5})};
  Canonicalize(r);
  ASSERT_EQ(r.filter.size(), 4u);
  EXPECT_EQ(r.filter[0].field, "depth_m");
  EXPECT_EQ(r.filter[1], Cond("id", FilterOp::kGt, {int64_t{1}}));
  EXPECT_EQ(r.filter[2], Cond("id", FilterOp::kLt, {int64_t{9}}));
  EXPECT_EQ(r.filter[3].field, "study");
}

TEST(CanonicalizeTest, SameFieldAndOpOrderedByValue) {
  ExportRequest r = Base();
  r.filter = {Cond("id", FilterOp::kNe, {int64_t{7}}), Cond("id", FilterOp::kNe, {int64_t{3}})};
  Canonicalize(r);
  EXPECT_EQ(r.filter[0].values[0], FilterValue(int64_t{3}));
  EXPECT_EQ(r.filter[1].values[0], FilterValue(int64_t{7}));
}

TEST(CanonicalizeTest, InValuesSortedAndUnique) {
  ExportRequest r = Base();
  r.filter = {Cond("id", FilterOp::kIn, {int64_t{3}, int64_t{1}, int64_t{3}, int64_t{2}})};
  Canonicalize(r);
  EXPECT_EQ(r.filter[0], Cond("id", FilterOp::kIn, {int64_t{1}, int64_t{2}, int64_t{3}}));
}

TEST(CanonicalizeTest, InWithOneDistinctValueBecomesEq) {
  ExportRequest r = Base();
  r.filter = {Cond("study", FilterOp::kIn, {std::string("a"), std::string("a")})};
  Canonicalize(r);
  EXPECT_EQ(r.filter[0], Cond("study", FilterOp::kEq, {std::string("a")}));
}

TEST(CanonicalizeTest, EqAndNeNullBecomeNullTests) {
  ExportRequest r = Base();
  r.filter = {Cond("study", FilterOp::kEq, {std::monostate{}}),
              Cond("id", FilterOp::kNe, {std::monostate{}})};
  Canonicalize(r);
  EXPECT_EQ(r.filter[0], Cond("id", FilterOp::kNull, {false}));
  EXPECT_EQ(r.filter[1], Cond("study", FilterOp::kNull, {true}));
}

TEST(CanonicalizeTest, DuplicateConditionsCollapse) {
  ExportRequest r = Base();
  r.filter = {Cond("id", FilterOp::kGt, {int64_t{1}}), Cond("id", FilterOp::kGt, {int64_t{1}})};
  Canonicalize(r);
  EXPECT_EQ(r.filter.size(), 1u);
}

TEST(CanonicalizeTest, NegativeZeroIsZero) {
  ExportRequest r = Base();
  r.filter = {Cond("depth_m", FilterOp::kEq, {-0.0})};
  Canonicalize(r);
  EXPECT_FALSE(std::signbit(std::get<double>(r.filter[0].values[0])));
}

TEST(CanonicalizeTest, PartitionsSortedUniqueFieldsKeepOrder) {
  ExportRequest r = Base();
  r.fields = {"study", "id", "depth_m"};
  r.partitions = {"b", "a", "b", "c"};
  Canonicalize(r);
  EXPECT_EQ(r.partitions, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r.fields, (std::vector<std::string>{"study", "id", "depth_m"}));
}

TEST(CanonicalizeTest, IsIdempotentAndSurvivesNaN) {
  ExportRequest r = Base();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  r.filter = {Cond("depth_m", FilterOp::kIn, {nan, 1.0, nan, -1.0}),
              Cond("a/b", FilterOp::kEq, {std::string("x")})};
  Canonicalize(r);
  ExportRequest again = r;
  Canonicalize(again);
  ASSERT_EQ(again.filter.size(), r.filter.size());
  EXPECT_EQ(again.filter[0], r.filter[0]);
  EXPECT_EQ(r.filter[1].values.size(), 3u);  // NaNs are equal under totalOrder
}

TEST(ValidateRequestTest, AcceptsAFullRequest) {
  ExportRequest r = Base();
  r.fields = {"id", "study", "extra"};
  r.filter = {Cond("id", FilterOp::kGte, {int64_t{1}}),
              Cond("depth_m", FilterOp::kLt, {int64_t{30}}),
              Cond("depth_m", FilterOp::kGt, {0.5}),
              Cond("study", FilterOp::kPrefix, {std::string("geo")}),
              Cond("verified", FilterOp::kEq, {true}),
              Cond("verified", FilterOp::kNull, {false}),
              Cond("collected_at", FilterOp::kGte, {std::string("2024-01-01T00:00:00Z")}),
              Cond("extra", FilterOp::kIn, {int64_t{1}, std::string("x"), true}),
              Cond("extra", FilterOp::kPrefix, {std::string("p")}),
              Cond("study", FilterOp::kEq, {std::monostate{}})};
  r.since = At("2024-01-01T00:00:00Z");
  r.until = At("2024-02-01T00:00:00Z");
  r.partitions = {"a"};
  r.max_rows_per_file = 1;
  EXPECT_TRUE(ValidateRequest(r, Samples()).ok());
  Canonicalize(r);
  EXPECT_TRUE(ValidateRequest(r, Samples()).ok()) << "canonical form stays valid";
}

struct BadCase {
  const char* name;
  ExportRequest request;
  std::string pointer;
};

ExportRequest With(std::function<void(ExportRequest&)> edit) {
  ExportRequest r = Base();
  edit(r);
  return r;
}

TEST(ValidateRequestTest, RejectsMeaninglessRequestsWithPointers) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<BadCase> cases = {
      {"other dataset", With([](auto& r) { r.dataset = "plain"; }), "/dataset"},
      {"unknown field", With([](auto& r) {
         r.fields = {"id", "nope"};
       }),
       "/fields/1"},
      {"duplicate field", With([](auto& r) {
         r.fields = {"id", "study", "id"};
       }),
       "/fields/2"},
      {"unknown filter field",
       With([](auto& r) { r.filter = {Cond("nope", FilterOp::kEq, {int64_t{1}})}; }),
       "/filter/nope"},
      {"escaped pointer",
       With([](auto& r) { r.filter = {Cond("x/y~z", FilterOp::kEq, {int64_t{1}})}; }),
       "/filter/x~1y~0z"},
      {"prefix on integer",
       With([](auto& r) { r.filter = {Cond("id", FilterOp::kPrefix, {std::string("1")})}; }),
       "/filter/id/prefix"},
      {"prefix on timestamp", With([](auto& r) {
         r.filter = {Cond("collected_at", FilterOp::kPrefix, {std::string("2024")})};
       }),
       "/filter/collected_at/prefix"},
      {"prefix takes a string",
       With([](auto& r) { r.filter = {Cond("study", FilterOp::kPrefix, {int64_t{1}})}; }),
       "/filter/study/prefix"},
      {"gt on boolean", With([](auto& r) { r.filter = {Cond("verified", FilterOp::kGt, {true})}; }),
       "/filter/verified/gt"},
      {"uncoerced string on integer",
       With([](auto& r) { r.filter = {Cond("id", FilterOp::kEq, {std::string("5")})}; }),
       "/filter/id"},
      {"bool on real", With([](auto& r) { r.filter = {Cond("depth_m", FilterOp::kLt, {true})}; }),
       "/filter/depth_m/lt"},
      {"number on text",
       With([](auto& r) { r.filter = {Cond("study", FilterOp::kEq, {int64_t{5}})}; }),
       "/filter/study"},
      {"string on boolean",
       With([](auto& r) { r.filter = {Cond("verified", FilterOp::kEq, {std::string("true")})}; }),
       "/filter/verified"},
      {"timestamp not RFC 3339", With([](auto& r) {
         r.filter = {Cond("collected_at", FilterOp::kGt, {std::string("2024-01-01")})};
       }),
       "/filter/collected_at/gt"},
      {"timestamp as number", With([](auto& r) {
         r.filter = {Cond("collected_at", FilterOp::kGt, {int64_t{1700000000}})};
       }),
       "/filter/collected_at/gt"},
      {"null inside in", With([](auto& r) {
         r.filter = {Cond("id", FilterOp::kIn, {int64_t{1}, std::monostate{}})};
       }),
       "/filter/id/in/1"},
      {"empty in", With([](auto& r) { r.filter = {Cond("id", FilterOp::kIn, {})}; }),
       "/filter/id/in"},
      {"too many in values", With([](auto& r) {
         r.filter = {Cond("id", FilterOp::kIn, std::vector<FilterValue>(1001, int64_t{1}))};
       }),
       "/filter/id/in"},
      {"null op takes a bool",
       With([](auto& r) { r.filter = {Cond("id", FilterOp::kNull, {int64_t{1}})}; }),
       "/filter/id/null"},
      {"gt null", With([](auto& r) { r.filter = {Cond("id", FilterOp::kGt, {std::monostate{}})}; }),
       "/filter/id/gt"},
      {"eq with two values", With([](auto& r) {
         r.filter = {Cond("id", FilterOp::kEq, {int64_t{1}, int64_t{2}})};
       }),
       "/filter/id"},
      {"infinite real",
       With([inf](auto& r) { r.filter = {Cond("depth_m", FilterOp::kLt, {inf})}; }),
       "/filter/depth_m/lt"},
      {"until before since", With([](auto& r) {
         r.since = At("2024-02-01T00:00:00Z");
         r.until = At("2024-01-01T00:00:00Z");
       }),
       "/until"},
      {"until equals since", With([](auto& r) {
         r.since = At("2024-02-01T00:00:00Z");
         r.until = At("2024-02-01T02:00:00+02:00");
       }),
       "/until"},
      {"max rows zero", With([](auto& r) { r.max_rows_per_file = 0; }), "/max_rows_per_file"},
      {"max rows too big", With([](auto& r) { r.max_rows_per_file = 80001; }),
       "/max_rows_per_file"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    Status s = ValidateRequest(c.request, Samples());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_EQ(s.pointer(), c.pointer) << s.ToString();
  }
}

TEST(ValidateRequestTest, TimeAndPartitionNeedTheDatasetsFields) {
  ExportRequest r;
  r.dataset = "plain";
  r.since = At("2024-01-01T00:00:00Z");
  EXPECT_EQ(ValidateRequest(r, Plain()).pointer(), "/since");
  r.since.reset();
  r.until = At("2024-01-01T00:00:00Z");
  EXPECT_EQ(ValidateRequest(r, Plain()).pointer(), "/until");
  r.until.reset();
  r.partitions = {"a"};
  Status s = ValidateRequest(r, Plain());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.pointer(), "/partitions");
  r.partitions.clear();
  EXPECT_TRUE(ValidateRequest(r, Plain()).ok());
}

TEST(ValidateRequestTest, AnyFieldTakesEveryScalar) {
  ExportRequest r = Base();
  r.filter = {Cond("extra", FilterOp::kEq, {true}), Cond("extra", FilterOp::kGt, {1.5}),
              Cond("extra", FilterOp::kLt, {std::string("z")}),
              Cond("extra", FilterOp::kNe, {int64_t{4}})};
  EXPECT_TRUE(ValidateRequest(r, Samples()).ok());
}

TEST(RequestNamesTest, ExportTypesAndSplitByRoundTrip) {
  for (ExportType t : {ExportType::kInstant, ExportType::kHourly, ExportType::kDaily}) {
    EXPECT_EQ(ParseExportType(ExportTypeName(t)), t);
  }
  EXPECT_EQ(ExportTypeName(ExportType::kDaily), "daily");
  EXPECT_FALSE(ParseExportType("weekly"));
  EXPECT_EQ(ParseSplitBy("partition"), SplitBy::kPartition);
  EXPECT_FALSE(ParseSplitBy("study"));
}

TEST(CanonicalizeTest, RecordIdsSortedInKeyOrderAndUnique) {
  ExportRequest r = Base();
  r.record_ids = {int64_t{30}, int64_t{4}, int64_t{30}, int64_t{-2}};
  Canonicalize(r);
  EXPECT_EQ(r.record_ids, (std::vector<FilterValue>{int64_t{-2}, int64_t{4}, int64_t{30}}));
  r.record_ids = {std::string("b"), std::string("B"), std::string("a"), std::string("b")};
  Canonicalize(r);
  EXPECT_EQ(r.record_ids,
            (std::vector<FilterValue>{std::string("B"), std::string("a"), std::string("b")}))
      << "text keys in byte order, as SQLite's BINARY collation orders them";
}

TEST(ValidateRequestTest, AcceptsEveryRecurringExportOption) {
  ExportRequest r = Base();
  r.incremental = true;
  r.export_type = ExportType::kDaily;
  r.time_zone = "Europe/Berlin";
  r.split_by = SplitBy::kPartition;
  r.since = At("2024-01-01T00:00:00Z");
  EXPECT_TRUE(ValidateRequest(r, Samples()).ok());
  ExportRequest ids = Base();
  ids.record_ids = {int64_t{1}, int64_t{2}};
  ids.split_by = SplitBy::kPartition;
  EXPECT_TRUE(ValidateRequest(ids, Samples()).ok());
}

TEST(ValidateRequestTest, RecordIdsAreNotCombinedWithTimeOptions) {
  ExportRequest r = Base();
  r.record_ids = {int64_t{1}};
  for (auto set : std::vector<std::function<void(ExportRequest&)>>{
           [](ExportRequest& x) { x.incremental = true; },
           [](ExportRequest& x) { x.since = At("2024-01-01T00:00:00Z"); },
           [](ExportRequest& x) { x.until = At("2024-01-01T00:00:00Z"); }}) {
    ExportRequest bad = r;
    set(bad);
    Status s = ValidateRequest(bad, Samples());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.pointer(), "/record_ids") << s.ToString();
  }
  r.record_ids.assign(kMaxRecordIds + 1, FilterValue(int64_t{1}));
  EXPECT_EQ(ValidateRequest(r, Samples()).pointer(), "/record_ids");
}

TEST(ValidateRequestTest, RecordIdsFitTheKeysType) {
  ExportRequest r = Base();
  r.record_ids = {int64_t{1}, std::string("2")};
  Status s = ValidateRequest(r, Samples());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.pointer(), "/record_ids/1");
  EXPECT_NE(s.message().find("integer"), std::string::npos) << s.message();
  r.record_ids = {1.5};
  EXPECT_EQ(ValidateRequest(r, Samples()).pointer(), "/record_ids/0");
  r.record_ids = {true};
  EXPECT_EQ(ValidateRequest(r, Samples()).pointer(), "/record_ids/0");

  DatasetSpec spec;
  spec.name = "texts";
  spec.key = "code";
  const Dataset texts(spec, {{"code", FieldType::kText}});
  ExportRequest t;
  t.dataset = "texts";
  t.record_ids = {std::string("a"), int64_t{7}};
  s = ValidateRequest(t, texts);
  EXPECT_EQ(s.pointer(), "/record_ids/1");
  EXPECT_NE(s.message().find("string"), std::string::npos) << s.message();
  t.record_ids = {std::string("a"), std::string("7")};
  EXPECT_TRUE(ValidateRequest(t, texts).ok());

  spec.name = "reals";
  const Dataset reals(spec, {{"code", FieldType::kReal}});
  ExportRequest real;
  real.dataset = "reals";
  real.record_ids = {int64_t{1}};
  EXPECT_EQ(ValidateRequest(real, reals).pointer(), "/record_ids");
}

TEST(ValidateRequestTest, IncrementalAndSplitByNeedTheDatasetsFields) {
  ExportRequest r;
  r.dataset = "plain";
  r.incremental = true;
  Status s = ValidateRequest(r, Plain());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.pointer(), "/incremental");
  DatasetSpec spec;
  spec.name = "timed";
  spec.key = "id";
  spec.time_field = "at";
  const Dataset timed(spec, {{"id", FieldType::kInteger}, {"at", FieldType::kTimestamp}});
  r.dataset = "timed";
  s = ValidateRequest(r, timed);
  EXPECT_EQ(s.pointer(), "/incremental");
  EXPECT_NE(s.message().find("partition"), std::string::npos) << s.message();
  r.incremental = false;
  r.split_by = SplitBy::kPartition;
  EXPECT_EQ(ValidateRequest(r, timed).pointer(), "/split_by");
  r.split_by.reset();
  EXPECT_TRUE(ValidateRequest(r, timed).ok());
}

}  // namespace
}  // namespace exportd
