// exportctl: command-line arguments -> the POST /v1/exports body; connection settings by
// precedence and the profile file's rules.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "server/exportctl/api_client.h"
#include "server/exportctl/commands.h"
#include "server/exportctl/connection.h"
#include "server/exportctl/export_args.h"
#include "tests/fakes/temp_dir.h"

namespace exportd::ctl {
namespace {

using Json = nlohmann::json;

TEST(ExportctlRequestTest, OnlyTheDatasetWhenNothingElseIsGiven) {
  ExportArgs args;
  args.dataset = "items";
  auto body = ExportRequestBody(args);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, Json({{"dataset", "items"}}));
}

TEST(ExportctlRequestTest, EveryFlagMapsToItsField) {
  ExportArgs args;
  args.dataset = "samples";
  args.format = "ndjson";
  args.fields = {"id", "study"};
  args.filters = {"study in rift,arc", "depth_m >= 100"};
  args.since = "2025-01-01T00:00:00Z";
  args.until = "2025-02-01T00:00:00Z";
  args.partitions = {"rift"};
  args.gzip = true;
  args.max_rows_per_file = 5000;
  args.tag = "nightly";
  args.incremental = true;
  args.export_type = "daily";
  auto body = ExportRequestBody(args);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, Json::parse(R"({
    "dataset": "samples", "format": "ndjson", "fields": ["id", "study"],
    "filter": {"study": {"in": ["rift", "arc"]}, "depth_m": {"gte": 100}},
    "since": "2025-01-01T00:00:00Z", "until": "2025-02-01T00:00:00Z", "partitions": ["rift"],
    "compression": "gzip", "max_rows_per_file": 5000, "tag": "nightly", "incremental": true,
    "export_type": "daily"})"));
}

TEST(ExportctlRequestTest, ABadFilterIsAUsageError) {
  ExportArgs args;
  args.dataset = "items";
  args.filters = {"qty ~ 3"};
  auto body = ExportRequestBody(args);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(ExitCode(body.status()), kExitUsage);
}

TEST(ExportctlRequestTest, ExitCodesFollowTheStatus) {
  EXPECT_EQ(ExitCode(Status::Ok()), 0);
  EXPECT_EQ(ExitCode(Aborted("export Failed")), 1);
  EXPECT_EQ(ExitCode(DataLoss("sha256 differs")), 1);
  EXPECT_EQ(ExitCode(InvalidArgument("x")), 2);
  EXPECT_EQ(ExitCode(NotFound("x")), 3);
  EXPECT_EQ(ExitCode(PermissionDenied("x")), 4);
  EXPECT_EQ(ExitCode(Status(StatusCode::kUnauthenticated, "x")), 4);
  EXPECT_EQ(ExitCode(Unavailable("x")), 5);
}

TEST(ExportctlRequestTest, HttpStatusesMapToExitCodes) {
  const std::vector<std::pair<long, int>> cases = {{400, 2}, {422, 2}, {401, 4}, {403, 4},
                                                   {404, 3}, {409, 1}, {410, 1}, {429, 1},
                                                   {500, 1}, {503, 1}};
  for (const auto& [http, exit_code] : cases) {
    ApiResponse response;
    response.status = http;
    EXPECT_EQ(ExitCode(ResponseStatus(response, "GET /x")), exit_code) << http;
  }
  ApiResponse ok;
  ok.status = 202;
  EXPECT_TRUE(ResponseStatus(ok, "POST /x").ok());
}

TEST(ExportctlRequestTest, AProblemIsOneReadableLine) {
  ApiResponse response;
  response.status = 422;
  response.json = Json::parse(R"({"type": "about:blank", "title": "Unprocessable Content",
      "status": 422, "detail": "unknown field 'x'",
      "errors": [{"pointer": "/filter/x", "detail": "unknown field 'x'"},
                 {"pointer": "/fields/0", "detail": "unknown field 'y'"}]})");
  EXPECT_EQ(ProblemLine(response),
            "Unprocessable Content: unknown field 'x' (/filter/x; /fields/0: unknown field 'y') "
            "[HTTP 422]");
  ApiResponse plain;
  plain.status = 502;
  plain.body = "bad\ngateway";
  EXPECT_EQ(ProblemLine(plain), "HTTP 502: bad gateway");
}

TEST(ExportctlRequestTest, PathSegmentsArePercentEncoded) {
  EXPECT_EQ(PathSegment("01JD-x_y.z~"), "01JD-x_y.z~");
  EXPECT_EQ(PathSegment("a/b c"), "a%2Fb%20c");
}

class ExportctlConnectionTest : public ::testing::Test {
 protected:
  void WriteProfile(const std::string& text, mode_t mode) {
    std::ofstream(path_) << text;
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
  }
  // The error of resolving with only a profile file holding `text` with `mode`.
  Status ProfileError(const std::string& text, mode_t mode) {
    WriteProfile(text, mode);
    auto c = ResolveConnection(WithProfile());
    EXPECT_FALSE(c.ok());
    return c.ok() ? Status::Ok() : c.status();
  }
  // Sources naming the test's profile file and nothing else.
  ConnectionSources WithProfile() const {
    ConnectionSources s;
    s.profile_path = path_;
    return s;
  }

  testing_support::TempDir dir_;
  std::string path_ = dir_.File("config");
};

// "url token" of a connection, or the error.
std::string Resolved(const ConnectionSources& s) {
  auto c = ResolveConnection(s);
  return c.ok() ? c->url + " " + c->token : c.status().ToString();
}

TEST_F(ExportctlConnectionTest, FlagsBeatEnvironmentBeatsProfile) {
  WriteProfile("# mine\nurl = http://file:1/\n\ntoken = file-token\n", 0600);
  ConnectionSources s = WithProfile();
  EXPECT_EQ(Resolved(s), "http://file:1 file-token");
  s.env_url = "env:2";
  s.env_token = "env-token";
  EXPECT_EQ(Resolved(s), "http://env:2 env-token");
  s.flag_url = "https://flag:3";
  s.flag_token = "flag-token";
  EXPECT_EQ(Resolved(s), "https://flag:3 flag-token");
}

TEST_F(ExportctlConnectionTest, EachSettingFallsBackOnItsOwn) {
  WriteProfile("url = http://file:1\ntoken = file-token\n", 0600);
  ConnectionSources s = WithProfile();
  s.flag_url = "http://flag:3";
  s.env_url = "";  // set but empty: absent
  EXPECT_EQ(Resolved(s), "http://flag:3 file-token");
}

TEST_F(ExportctlConnectionTest, AProfileOthersMayReadIsRefused) {
  const Status refused = ProfileError("token = secret\n", 0644);
  EXPECT_EQ(ExitCode(refused), kExitAuth);
  EXPECT_NE(refused.message().find("0644"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("chmod 600"), std::string::npos);
  // Not needed (flags give both): not read, so no error.
  ConnectionSources s = WithProfile();
  s.flag_url = "http://h:1";
  s.flag_token = "t";
  EXPECT_TRUE(ResolveConnection(s).ok());
}

TEST_F(ExportctlConnectionTest, AReadOnlyProfileIsFine) {
  WriteProfile("token = secret\n", 0400);
  ConnectionSources s = WithProfile();
  auto c = ResolveConnection(s);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->token, "secret");
  EXPECT_EQ(c->url, kDefaultUrl);
}

TEST_F(ExportctlConnectionTest, NoProfileMeansTheDefaults) {
  ConnectionSources s;
  s.profile_path = dir_.File("absent");
  auto c = ResolveConnection(s);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->url, kDefaultUrl);
  EXPECT_EQ(c->token, "");
}

TEST_F(ExportctlConnectionTest, AnUnknownLineIsAnErrorNamingIt) {
  const Status bad = ProfileError("url = http://h:1\npassword = x\n", 0600);
  EXPECT_EQ(ExitCode(bad), kExitUsage);
  EXPECT_NE(bad.message().find(":2:"), std::string::npos) << bad.message();
}

}  // namespace
}  // namespace exportd::ctl
