#include "api/request_codec.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/canonical_json.h"
#include "core/request_prepare.h"
#include "core/time_format.h"
#include "tests/fakes/fake_time_zone_db.h"
#include "tests/unit/samples_dataset.h"

namespace exportd::api {
namespace {

using Params = std::multimap<std::string, std::string>;

Dataset Samples() { return testing_support::SamplesDataset(); }

const TimeZoneDb& TimeZones() {
  static const fakes::FakeTimeZoneDb time_zones;
  return time_zones;
}

// Parse, then (for dataset "samples") prepare as the service does (PrepareRequest).
Result<CreateExportInput> Prepare(Result<CreateExportInput> parsed) {
  if (!parsed.ok()) return parsed;
  if (parsed->request.dataset != "samples") return parsed;
  ASSIGN_OR_RETURN(parsed->request,
                   PrepareRequest(std::move(parsed->request), Samples(), TimeZones()));
  return parsed;
}
Result<CreateExportInput> FromJson(std::string_view body) {
  return Prepare(ParseCreateExportJson(body));
}
Result<CreateExportInput> FromQuery(const Params& params) {
  return Prepare(ParseCreateExportQuery(params));
}

std::string CanonicalOf(const Result<CreateExportInput>& in) {
  EXPECT_TRUE(in.ok()) << in.status().ToString() << " at " << in.status().pointer();
  return in.ok() ? CanonicalJson(in->request) : "";
}

struct BadJson {
  std::string body;
  StatusCode code;
  std::string pointer;
};

constexpr StatusCode k400 = StatusCode::kMalformed;
constexpr StatusCode k422 = StatusCode::kInvalidArgument;

TEST(RequestCodecJsonTest, RejectsHostileBodies) {
  const std::string long_tag(257, 'x');
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "[";
  std::string well_formed_deep = std::string(100, '[') + std::string(100, ']');
  std::string many_in = R"({"dataset":"samples","filter":{"id":{"in":[)";
  for (int i = 0; i < 1001; ++i) many_in += (i ? ",1" : "1");
  many_in += "]}}}";
  const std::vector<BadJson> cases = {
      // Not JSON, not an object.
      {"", k400, ""},
      {"{", k400, ""},
      {"{\"dataset\":\"samples\",}", k400, ""},
      {"[]", k400, ""},
      {"\"samples\"", k400, ""},
      {"null", k400, ""},
      {"{\"dataset\":\"samples\"} trailing", k400, ""},
      {"{\"dataset\":\"sam\xff\"}", k400, ""},
      {"{\"dataset\":\"samples\"} // comment", k400, ""},
      {"{\"dataset\": NaN}", k400, ""},
      {"{\"x\":" + deep, k400, ""},
      {"{\"dataset\":\"samples\",\"dataset\":\"other\"}", k400, "/dataset"},
      {R"({"dataset":"samples","filter":{"id":1,"id":2}})", k400, "/filter/id"},
      {R"({"dataset":"samples","notify":{"email":[],"email":[]}})", k400, "/notify/email"},
      {R"({"dataset":"samples","x":[0,{"a":1},{"a":1,"b~/":2,"b~/":3}]})", k400, "/x/2/b~0~1"},
      {R"({"dataset":"samples","x":)" + well_formed_deep + "}", k400, ""},
      // Required and wrong types.
      {"{}", k400, "/dataset"},
      {R"({"dataset":null})", k400, "/dataset"},
      {R"({"dataset":7})", k400, "/dataset"},
      {R"({"dataset":"samples","format":1})", k400, "/format"},
      {R"({"dataset":"samples","fileType":["csv"]})", k400, "/fileType"},
      {R"({"dataset":"samples","fields":"id"})", k400, "/fields"},
      {R"({"dataset":"samples","fields":["id","study",3]})", k400, "/fields/2"},
      {R"({"dataset":"samples","filter":[]})", k400, "/filter"},
      {R"({"dataset":"samples","filter":"id=1"})", k400, "/filter"},
      {R"({"dataset":"samples","filter":{"id":[1,2]}})", k400, "/filter/id"},
      {R"({"dataset":"samples","filter":{"id":{"gt":{"x":1}}}})", k400, "/filter/id/gt"},
      {R"({"dataset":"samples","filter":{"id":{"in":5}}})", k400, "/filter/id/in"},
      {R"({"dataset":"samples","filter":{"id":{"in":[1,[2]]}}})", k400, "/filter/id/in/1"},
      {R"({"dataset":"samples","filter":{"study":{"prefix":1}}})", k400, "/filter/study/prefix"},
      {R"({"dataset":"samples","filter":{"study":{"null":"yes"}}})", k400, "/filter/study/null"},
      // nlohmann refuses an overflowing number while parsing, before any pointer is known.
      {R"({"dataset":"samples","filter":{"depth_m":1e400}})", k400, ""},
      {R"({"dataset":"samples","since":1700000000})", k400, "/since"},
      {R"({"dataset":"samples","until":true})", k400, "/until"},
      {R"({"dataset":"samples","partitions":"a,b"})", k400, "/partitions"},
      {R"({"dataset":"samples","partitions":["a",null]})", k400, "/partitions/1"},
      {R"({"dataset":"samples","max_rows_per_file":"1000"})", k400, "/max_rows_per_file"},
      {R"({"dataset":"samples","max_rows_per_file":1000.0})", k400, "/max_rows_per_file"},
      {R"({"dataset":"samples","max_rows_per_file":true})", k400, "/max_rows_per_file"},
      {R"({"dataset":"samples","compression":false})", k400, "/compression"},
      {R"({"dataset":"samples","tag":5})", k400, "/tag"},
      {R"({"dataset":"samples","tag":")" + long_tag + "\"}", k422, "/tag"},
      {R"({"dataset":"samples","notify":"http://x"})", k400, "/notify"},
      {R"({"dataset":"samples","notify":{"webhook":1}})", k400, "/notify/webhook"},
      {R"({"dataset":"samples","notify":{"email":"a@b.c"}})", k400, "/notify/email"},
      {R"({"dataset":"samples","notify":{"email":["a@b.c",1]}})", k400, "/notify/email/1"},
      // Well-formed but meaningless.
      {R"({"dataset":"samples","fromat":"csv"})", k422, "/fromat"},
      {R"({"dataset":"samples","zeta":1,"alpha":2})", k422, "/alpha"},
      {R"({"dataset":"samples","a/b":1})", k422, "/a~1b"},
      {R"({"dataset":"samples","format":"xml"})", k422, "/format"},
      {R"({"dataset":"samples","format":"CSV"})", k422, "/format"},
      {R"({"dataset":"samples","fileType":"parquet"})", k422, "/fileType"},
      {R"({"dataset":"samples","format":"csv","fileType":"json"})", k422, "/fileType"},
      {R"({"dataset":"samples","compression":"zstd"})", k422, "/compression"},
      {R"({"dataset":"samples","max_rows_per_file":0})", k422, "/max_rows_per_file"},
      {R"({"dataset":"samples","max_rows_per_file":-5})", k422, "/max_rows_per_file"},
      {R"({"dataset":"samples","max_rows_per_file":80001})", k422, "/max_rows_per_file"},
      {R"({"dataset":"samples","max_rows_per_file":18446744073709551615})", k422,
       "/max_rows_per_file"},
      {R"({"dataset":"samples","since":"yesterday"})", k422, "/since"},
      {R"({"dataset":"samples","until":"2024-02-30T00:00:00Z"})", k422, "/until"},
      {R"({"dataset":"samples","since":"2024-02-01T00:00:00Z","until":"2024-01-01T00:00:00Z"})",
       k422, "/until"},
      {R"({"dataset":"samples","fields":[]})", k422, "/fields"},
      {R"({"dataset":"samples","partitions":[]})", k422, "/partitions"},
      {R"({"dataset":"samples","fields":["id","nope"]})", k422, "/fields/1"},
      {R"({"dataset":"samples","fields":["id","study","id"]})", k422, "/fields/2"},
      {R"({"dataset":"samples","filter":{"nope":1}})", k422, "/filter/nope"},
      {R"({"dataset":"samples","filter":{"x/y~z":1}})", k422, "/filter/x~1y~0z"},
      {R"({"dataset":"samples","filter":{"id":{"like":"1%"}}})", k422, "/filter/id/like"},
      {R"({"dataset":"samples","filter":{"id":{"a/b":1}}})", k422, "/filter/id/a~1b"},
      {R"({"dataset":"samples","filter":{"id":{}}})", k422, "/filter/id"},
      {R"({"dataset":"samples","filter":{"id":{"in":[]}}})", k422, "/filter/id/in"},
      {many_in, k422, "/filter/id/in"},
      {R"({"dataset":"samples","filter":{"id":{"in":[1,null]}}})", k422, "/filter/id/in/1"},
      {R"({"dataset":"samples","filter":{"id":{"prefix":"1"}}})", k422, "/filter/id/prefix"},
      {R"({"dataset":"samples","filter":{"verified":{"gt":true}}})", k422, "/filter/verified/gt"},
      {R"({"dataset":"samples","filter":{"verified":1}})", k422, "/filter/verified"},
      {R"({"dataset":"samples","filter":{"id":"five"}})", k422, "/filter/id"},
      {R"({"dataset":"samples","filter":{"id":true}})", k422, "/filter/id"},
      {R"({"dataset":"samples","filter":{"study":5}})", k422, "/filter/study"},
      {R"({"dataset":"samples","filter":{"collected_at":{"gt":1700000000}}})", k422,
       "/filter/collected_at/gt"},
      {R"({"dataset":"samples","filter":{"collected_at":{"gt":"2024-01-01"}}})", k422,
       "/filter/collected_at/gt"},
      {R"({"dataset":"samples","filter":{"depth_m":{"lt":null}}})", k422, "/filter/depth_m/lt"},
      {R"({"dataset":"samples","notify":{"webhook":"ftp://x.org/h"}})", k422, "/notify/webhook"},
      {R"({"dataset":"samples","notify":{"webhook":"/relative"}})", k422, "/notify/webhook"},
      {R"({"dataset":"samples","notify":{"webhook":"http://"}})", k422, "/notify/webhook"},
      {R"({"dataset":"samples","notify":{"webhook":"http://u:p@evil.org/"}})", k422,
       "/notify/webhook"},
      {R"({"dataset":"samples","notify":{"webhook":"http://x.org:99999/"}})", k422,
       "/notify/webhook"},
      {R"({"dataset":"samples","notify":{"webhook":"http://x.org/a b"}})", k422, "/notify/webhook"},
      {R"({"dataset":"samples","notify":{"email":["a@b.c","nobody"]}})", k422, "/notify/email/1"},
      {R"({"dataset":"samples","notify":{"email":["a@b@c"]}})", k422, "/notify/email/0"},
      {R"({"dataset":"samples","notify":{"email":["a@b.c\r\nBcc: x@y.z"]}})", k422,
       "/notify/email/0"},
      {R"({"dataset":"samples","notify":{"email":["a b@c.d"]}})", k422, "/notify/email/0"},
      {R"({"dataset":"samples","notify":{"email":["a@b.c, d@e.f"]}})", k422, "/notify/email/0"},
      {R"({"dataset":"samples","notify":{"sms":"+1"}})", k422, "/notify/sms"},
  };
  for (const BadJson& c : cases) {
    SCOPED_TRACE(c.body.substr(0, 120));
    auto r = FromJson(c.body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code) << r.status().ToString();
    EXPECT_EQ(r.status().pointer(), c.pointer) << r.status().ToString();
  }
}

TEST(RequestCodecJsonTest, AcceptsAFullBody) {
  auto in = FromJson(R"({
    "dataset": "samples", "format": "ndjson", "fields": ["id", "study", "depth_m"],
    "filter": {"rock_type": "basalt", "depth_m": {"gt": 5, "lte": 12.5},
               "study": {"in": ["b", "a"]}, "verified": {"null": false},
               "geo.lat": {"gte": -10}, "extra": null},
    "since": "2024-01-01T00:00:00Z", "until": "2024-06-01T00:00:00+02:00",
    "partitions": ["s2", "s1"], "max_rows_per_file": 1000, "compression": "gzip",
    "tag": "nightly", "notify": {"webhook": "https://hooks.example.org/x?y=1",
                                 "email": ["ops@example.org"]}})");
  ASSERT_TRUE(in.ok()) << in.status().ToString() << " " << in.status().pointer();
  EXPECT_EQ(in->tag, "nightly");
  EXPECT_EQ(in->notify.webhook, "https://hooks.example.org/x?y=1");
  EXPECT_EQ(in->notify.email, std::vector<std::string>{"ops@example.org"});
  EXPECT_EQ(in->request.format, Format::kNdjson);
  EXPECT_EQ(in->request.compression, Compression::kGzip);
  EXPECT_EQ(in->request.max_rows_per_file, 1000);
  EXPECT_EQ(in->request.partitions, (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(ToUnixMillis(*in->request.until), ToUnixMillis(*ParseRfc3339("2024-05-31T22:00:00Z")));
  EXPECT_EQ(CanonicalJson(in->request),
            "{\"compression\":\"gzip\",\"dataset\":\"samples\","
            "\"fields\":[\"id\",\"study\",\"depth_m\"],\"filter\":["
            "{\"field\":\"depth_m\",\"op\":\"gt\",\"value\":5.0},"
            "{\"field\":\"depth_m\",\"op\":\"lte\",\"value\":12.5},"
            "{\"field\":\"extra\",\"op\":\"null\",\"value\":true},"
            "{\"field\":\"geo.lat\",\"op\":\"gte\",\"value\":-10.0},"
            "{\"field\":\"rock_type\",\"op\":\"eq\",\"value\":\"basalt\"},"
            "{\"field\":\"study\",\"op\":\"in\",\"values\":[\"a\",\"b\"]},"
            "{\"field\":\"verified\",\"op\":\"null\",\"value\":false}],"
            "\"format\":\"ndjson\",\"max_rows_per_file\":1000,\"partitions\":[\"s1\",\"s2\"],"
            "\"since\":\"2024-01-01T00:00:00.000Z\",\"until\":\"2024-05-31T22:00:00.000Z\"}");
}

TEST(RequestCodecJsonTest, NullOptionalMembersAreAbsent) {
  auto in = FromJson(R"({"dataset":"samples","format":null,"fields":null,"filter":null,
                         "since":null,"until":null,"partitions":null,"max_rows_per_file":null,
                         "compression":null,"tag":null,"notify":{"webhook":null,"email":null}})");
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->request, ExportRequest{.dataset = "samples"});
  EXPECT_EQ(in->tag, std::nullopt);
  EXPECT_EQ(in->notify, Notify{});
}

TEST(RequestCodecJsonTest, NumbersKeepTheirKind) {
  auto in = ParseCreateExportJson(
      R"({"dataset":"x","filter":{"a":9223372036854775807,"b":9223372036854775808,
          "c":-9223372036854775808,"d":1.5,"e":1e2,"f":"1","g":true,"h":null,
          "i":123456789012345678901234567890}})");
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  std::map<std::string, FilterValue> by_field;
  for (const Condition& c : in->request.filter) by_field[c.field] = c.values.at(0);
  EXPECT_EQ(by_field["a"], FilterValue(int64_t{9223372036854775807}));
  EXPECT_EQ(by_field["b"], FilterValue(9223372036854775808.0));
  EXPECT_EQ(by_field["c"], FilterValue(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(by_field["d"], FilterValue(1.5));
  EXPECT_EQ(by_field["e"], FilterValue(100.0));
  EXPECT_EQ(by_field["f"], FilterValue(std::string("1")));
  EXPECT_EQ(by_field["g"], FilterValue(true));
  EXPECT_EQ(by_field["h"], FilterValue(std::monostate{}));
  EXPECT_EQ(by_field["i"], FilterValue(123456789012345678901234567890.0));
}

TEST(RequestCodecJsonTest, TagLimitCountsCharactersNotBytes) {
  std::string tag;
  for (int i = 0; i < 256; ++i) tag += "\xc3\xa9";  // 256 x U+00E9, 512 bytes
  auto ok = ParseCreateExportJson(R"({"dataset":"samples","tag":")" + tag + "\"}");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->tag, tag);
  auto too_long = ParseCreateExportJson(R"({"dataset":"samples","tag":")" + tag + "x\"}");
  EXPECT_EQ(too_long.status().code(), StatusCode::kInvalidArgument);
}

TEST(RequestCodecJsonTest, FileTypeIsAnAliasOfFormat) {
  auto alias = ParseCreateExportJson(R"({"dataset":"samples","fileType":"tsv"})");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->request.format, Format::kTsv);
  auto both = ParseCreateExportJson(R"({"dataset":"samples","fileType":"tsv","format":"tsv"})");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->request.format, Format::kTsv);
}

TEST(RequestCodecJsonTest, SeveralOperatorsOnOneFieldAreAnded) {
  auto in = ParseCreateExportJson(
      R"({"dataset":"samples","filter":{"id":{"gt":1,"lt":9,"ne":5,"eq":4}}})");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->request.filter.size(), 4u);
}

TEST(RequestCodecJsonTest, MemberOrderWhitespaceAndAliasesDoNotChangeTheCanonicalText) {
  const std::string a = CanonicalOf(FromJson(
      R"({"dataset":"samples","format":"json","filter":{"study":{"in":["x","y"]},"id":{"gt":3}},
          "partitions":["p2","p1"],"fields":["id","study"]})"));
  const std::string b = CanonicalOf(FromJson(
      "{\n  \"fields\" : [ \"id\" , \"study\" ],\n  \"partitions\": [\"p1\", \"p2\", \"p1\"],\n"
      "  \"filter\": { \"id\": {\"gt\": 3.0}, \"study\": {\"in\": [\"y\", \"x\", \"y\"]} },\n"
      "  \"fileType\": \"json\", \"dataset\": \"samples\", \"tag\": \"other\",\n"
      "  \"notify\": {\"email\": [\"a@b.c\"]}, \"max_rows_per_file\": 80000,\n"
      "  \"compression\": \"none\"\n}"));
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a.empty());
}

// ---- query form ----

struct BadQuery {
  const char* name;
  Params params;
  StatusCode code;
  std::string pointer;
};

TEST(RequestCodecQueryTest, RejectsHostileParameters) {
  std::string many(1001 * 2 - 1, ',');
  for (size_t i = 0; i < many.size(); i += 2) many[i] = '1';
  const std::vector<BadQuery> cases = {
      {"no dataset", {{"format", "csv"}}, k400, "/dataset"},
      {"dataset twice", {{"dataset", "samples"}, {"dataset", "samples"}}, k400, "/dataset"},
      {"format twice",
       {{"dataset", "samples"}, {"format", "csv"}, {"format", "csv"}},
       k400,
       "/format"},
      {"filter twice",
       {{"dataset", "samples"}, {"filter.id.gt", "1"}, {"filter.id.gt", "2"}},
       k400,
       "/filter/id/gt"},
      {"tag twice", {{"dataset", "samples"}, {"tag", "a"}, {"tag", "b"}}, k400, "/tag"},
      {"max rows not a number",
       {{"dataset", "samples"}, {"max_rows_per_file", "ten"}},
       k400,
       "/max_rows_per_file"},
      {"max rows with junk",
       {{"dataset", "samples"}, {"max_rows_per_file", "10x"}},
       k400,
       "/max_rows_per_file"},
      {"max rows empty",
       {{"dataset", "samples"}, {"max_rows_per_file", ""}},
       k400,
       "/max_rows_per_file"},
      {"null op not a bool",
       {{"dataset", "samples"}, {"filter.study.null", "1"}},
       k400,
       "/filter/study/null"},
      {"invalid utf-8", {{"dataset", "samples"}, {"filter.study", "a\xc3"}}, k400, "/filter/study"},
      {"tag too long", {{"dataset", "samples"}, {"tag", std::string(257, 't')}}, k422, "/tag"},
      {"unknown parameter", {{"dataset", "samples"}, {"limit", "5"}}, k422, "/limit"},
      {"bare filter", {{"dataset", "samples"}, {"filter", "x"}}, k422, "/filter"},
      {"bad format", {{"dataset", "samples"}, {"format", "xlsx"}}, k422, "/format"},
      {"format and fileType disagree",
       {{"dataset", "samples"}, {"format", "csv"}, {"fileType", "tsv"}},
       k422,
       "/fileType"},
      {"bad compression",
       {{"dataset", "samples"}, {"compression", "brotli"}},
       k422,
       "/compression"},
      {"max rows out of range",
       {{"dataset", "samples"}, {"max_rows_per_file", "80001"}},
       k422,
       "/max_rows_per_file"},
      {"max rows huge",
       {{"dataset", "samples"}, {"max_rows_per_file", "99999999999999999999"}},
       k422,
       "/max_rows_per_file"},
      {"max rows negative",
       {{"dataset", "samples"}, {"max_rows_per_file", "-1"}},
       k422,
       "/max_rows_per_file"},
      {"bad since", {{"dataset", "samples"}, {"since", "2024-01-01"}}, k422, "/since"},
      {"empty until", {{"dataset", "samples"}, {"until", ""}}, k422, "/until"},
      {"unknown field", {{"dataset", "samples"}, {"fields", "id,nope"}}, k422, "/fields/1"},
      {"trailing comma in fields", {{"dataset", "samples"}, {"fields", "id,"}}, k422, "/fields/1"},
      {"duplicate across repeats",
       {{"dataset", "samples"}, {"fields", "id"}, {"fields", "id"}},
       k422,
       "/fields/1"},
      {"unknown filter field",
       {{"dataset", "samples"}, {"filter.nope", "1"}},
       k422,
       "/filter/nope"},
      {"unknown op reads as a dotted field",
       {{"dataset", "samples"}, {"filter.id.like", "1"}},
       k422,
       "/filter/id.like"},
      {"integer that is not", {{"dataset", "samples"}, {"filter.id", "abc"}}, k422, "/filter/id"},
      {"integer with plus",
       {{"dataset", "samples"}, {"filter.id.gt", "+5"}},
       k422,
       "/filter/id/gt"},
      {"real that is not",
       {{"dataset", "samples"}, {"filter.depth_m.lt", "deep"}},
       k422,
       "/filter/depth_m/lt"},
      {"real infinity",
       {{"dataset", "samples"}, {"filter.depth_m.lt", "inf"}},
       k422,
       "/filter/depth_m/lt"},
      {"real nan", {{"dataset", "samples"}, {"filter.depth_m", "nan"}}, k422, "/filter/depth_m"},
      {"boolean that is not",
       {{"dataset", "samples"}, {"filter.verified", "yes"}},
       k422,
       "/filter/verified"},
      {"timestamp that is not",
       {{"dataset", "samples"}, {"filter.collected_at.gte", "today"}},
       k422,
       "/filter/collected_at/gte"},
      {"bad in element",
       {{"dataset", "samples"}, {"filter.id.in", "1,x,3"}},
       k422,
       "/filter/id/in/1"},
      {"too many in values",
       {{"dataset", "samples"}, {"filter.id.in", many}},
       k422,
       "/filter/id/in"},
      {"prefix on integer",
       {{"dataset", "samples"}, {"filter.id.prefix", "1"}},
       k422,
       "/filter/id/prefix"},
      {"gt on boolean",
       {{"dataset", "samples"}, {"filter.verified.gt", "true"}},
       k422,
       "/filter/verified/gt"},
      {"bad webhook",
       {{"dataset", "samples"}, {"notify.webhook", "javascript:alert(1)"}},
       k422,
       "/notify/webhook"},
      {"bad email",
       {{"dataset", "samples"}, {"notify.email", "ops@example.org,x"}},
       k422,
       "/notify/email/1"},
      {"unknown notify member", {{"dataset", "samples"}, {"notify.sms", "1"}}, k422, "/notify.sms"},
      {"until not after since",
       {{"dataset", "samples"},
        {"since", "2024-01-01T00:00:00Z"},
        {"until", "2024-01-01T00:00:00Z"}},
       k422,
       "/until"},
  };
  for (const BadQuery& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = FromQuery(c.params);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code) << r.status().ToString();
    EXPECT_EQ(r.status().pointer(), c.pointer) << r.status().ToString();
  }
}

TEST(RequestCodecQueryTest, MatchesTheEquivalentJsonBody) {
  const Params params = {{"dataset", "samples"},
                         {"fileType", "json"},
                         {"filter.rock_type", "basalt"},
                         {"filter.depth_m.gt", "5"},
                         {"filter.id.in", "3,1,2"},
                         {"filter.verified", "true"},
                         {"filter.study.null", "false"},
                         {"filter.geo.lat.lt", "45.5"},
                         {"filter.collected_at.gte", "2024-01-01T01:00:00+01:00"},
                         {"fields", "id,study"},
                         {"fields", "depth_m"},
                         {"partitions", "b,a"},
                         {"partitions", "c"},
                         {"since", "2024-01-01T00:00:00Z"},
                         {"until", "2024-02-01T00:00:00Z"},
                         {"max_rows_per_file", "1000"},
                         {"compression", "gzip"},
                         {"tag", "x"},
                         {"notify.webhook", "http://127.0.0.1:9000/hook"},
                         {"notify.email", "a@b.c,d@e.f"}};
  auto query = FromQuery(params);
  auto json = FromJson(R"({
    "dataset": "samples", "format": "json", "fields": ["id", "study", "depth_m"],
    "filter": {"rock_type": "basalt", "depth_m": {"gt": 5.0}, "id": {"in": [1, 2, 3]},
               "verified": true, "study": {"null": false}, "geo.lat": {"lt": 45.5},
               "collected_at": {"gte": "2024-01-01T00:00:00Z"}},
    "partitions": ["a", "b", "c"], "since": "2024-01-01T00:00:00Z",
    "until": "2024-02-01T00:00:00Z", "max_rows_per_file": 1000, "compression": "gzip",
    "tag": "x", "notify": {"webhook": "http://127.0.0.1:9000/hook", "email": ["a@b.c", "d@e.f"]}})");
  ASSERT_TRUE(query.ok()) << query.status().ToString() << " " << query.status().pointer();
  ASSERT_TRUE(json.ok()) << json.status().ToString() << " " << json.status().pointer();
  EXPECT_EQ(CanonicalJson(query->request), CanonicalJson(json->request));
  EXPECT_EQ(*query, *json);
}

TEST(RequestCodecQueryTest, DottedFieldNamesAndOperatorSuffixes) {
  auto in = ParseCreateExportQuery({{"dataset", "samples"},
                                    {"filter.geo.lat", "1"},
                                    {"filter.geo.lat.gte", "0"},
                                    {"filter.a.b.c", "2"},
                                    {"filter.gt", "3"},
                                    {"filter.x.eq", "4"}});
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  std::vector<std::pair<std::string, FilterOp>> got;
  for (const Condition& c : in->request.filter) got.emplace_back(c.field, c.op);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, FilterOp>>{{"a.b.c", FilterOp::kEq},
                                                                {"geo.lat", FilterOp::kEq},
                                                                {"geo.lat", FilterOp::kGte},
                                                                {"gt", FilterOp::kEq},
                                                                {"x", FilterOp::kEq}}));
}

TEST(RequestCodecQueryTest, ValuesStayStringsUntilCoerced) {
  auto in = ParseCreateExportQuery(
      {{"dataset", "samples"}, {"filter.id", "5"}, {"filter.study.in", "a,,b"}});
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->request.filter[0].values, std::vector<FilterValue>{std::string("5")});
  EXPECT_EQ(in->request.filter[1].values,
            (std::vector<FilterValue>{std::string("a"), std::string(""), std::string("b")}));
}

TEST(DecodeAndPrepareTest, InValuesAreEachConvertedAndCanonicalized) {
  auto in = FromQuery({{"dataset", "samples"}, {"filter.depth_m.in", "2,1.5,2.0,1.5"}});
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  ASSERT_EQ(in->request.filter.size(), 1u);
  EXPECT_EQ(in->request.filter[0].values, (std::vector<FilterValue>{1.5, 2.0}));
}

TEST(DecodeAndPrepareTest, JsonStringsThatParseAreAccepted) {
  const std::string a = CanonicalOf(FromJson(R"({"dataset":"samples","filter":{"id":"5"}})"));
  const std::string b = CanonicalOf(FromJson(R"({"dataset":"samples","filter":{"id":5}})"));
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace exportd::api

namespace exportd::api {
namespace {

TEST(RequestCodecRetentionTest, SecondsOrDurationInBothForms) {
  using std::chrono::seconds;
  struct Case {
    std::string json;   // the value of "retention" in a JSON body
    std::string query;  // the same in the query form
    seconds expected;
  };
  for (const Case& c : {Case{"3600", "3600", seconds(3600)}, Case{"\"90m\"", "90m", seconds(5400)},
                        Case{"\"7d\"", "7d", seconds(604800)},
                        Case{"\"36h\"", "36h", seconds(129600)}, Case{"1", "1s", seconds(1)}}) {
    Result<CreateExportInput> json =
        ParseCreateExportJson(R"({"dataset": "samples", "retention": )" + c.json + "}");
    ASSERT_TRUE(json.ok()) << c.json << ": " << json.status().ToString();
    EXPECT_EQ(json->retention, c.expected) << c.json;
    Result<CreateExportInput> query =
        ParseCreateExportQuery({{"dataset", "samples"}, {"retention", c.query}});
    ASSERT_TRUE(query.ok()) << c.query << ": " << query.status().ToString();
    EXPECT_EQ(query->retention, c.expected) << c.query;
  }
  Result<CreateExportInput> absent = ParseCreateExportJson(R"({"dataset": "samples"})");
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent->retention, std::nullopt);
  Result<CreateExportInput> null =
      ParseCreateExportJson(R"({"dataset": "samples", "retention": null})");
  ASSERT_TRUE(null.ok());
  EXPECT_EQ(null->retention, std::nullopt);
}

TEST(RequestCodecRetentionTest, BadValuesPointAtRetention) {
  // Meaningless values: 422 (kInvalidArgument); wrong JSON types: 400 (kMalformed).
  for (const char* value : {"0", "-1", "\"0d\"", "\"soon\"", "\"1.5h\"", "\"-3s\"", "\"\"",
                            "\"36501d\"", "99999999999999999999"}) {
    Result<CreateExportInput> in =
        ParseCreateExportJson(std::string(R"({"dataset": "samples", "retention": )") + value + "}");
    ASSERT_FALSE(in.ok()) << value;
    EXPECT_EQ(in.status().pointer(), "/retention") << value;
    if (std::string_view(value) != "99999999999999999999") {  // a JSON real to nlohmann
      EXPECT_EQ(in.status().code(), StatusCode::kInvalidArgument) << value;
    }
  }
  for (const char* value : {"1.5", "true", "[1]", "{}"}) {
    Result<CreateExportInput> in =
        ParseCreateExportJson(std::string(R"({"dataset": "samples", "retention": )") + value + "}");
    ASSERT_FALSE(in.ok()) << value;
    EXPECT_EQ(in.status().code(), StatusCode::kMalformed) << value;
    EXPECT_EQ(in.status().pointer(), "/retention") << value;
  }
  for (const char* value : {"0", "-1", "soon", "1.5h", "", "7 d", "36501d"}) {
    Result<CreateExportInput> in =
        ParseCreateExportQuery({{"dataset", "samples"}, {"retention", value}});
    ASSERT_FALSE(in.ok()) << value;
    EXPECT_EQ(in.status().code(), StatusCode::kInvalidArgument) << value;
    EXPECT_EQ(in.status().pointer(), "/retention") << value;
  }
  Result<CreateExportInput> twice =
      ParseCreateExportQuery({{"dataset", "samples"}, {"retention", "1d"}, {"retention", "2d"}});
  EXPECT_EQ(twice.status().code(), StatusCode::kMalformed);
}

TEST(RequestCodecEscapeFormulasTest, TrueFalseOrAbsentInBothForms) {
  for (const auto& [json, query, expected] :
       {std::tuple<const char*, const char*, std::optional<bool>>{"true", "true", true},
        {"false", "false", false}}) {
    Result<CreateExportInput> from_json =
        FromJson(std::string(R"({"dataset": "samples", "escape_formulas": )") + json + "}");
    ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();
    EXPECT_EQ(from_json->escape_formulas, expected) << json;
    Result<CreateExportInput> from_query =
        FromQuery({{"dataset", "samples"}, {"escape_formulas", query}});
    ASSERT_TRUE(from_query.ok()) << from_query.status().ToString();
    EXPECT_EQ(from_query->escape_formulas, expected) << query;
    EXPECT_EQ(*from_json, *from_query);
  }
  // Absent or null: the deployment decides (ExportService), so nothing is set here.
  for (const char* body :
       {R"({"dataset": "samples"})", R"({"dataset": "samples", "escape_formulas": null})"}) {
    Result<CreateExportInput> in = FromJson(body);
    ASSERT_TRUE(in.ok()) << in.status().ToString();
    EXPECT_EQ(in->escape_formulas, std::nullopt) << body;
    EXPECT_FALSE(in->request.escape_formulas) << body;
  }
  Result<CreateExportInput> absent = FromQuery({{"dataset", "samples"}});
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent->escape_formulas, std::nullopt);
}

TEST(RequestCodecEscapeFormulasTest, AnythingButABooleanIs400AtItsPointer) {
  for (const char* value : {"1", "0", "\"true\"", "[]", "{}"}) {
    Result<CreateExportInput> in = ParseCreateExportJson(
        std::string(R"({"dataset": "samples", "escape_formulas": )") + value + "}");
    ASSERT_FALSE(in.ok()) << value;
    EXPECT_EQ(in.status().code(), StatusCode::kMalformed) << value;
    EXPECT_EQ(in.status().pointer(), "/escape_formulas") << value;
  }
  for (const char* value : {"1", "yes", "TRUE", ""}) {
    Result<CreateExportInput> in =
        ParseCreateExportQuery({{"dataset", "samples"}, {"escape_formulas", value}});
    ASSERT_FALSE(in.ok()) << value;
    EXPECT_EQ(in.status().code(), StatusCode::kMalformed) << value;
    EXPECT_EQ(in.status().pointer(), "/escape_formulas") << value;
  }
  Result<CreateExportInput> twice = ParseCreateExportQuery(
      {{"dataset", "samples"}, {"escape_formulas", "true"}, {"escape_formulas", "true"}});
  EXPECT_EQ(twice.status().code(), StatusCode::kMalformed);
}

TEST(RequestCodecRecurringTest, EveryNewFieldInBothFormsGivesOneCanonicalRequest) {
  Result<CreateExportInput> from_json = FromJson(
      R"({"dataset": "samples", "incremental": true, "export_type": "hourly",
          "time_zone": "America/Los_Angeles", "split_by": "partition"})");
  Result<CreateExportInput> from_query = FromQuery({{"dataset", "samples"},
                                                    {"incremental", "true"},
                                                    {"export_type", "hourly"},
                                                    {"time_zone", "America/Los_Angeles"},
                                                    {"split_by", "partition"}});
  ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();
  ASSERT_TRUE(from_query.ok()) << from_query.status().ToString();
  EXPECT_TRUE(from_json->request.incremental);
  EXPECT_EQ(from_json->request.export_type, ExportType::kHourly);
  EXPECT_EQ(from_json->request.time_zone, "America/Los_Angeles");
  EXPECT_EQ(from_json->request.split_by, SplitBy::kPartition);
  EXPECT_EQ(CanonicalOf(from_json), CanonicalOf(from_query));

  Result<CreateExportInput> ids_json =
      FromJson(R"({"dataset": "samples", "record_ids": [3, 1, "2", 3]})");
  Result<CreateExportInput> ids_query =
      FromQuery({{"dataset", "samples"}, {"record_ids", "3,1"}, {"record_ids", "2,3"}});
  ASSERT_TRUE(ids_json.ok()) << ids_json.status().ToString();
  ASSERT_TRUE(ids_query.ok()) << ids_query.status().ToString();
  EXPECT_EQ(ids_json->request.record_ids,
            (std::vector<FilterValue>{int64_t{1}, int64_t{2}, int64_t{3}}));
  EXPECT_EQ(CanonicalOf(ids_json), CanonicalOf(ids_query));

  Result<CreateExportInput> defaults =
      FromJson(R"({"dataset": "samples", "incremental": false, "export_type": "instant",
                   "time_zone": null, "record_ids": null, "split_by": null})");
  EXPECT_EQ(CanonicalOf(defaults), CanonicalOf(FromJson(R"({"dataset": "samples"})")));
}

TEST(RequestCodecRecurringTest, BadValuesAre400Or422AtTheirPointer) {
  std::string too_many = R"({"dataset":"samples","record_ids":[)";
  for (size_t i = 0; i <= kMaxRecordIds; ++i) too_many += (i ? ",1" : "1");
  too_many += "]}";
  const std::vector<BadJson> cases = {
      {R"({"dataset":"samples","incremental":"yes"})", k400, "/incremental"},
      {R"({"dataset":"samples","incremental":1})", k400, "/incremental"},
      {R"({"dataset":"samples","export_type":"weekly"})", k422, "/export_type"},
      {R"({"dataset":"samples","export_type":3})", k400, "/export_type"},
      {R"({"dataset":"samples","time_zone":3})", k400, "/time_zone"},
      {R"({"dataset":"samples","time_zone":"Mars/Base"})", k422, "/time_zone"},
      {R"({"dataset":"samples","split_by":"study"})", k422, "/split_by"},
      {R"({"dataset":"samples","record_ids":[]})", k422, "/record_ids"},
      {R"({"dataset":"samples","record_ids":"1,2"})", k400, "/record_ids"},
      {R"({"dataset":"samples","record_ids":[1,true]})", k400, "/record_ids/1"},
      {R"({"dataset":"samples","record_ids":[1,2.5]})", k400, "/record_ids/1"},
      {R"({"dataset":"samples","record_ids":[1,"x"]})", k422, "/record_ids/1"},
      {R"({"dataset":"samples","record_ids":[1],"incremental":true})", k422, "/record_ids"},
      {R"({"dataset":"samples","record_ids":[1],"since":"2024-01-01T00:00:00Z"})", k422,
       "/record_ids"},
      {R"({"dataset":"samples","record_ids":[1],"until":"2024-01-01T00:00:00Z"})", k422,
       "/record_ids"},
      {too_many, k422, "/record_ids"},
  };
  for (const BadJson& c : cases) {
    Result<CreateExportInput> in = FromJson(c.body);
    ASSERT_FALSE(in.ok()) << c.body.substr(0, 120);
    EXPECT_EQ(in.status().code(), c.code)
        << c.body.substr(0, 120) << ": " << in.status().ToString();
    EXPECT_EQ(in.status().pointer(), c.pointer) << c.body.substr(0, 120);
  }
  const std::vector<std::tuple<Params, StatusCode, std::string>> query_cases = {
      {{{"dataset", "samples"}, {"incremental", "1"}}, k400, "/incremental"},
      {{{"dataset", "samples"}, {"incremental", "true"}, {"incremental", "true"}},
       k400,
       "/incremental"},
      {{{"dataset", "samples"}, {"export_type", "weekly"}}, k422, "/export_type"},
      {{{"dataset", "samples"}, {"split_by", "x"}}, k422, "/split_by"},
      {{{"dataset", "samples"}, {"time_zone", "Nowhere"}}, k422, "/time_zone"},
      {{{"dataset", "samples"}, {"record_ids", "1,x"}}, k422, "/record_ids/1"},
      {{{"dataset", "samples"}, {"record_ids", "1"}, {"incremental", "true"}}, k422, "/record_ids"},
  };
  for (const auto& [params, code, pointer] : query_cases) {
    Result<CreateExportInput> in = FromQuery(params);
    ASSERT_FALSE(in.ok()) << pointer;
    EXPECT_EQ(in.status().code(), code) << pointer << ": " << in.status().ToString();
    EXPECT_EQ(in.status().pointer(), pointer);
  }
}

TEST(RequestCodecRecurringTest, ParseFilterJsonReadsTheFilterSyntaxAlone) {
  Result<std::vector<Condition>> filter =
      ParseFilterJson(nlohmann::json::parse(R"({"study": {"ne": "no_sharing"}, "id": 3})"));
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  ASSERT_EQ(filter->size(), 2u);
  Result<std::vector<Condition>> bad =
      ParseFilterJson(nlohmann::json::parse(R"({"id": {"like": 1}})"));
  EXPECT_EQ(bad.status().code(), k422);
  EXPECT_EQ(bad.status().pointer(), "/filter/id/like");
  EXPECT_EQ(ParseFilterJson(nlohmann::json::array()).status().code(), k400);
}

}  // namespace
}  // namespace exportd::api
