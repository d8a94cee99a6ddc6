// The configuration keys of leases, graceful drain and the cluster-wide cap on running tasks,
// and the instance id file.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "server/config.h"
#include "storage/base/instance_id.h"

namespace exportd {
namespace {

namespace fs = std::filesystem;

TEST(DurabilityConfigTest, LeaseAndDrainDefaultsFileAndEnvironment) {
  Result<Config> defaults = ParseConfig("{}", "");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->lease_seconds, 30);
  EXPECT_EQ(defaults->drain_timeout_seconds, 30);
  EXPECT_TRUE(Validate(*defaults).ok());

  Result<Config> config = ParseConfig(R"({"lease_seconds": 12, "drain_timeout_seconds": 0})", "");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->lease_seconds, 12);
  EXPECT_EQ(config->drain_timeout_seconds, 0);
  EXPECT_TRUE(config->ignored_keys.empty());
  EXPECT_TRUE(Validate(*config).ok());

  const std::map<std::string, std::string> env = {{"EXPORTD_LEASE_SECONDS", "45"},
                                                  {"EXPORTD_DRAIN_TIMEOUT_SECONDS", "5"}};
  ASSERT_TRUE(ApplyEnvironment(*config, [&](const std::string& name) -> std::optional<std::string> {
                auto it = env.find(name);
                if (it == env.end()) return std::nullopt;
                return it->second;
              }).ok());
  EXPECT_EQ(config->lease_seconds, 45);
  EXPECT_EQ(config->drain_timeout_seconds, 5);

  config->lease_seconds = 2;  // renewals every 0.7 s would be mostly heartbeats
  EXPECT_EQ(Validate(*config).code(), StatusCode::kInvalidArgument);
  config->lease_seconds = 30;
  config->drain_timeout_seconds = -1;
  EXPECT_EQ(Validate(*config).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseConfig(R"({"lease_seconds": "long"})", "").ok());
}

TEST(DurabilityConfigTest, MaxRunningClusterFromFileAndEnvironment) {
  Result<Config> defaults = ParseConfig("{}", "");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->max_running_cluster, 0);  // no cap

  Result<Config> config = ParseConfig(R"({"max_running_cluster": 2})", "");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->max_running_cluster, 2);
  EXPECT_TRUE(config->ignored_keys.empty());
  EXPECT_TRUE(Validate(*config).ok());

  ASSERT_TRUE(ApplyEnvironment(*config, [](const std::string& name) -> std::optional<std::string> {
                if (name == "EXPORTD_MAX_RUNNING_CLUSTER") return "7";
                return std::nullopt;
              }).ok());
  EXPECT_EQ(config->max_running_cluster, 7);

  config->max_running_cluster = -1;
  Status refused = Validate(*config);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("max_running_cluster"), std::string::npos) << refused.ToString();
  EXPECT_FALSE(ParseConfig(R"({"max_running_cluster": "two"})", "").ok());
  EXPECT_FALSE(ApplyEnvironment(*config, [](const std::string& name) -> std::optional<std::string> {
                 if (name == "EXPORTD_MAX_RUNNING_CLUSTER") return "many";
                 return std::nullopt;
               }).ok());
}

TEST(InstanceIdTest, CreatedOnceAndStableAfterwards) {
  std::string tmpl = (fs::temp_directory_path() / "exportd-instance-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  const std::string path = (dir / "instance_id").string();
  Result<std::string> first = LoadOrCreateInstanceId(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->rfind("inst_", 0), 0u) << *first;
  Result<std::string> again = LoadOrCreateInstanceId(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);  // the same instance after a restart

  // Another data dir is another instance.
  Result<std::string> other = LoadOrCreateInstanceId((dir / "other_id").string());
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *first);

  std::ofstream(dir / "garbage") << "not an id\n";
  EXPECT_EQ(LoadOrCreateInstanceId((dir / "garbage").string()).status().code(),
            StatusCode::kFailedPrecondition);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace exportd
