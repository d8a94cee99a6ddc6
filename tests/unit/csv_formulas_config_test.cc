// The deployment's default for CSV formula escaping: "escape_formulas" in the config file and
// EXPORTD_ESCAPE_FORMULAS, which overrides it.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "server/config.h"

namespace exportd {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(CsvFormulasConfigTest, OffByDefault) {
  Result<Config> config = ParseConfig("{}", "");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->escape_formulas);
  ASSERT_TRUE(ApplyEnvironment(*config, Env({})).ok());
  EXPECT_FALSE(config->escape_formulas);
}

TEST(CsvFormulasConfigTest, FileThenEnvironment) {
  Result<Config> config = ParseConfig(R"({"escape_formulas": true})", "");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->escape_formulas);
  EXPECT_TRUE(config->ignored_keys.empty()) << "a known key";
  ASSERT_TRUE(ApplyEnvironment(*config, Env({{"EXPORTD_ESCAPE_FORMULAS", "false"}})).ok());
  EXPECT_FALSE(config->escape_formulas);
  ASSERT_TRUE(ApplyEnvironment(*config, Env({{"EXPORTD_ESCAPE_FORMULAS", "true"}})).ok());
  EXPECT_TRUE(config->escape_formulas);
}

TEST(CsvFormulasConfigTest, OnlyBooleansAreAccepted) {
  for (const char* text : {R"({"escape_formulas": 1})", R"({"escape_formulas": "true"})"}) {
    Result<Config> config = ParseConfig(text, "");
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_NE(config.status().message().find("escape_formulas"), std::string::npos)
        << config.status().message();
  }
  for (const char* value : {"1", "yes", "TRUE", ""}) {
    Config config;
    Status status = ApplyEnvironment(config, Env({{"EXPORTD_ESCAPE_FORMULAS", value}}));
    ASSERT_FALSE(status.ok()) << value;
    EXPECT_NE(status.message().find("EXPORTD_ESCAPE_FORMULAS"), std::string::npos)
        << status.message();
  }
}

}  // namespace
}  // namespace exportd
