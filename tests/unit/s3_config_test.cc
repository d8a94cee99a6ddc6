// The "storage" block with type "s3": parsing, defaults, credentials from the file or the
// AWS_* environment variables, and the start-up messages for what is missing or wrong.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "server/config.h"
#include "server/object_store_factory.h"

namespace exportd {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Result<Config> Load(const std::string& json, std::map<std::string, std::string> env = {}) {
  ASSIGN_OR_RETURN(Config config, ParseConfig(json, ""));
  RETURN_IF_ERROR(ApplyEnvironment(config, Env(std::move(env))));
  return config;
}

TEST(S3ConfigTest, FullBlockWithCredentialsInTheFile) {
  Result<Config> c = Load(R"({"storage": {"type": "s3", "endpoint": "http://127.0.0.1:4569",
      "bucket": "exports", "prefix": "exportd/", "access_key_id": "AK", "secret_access_key": "SK",
      "server_side_encryption": "aws:kms", "sse_kms_key_id": "key-1",
      "part_size_bytes": 8388608, "colour": "blue"}})",
                          {{"AWS_ACCESS_KEY_ID", "ENVAK"}, {"AWS_SECRET_ACCESS_KEY", "ENVSK"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->storage_type, "s3");
  EXPECT_EQ(c->s3.region, "us-east-1");
  EXPECT_TRUE(c->s3.PathStyle()) << "a custom endpoint defaults to path-style";
  EXPECT_EQ(c->s3.access_key_id, "AK") << "the file wins over the environment";
  EXPECT_EQ(c->s3.secret_access_key, "SK");
  EXPECT_EQ(c->s3.credentials_source, "configuration");
  EXPECT_EQ(c->ignored_keys, std::vector<std::string>{"storage.colour"});
  EXPECT_TRUE(Validate(*c).ok()) << Validate(*c).ToString();

  const S3StoreOptions o = ToS3StoreOptions(c->s3);
  EXPECT_EQ(o.client.server_side_encryption, "aws:kms");
  EXPECT_EQ(o.client.sse_kms_key_id, "key-1");
  EXPECT_EQ(o.part_size_bytes, 8388608);
  EXPECT_EQ(o.prefix, "exportd/");
}

TEST(S3ConfigTest, CredentialsFromTheEnvironmentAndAwsDefaults) {
  Result<Config> c = Load(R"({"storage": {"type": "s3", "bucket": "b", "region": "eu-west-1"}})",
                          {{"AWS_ACCESS_KEY_ID", "ENVAK"},
                           {"AWS_SECRET_ACCESS_KEY", "ENVSK"},
                           {"AWS_SESSION_TOKEN", "TOKEN"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->s3.access_key_id, "ENVAK");
  EXPECT_EQ(c->s3.secret_access_key, "ENVSK");
  EXPECT_EQ(c->s3.session_token, "TOKEN");
  EXPECT_EQ(c->s3.credentials_source, "environment");
  EXPECT_FALSE(c->s3.PathStyle()) << "AWS defaults to virtual-hosted addressing";
  EXPECT_EQ(c->s3.part_size_bytes, 16 << 20);
  EXPECT_TRUE(Validate(*c).ok()) << Validate(*c).ToString();
}

TEST(S3ConfigTest, ClearMessagesForWhatIsMissingOrWrong) {
  auto error = [](const std::string& storage,
                  std::map<std::string, std::string> env = {{"AWS_ACCESS_KEY_ID", "A"},
                                                            {"AWS_SECRET_ACCESS_KEY", "S"}}) {
    Result<Config> c = Load(R"({"storage": )" + storage + "}", std::move(env));
    if (!c.ok()) return c.status().message();
    return Validate(*c).message();
  };
  EXPECT_NE(error(R"({"type": "s3"})").find("storage.bucket is required"), std::string::npos);
  EXPECT_NE(error(R"({"type": "s3", "bucket": "b"})", {}).find("AWS_ACCESS_KEY_ID"),
            std::string::npos);
  // A key id in the file is never completed by a secret from the environment.
  EXPECT_NE(
      error(R"({"type": "s3", "bucket": "b", "access_key_id": "AK"})").find("needs credentials"),
      std::string::npos);
  EXPECT_NE(error(R"({"type": "s3", "bucket": "b", "part_size_bytes": 1048576})")
                .find("part_size_bytes must be 5 MiB"),
            std::string::npos);
  EXPECT_NE(error(R"({"type": "s3", "bucket": "b", "server_side_encryption": "DES"})")
                .find("server_side_encryption"),
            std::string::npos);
  EXPECT_NE(error(R"({"type": "s3", "bucket": "b", "sse_kms_key_id": "k"})").find("aws:kms"),
            std::string::npos);
  EXPECT_NE(error(R"({"type": "s3", "bucket": "b", "endpoint": "127.0.0.1:9000"})")
                .find("http:// or https://"),
            std::string::npos);
  EXPECT_NE(error(R"({"type": "s3", "bucket": "b", "path_style": "yes"})").find("wrong type"),
            std::string::npos);
  EXPECT_NE(error(R"({"type": "gcs"})").find("not supported (local or s3)"), std::string::npos);
}

}  // namespace
}  // namespace exportd
