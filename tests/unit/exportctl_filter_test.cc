// exportctl's --filter parser and the filter object it builds.
#include <gtest/gtest.h>

#include "server/exportctl/filter_arg.h"

namespace exportd::ctl {
namespace {

using Json = nlohmann::json;

FilterArg Parse(const std::string& text) {
  auto parsed = ParseFilterArg(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status().ToString();
  return parsed.ok() ? *parsed : FilterArg{};
}

TEST(ExportctlFilterTest, SymbolicOperatorsWithAndWithoutSpaces) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"depth = 5", "eq"},   {"depth == 5", "eq"},     {"depth != 5", "ne"},  {"depth < 5", "lt"},
      {"depth <= 5", "lte"}, {"depth > 5", "gt"},      {"depth >= 5", "gte"}, {"depth>=5", "gte"},
      {"depth=5", "eq"},     {"  depth  <  5  ", "lt"}};
  for (const auto& [text, op] : cases) {
    const FilterArg arg = Parse(text);
    EXPECT_EQ(arg.field, "depth") << text;
    EXPECT_EQ(arg.op, op) << text;
    EXPECT_EQ(arg.value, Json(5)) << text;
  }
}

TEST(ExportctlFilterTest, TheApisOperatorNames) {
  for (const std::string op : {"eq", "ne", "lt", "lte", "gt", "gte"}) {
    const FilterArg arg = Parse("depth " + op + " 2.5");
    EXPECT_EQ(arg.op, op);
    EXPECT_EQ(arg.value, Json(2.5));
  }
}

TEST(ExportctlFilterTest, ValuesAreNumbersOnlyWhenTheyAreJsonNumbers) {
  EXPECT_EQ(Parse("a = 100").value, Json(100));
  EXPECT_EQ(Parse("a = -2.5").value, Json(-2.5));
  EXPECT_EQ(Parse("a = 1e3").value, Json(1000.0));
  EXPECT_EQ(Parse("a = 007").value, Json("007"));  // a zip code, not seven
  EXPECT_EQ(Parse("a = 1.").value, Json("1."));
  EXPECT_EQ(Parse("a = +1").value, Json("+1"));
  EXPECT_EQ(Parse("a = basalt").value, Json("basalt"));
  EXPECT_EQ(Parse("a = true").value, Json("true"));  // the server converts for boolean fields
  EXPECT_EQ(Parse("a = 2025-03-01T00:00:00Z").value, Json("2025-03-01T00:00:00Z"));
  EXPECT_EQ(Parse("a = \"123\"").value, Json("123"));  // quotes force a string
  EXPECT_EQ(Parse("site = Mount St. Helens").value, Json("Mount St. Helens"));
  EXPECT_EQ(Parse("a = 99999999999999999999").value.type(), Json::value_t::number_float);
}

TEST(ExportctlFilterTest, InTakesCommaSeparatedTypedValues) {
  const FilterArg arg = Parse("study in island-arcs, rift ,3");
  EXPECT_EQ(arg.op, "in");
  EXPECT_EQ(arg.value, Json::array({"island-arcs", "rift", 3}));
  EXPECT_EQ(Parse("id in 7").value, Json::array({7}));
}

TEST(ExportctlFilterTest, PrefixIsAlwaysAString) {
  const FilterArg arg = Parse("site prefix 12");
  EXPECT_EQ(arg.op, "prefix");
  EXPECT_EQ(arg.value, Json("12"));
}

TEST(ExportctlFilterTest, NullAndNotNullTakeNoValue) {
  FilterArg arg = Parse("FeO null");
  EXPECT_EQ(arg.op, "null");
  EXPECT_EQ(arg.value, Json(true));
  arg = Parse("FeO not-null");
  EXPECT_EQ(arg.op, "null");
  EXPECT_EQ(arg.value, Json(false));
}

TEST(ExportctlFilterTest, RefusesWhatDoesNotParse) {
  for (const std::string text :
       {"", "   ", "= 5", "depth", "depth 5", "depth ~ 5", "depth =", "depth >= ", "a null 1",
        "a not-null x", "a in 1,,2", "a in ", "a => 5", "a =< 5"}) {
    auto parsed = ParseFilterArg(text);
    EXPECT_FALSE(parsed.ok()) << "'" << text << "'";
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(parsed.status().message().find("--filter"), std::string::npos);
    }
  }
}

TEST(ExportctlFilterTest, FilterObjectAndsConditionsPerField) {
  auto object = FilterObject(
      {Parse("study = rift"), Parse("depth >= 100"), Parse("depth < 500"), Parse("FeO not-null")});
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  EXPECT_EQ(*object, Json::parse(R"({"study": "rift", "depth": {"gte": 100, "lt": 500},
                                     "FeO": {"null": false}})"));
}

TEST(ExportctlFilterTest, EqualityBesideAnotherOperatorKeepsItsName) {
  auto object = FilterObject({Parse("a = 1"), Parse("a != 2")});
  ASSERT_TRUE(object.ok());
  EXPECT_EQ(*object, Json::parse(R"({"a": {"eq": 1, "ne": 2}})"));
}

TEST(ExportctlFilterTest, TheSameOperatorTwiceOnAFieldIsRefused) {
  auto object = FilterObject({Parse("a > 1"), Parse("a gt 2")});
  ASSERT_FALSE(object.ok());
  EXPECT_EQ(object.status().code(), StatusCode::kInvalidArgument);
}

TEST(ExportctlFilterTest, NoConditionsIsAnEmptyObject) {
  auto object = FilterObject({});
  ASSERT_TRUE(object.ok());
  EXPECT_EQ(*object, Json::object());
}

}  // namespace
}  // namespace exportd::ctl
