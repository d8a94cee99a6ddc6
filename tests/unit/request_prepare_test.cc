#include "core/request_prepare.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/canonical_json.h"
#include "core/time_format.h"
#include "tests/fakes/fake_time_zone_db.h"
#include "tests/unit/samples_dataset.h"

namespace exportd {
namespace {

Dataset Samples() { return testing_support::SamplesDataset(); }

const TimeZoneDb& TimeZones() {
  static const fakes::FakeTimeZoneDb time_zones;
  return time_zones;
}

FilterValue CoerceOne(const std::string& field, FilterValue value, FilterOp op = FilterOp::kEq) {
  ExportRequest r;
  r.dataset = "samples";
  r.filter = {Condition{field, op, {std::move(value)}}};
  Status s = CoerceForDataset(r, Samples());
  EXPECT_TRUE(s.ok()) << s.ToString();
  return r.filter[0].values[0];
}

TEST(CoerceForDatasetTest, ConvertsStringsByFieldType) {
  EXPECT_EQ(CoerceOne("id", std::string("42")), FilterValue(int64_t{42}));
  EXPECT_EQ(CoerceOne("id", std::string("-9223372036854775808")),
            FilterValue(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(CoerceOne("id", std::string("5.0")), FilterValue(int64_t{5}));
  EXPECT_EQ(CoerceOne("id", std::string("5.5"), FilterOp::kGt), FilterValue(5.5));
  EXPECT_EQ(CoerceOne("id", std::string("1e3")), FilterValue(int64_t{1000}));
  EXPECT_EQ(CoerceOne("depth_m", std::string("5")), FilterValue(5.0));
  EXPECT_EQ(CoerceOne("depth_m", std::string("-0.25")), FilterValue(-0.25));
  EXPECT_EQ(CoerceOne("verified", std::string("true")), FilterValue(true));
  EXPECT_EQ(CoerceOne("verified", std::string("false")), FilterValue(false));
  EXPECT_EQ(CoerceOne("collected_at", std::string("2024-01-01T01:00:00+01:00")),
            FilterValue(std::string("2024-01-01T00:00:00.000Z")));
  EXPECT_EQ(CoerceOne("study", std::string("007")), FilterValue(std::string("007")));
  EXPECT_EQ(CoerceOne("extra", std::string("5")), FilterValue(std::string("5")));
}

TEST(CoerceForDatasetTest, FitsJsonNumbersToTheColumn) {
  EXPECT_EQ(CoerceOne("id", 7.0), FilterValue(int64_t{7}));
  EXPECT_EQ(CoerceOne("id", 7.25, FilterOp::kLt), FilterValue(7.25));
  EXPECT_EQ(CoerceOne("id", 1e19), FilterValue(1e19)) << "beyond int64 stays real";
  EXPECT_EQ(CoerceOne("depth_m", int64_t{3}), FilterValue(3.0));
  EXPECT_EQ(CoerceOne("depth_m", int64_t{9007199254740993}), FilterValue(int64_t{9007199254740993}))
      << "not exact as a double: kept";
  EXPECT_EQ(CoerceOne("extra", int64_t{3}), FilterValue(int64_t{3}));
}

TEST(CoerceForDatasetTest, LeavesNullPrefixAndUnknownFieldsAlone) {
  EXPECT_EQ(CoerceOne("id", std::string("12"), FilterOp::kPrefix), FilterValue(std::string("12")));
  EXPECT_EQ(CoerceOne("id", true, FilterOp::kNull), FilterValue(true));
  EXPECT_EQ(CoerceOne("nope", std::string("x")), FilterValue(std::string("x")));
  EXPECT_EQ(CoerceOne("id", std::monostate{}), FilterValue(std::monostate{}));
}

TEST(CoerceForDatasetTest, AStringThatIsNotTheFieldsTypeIsRejectedAtItsValue) {
  ExportRequest r;
  r.dataset = "samples";
  r.filter = {Condition{"depth_m", FilterOp::kIn, {std::string("1"), std::string("deep")}}};
  Status s = CoerceForDataset(r, Samples());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.pointer(), "/filter/depth_m/in/1");
  r.filter = {Condition{"verified", FilterOp::kEq, {std::string("yes")}}};
  EXPECT_EQ(CoerceForDataset(r, Samples()).pointer(), "/filter/verified");
}

ExportRequest Decoded() {
  ExportRequest r;
  r.dataset = "samples";
  r.partitions = {"b", "a", "b"};
  r.filter = {Condition{"rock_type", FilterOp::kEq, {std::string("granite")}},
              Condition{"id", FilterOp::kGt, {std::string("5")}}};
  return r;
}

TEST(PrepareRequestTest, CoercesValidatesAndCanonicalizes) {
  Result<ExportRequest> prepared = PrepareRequest(Decoded(), Samples(), TimeZones());
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  ASSERT_EQ(prepared->filter.size(), 2u);
  EXPECT_EQ(prepared->filter[0].field, "id");
  EXPECT_EQ(prepared->filter[0].values, std::vector<FilterValue>{int64_t{5}});
  EXPECT_EQ(prepared->partitions, (std::vector<std::string>{"a", "b"}));
}

TEST(PrepareRequestTest, PreparingTwiceChangesNothing) {
  Result<ExportRequest> once = PrepareRequest(Decoded(), Samples(), TimeZones());
  ASSERT_TRUE(once.ok());
  Result<ExportRequest> twice = PrepareRequest(*once, Samples(), TimeZones());
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(*twice, *once);
  EXPECT_EQ(CanonicalJson(*twice), CanonicalJson(*once));
}

TEST(PrepareRequestTest, EveryFieldInDatasetOrderMeansNoFields) {
  const Dataset samples = Samples();
  ExportRequest all = Decoded();
  for (const Field& f : samples.fields()) all.fields.push_back(f.name);
  Result<ExportRequest> prepared = PrepareRequest(all, Samples(), TimeZones());
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_TRUE(prepared->fields.empty());

  ExportRequest reordered = all;
  std::swap(reordered.fields[0], reordered.fields[1]);
  prepared = PrepareRequest(reordered, Samples(), TimeZones());
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->fields, reordered.fields) << "another order decides the columns: kept";
}

TEST(PrepareRequestTest, EscapeFormulasOnlyForSpreadsheetFormats) {
  ExportRequest r = Decoded();
  r.escape_formulas = true;
  r.format = Format::kJson;
  EXPECT_FALSE(PrepareRequest(r, Samples(), TimeZones())->escape_formulas);
  r.format = Format::kTsv;
  EXPECT_TRUE(PrepareRequest(r, Samples(), TimeZones())->escape_formulas);
}

TEST(PrepareRequestTest, CoercionErrorsComeBeforeValidationErrors) {
  ExportRequest r = Decoded();
  r.filter.push_back(Condition{"nope", FilterOp::kEq, {std::string("x")}});
  r.filter.push_back(Condition{"depth_m", FilterOp::kLt, {std::string("shallow")}});
  Result<ExportRequest> prepared = PrepareRequest(r, Samples(), TimeZones());
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(prepared.status().pointer(), "/filter/depth_m/lt");

  r.filter.pop_back();
  prepared = PrepareRequest(r, Samples(), TimeZones());
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.status().pointer(), "/filter/nope");
}

TEST(PrepareRequestTest, KnownTimeZonesAreKeptUnknownOnesAre422AtTimeZone) {
  ExportRequest r = Decoded();
  r.time_zone = "Europe/Berlin";
  Result<ExportRequest> prepared = PrepareRequest(r, Samples(), TimeZones());
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_EQ(prepared->time_zone, "Europe/Berlin");
  r.time_zone = "Mars/Olympus_Mons";
  prepared = PrepareRequest(r, Samples(), TimeZones());
  EXPECT_EQ(prepared.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(prepared.status().pointer(), "/time_zone");
  EXPECT_NE(prepared.status().message().find("Mars/Olympus_Mons"), std::string::npos);
  r.time_zone = "";
  EXPECT_EQ(PrepareRequest(r, Samples(), TimeZones()).status().pointer(), "/time_zone");
}

TEST(PrepareRequestTest, RecordIdsAreFittedToTheKeySortedAndUnique) {
  ExportRequest r;
  r.dataset = "samples";
  r.record_ids = {std::string("30"), int64_t{4}, std::string("4"), int64_t{-1}};
  Result<ExportRequest> prepared = PrepareRequest(r, Samples(), TimeZones());
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_EQ(prepared->record_ids, (std::vector<FilterValue>{int64_t{-1}, int64_t{4}, int64_t{30}}));
  Result<ExportRequest> again = PrepareRequest(*prepared, Samples(), TimeZones());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *prepared);

  r.record_ids = {int64_t{1}, std::string("one")};
  prepared = PrepareRequest(r, Samples(), TimeZones());
  EXPECT_EQ(prepared.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(prepared.status().pointer(), "/record_ids/1");
  r.record_ids = {std::string("1.5")};
  EXPECT_EQ(PrepareRequest(r, Samples(), TimeZones()).status().pointer(), "/record_ids/0");
}

TEST(PrepareRequestTest, Every422RuleOfRecurringExports) {
  struct Case {
    const char* name;
    std::function<void(ExportRequest&)> set;
    const char* pointer;
  };
  const std::vector<Case> cases = {
      {"ids with incremental",
       [](ExportRequest& r) {
         r.record_ids = {int64_t{1}};
         r.incremental = true;
       },
       "/record_ids"},
      {"ids with since",
       [](ExportRequest& r) {
         r.record_ids = {int64_t{1}};
         r.since = ParseRfc3339("2024-01-01T00:00:00Z");
       },
       "/record_ids"},
      {"ids with until",
       [](ExportRequest& r) {
         r.record_ids = {int64_t{1}};
         r.until = ParseRfc3339("2024-01-01T00:00:00Z");
       },
       "/record_ids"},
      {"text id for an integer key", [](ExportRequest& r) { r.record_ids = {std::string("x")}; },
       "/record_ids/0"},
      {"unknown zone", [](ExportRequest& r) { r.time_zone = "Nowhere/Town"; }, "/time_zone"},
  };
  for (const Case& c : cases) {
    ExportRequest r;
    r.dataset = "samples";
    c.set(r);
    Result<ExportRequest> prepared = PrepareRequest(r, Samples(), TimeZones());
    EXPECT_EQ(prepared.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(prepared.status().pointer(), c.pointer) << c.name;
  }
}

TEST(PrepareRowFilterTest, CoercesValidatesAndCanonicalizesLikeARequestFilter) {
  Result<std::vector<Condition>> filter =
      PrepareRowFilter({Condition{"study", FilterOp::kNe, {std::string("no_sharing")}},
                        Condition{"id", FilterOp::kGt, {std::string("5")}}},
                       Samples());
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  EXPECT_EQ(*filter, (std::vector<Condition>{
                         Condition{"id", FilterOp::kGt, {int64_t{5}}},
                         Condition{"study", FilterOp::kNe, {std::string("no_sharing")}}}));
  filter = PrepareRowFilter({Condition{"nope", FilterOp::kEq, {int64_t{1}}}}, Samples());
  EXPECT_EQ(filter.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(filter.status().pointer(), "/filter/nope");
  filter = PrepareRowFilter({Condition{"verified", FilterOp::kGt, {true}}}, Samples());
  EXPECT_EQ(filter.status().pointer(), "/filter/verified/gt");
  EXPECT_TRUE(PrepareRowFilter({}, Samples()).ok());
}

}  // namespace
}  // namespace exportd
