// The configuration keys of retention: retention, max_retention, janitor_interval_seconds and
// their environment overrides.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "server/config.h"

namespace exportd {
namespace {

using std::chrono::seconds;

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(RetentionConfigTest, Defaults) {
  Result<Config> config = ParseConfig("{}", "");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->retention, seconds(7 * 86400));
  EXPECT_EQ(config->max_retention, seconds(30 * 86400));
  EXPECT_EQ(config->janitor_interval_seconds, 60);
  EXPECT_TRUE(Validate(*config).ok());
}

TEST(RetentionConfigTest, SecondsOrDurationStringsInTheFileAndTheEnvironment) {
  Result<Config> config = ParseConfig(
      R"({"retention": "36h", "max_retention": 864000, "janitor_interval_seconds": 5})", "");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->retention, seconds(36 * 3600));
  EXPECT_EQ(config->max_retention, seconds(864000));
  EXPECT_EQ(config->janitor_interval_seconds, 5);
  EXPECT_TRUE(config->ignored_keys.empty());
  EXPECT_TRUE(Validate(*config).ok());

  ASSERT_TRUE(ApplyEnvironment(*config, Env({{"EXPORTD_RETENTION", "90m"},
                                             {"EXPORTD_MAX_RETENTION", "7200"},
                                             {"EXPORTD_JANITOR_INTERVAL_SECONDS", "2"}}))
                  .ok());
  EXPECT_EQ(config->retention, seconds(5400));
  EXPECT_EQ(config->max_retention, seconds(7200));
  EXPECT_EQ(config->janitor_interval_seconds, 2);
  EXPECT_TRUE(Validate(*config).ok());
}

TEST(RetentionConfigTest, BadValuesFailWithAClearMessage) {
  auto parse_error = [](const std::string& text) {
    Result<Config> config = ParseConfig(text, "");
    return config.ok() ? std::string("(accepted)") : config.status().message();
  };
  EXPECT_NE(parse_error(R"({"retention": "a week"})").find("retention"), std::string::npos);
  EXPECT_NE(parse_error(R"({"retention": "a week"})").find("7d"), std::string::npos)
      << "the message shows the accepted forms";
  EXPECT_NE(parse_error(R"({"max_retention": -1})").find("max_retention"), std::string::npos);
  EXPECT_NE(parse_error(R"({"retention": 1.5})").find("retention"), std::string::npos);
  EXPECT_NE(parse_error(R"({"retention": true})").find("retention"), std::string::npos);

  auto validate_error = [](const std::string& text) {
    Result<Config> config = ParseConfig(text, "");
    EXPECT_TRUE(config.ok()) << text;
    if (!config.ok()) return std::string();
    Status valid = Validate(*config);
    return valid.ok() ? std::string("(valid)") : valid.message();
  };
  EXPECT_NE(validate_error(R"({"retention": "40d"})")
                .find("max_retention (30d) must be at least "
                      "retention (40d)"),
            std::string::npos)
      << validate_error(R"({"retention": "40d"})");
  EXPECT_EQ(validate_error(R"({"retention": "40d", "max_retention": "40d"})"), "(valid)");
  EXPECT_NE(validate_error(R"({"retention": 0})").find("retention must be at least 1 second"),
            std::string::npos);
  EXPECT_NE(validate_error(R"({"janitor_interval_seconds": 0})").find("janitor_interval_seconds"),
            std::string::npos);

  Result<Config> config = ParseConfig("{}", "");
  ASSERT_TRUE(config.ok());
  Status env = ApplyEnvironment(*config, Env({{"EXPORTD_RETENTION", "soon"}}));
  EXPECT_EQ(env.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(env.message().find("EXPORTD_RETENTION"), std::string::npos) << env.message();
}

}  // namespace
}  // namespace exportd
