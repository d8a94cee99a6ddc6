// The notification keys of the configuration: smtp, webhook_secret_env,
// notification_retry_base_ms, notification_attempts.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "server/config.h"

namespace exportd {
namespace {

Result<Config> Parse(const std::string& text) { return ParseConfig(text, "/etc/exportd"); }

TEST(NotificationConfigTest, DefaultsAndNoWarnings) {
  Result<Config> c = Parse(R"({"smtp": {"url": "smtp://mail:25", "from": "x@example.org"},
                               "webhook_secret_env": "MY_SECRET",
                               "notification_retry_base_ms": 10, "notification_attempts": 3})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->ignored_keys.empty());
  ASSERT_TRUE(c->smtp);
  EXPECT_EQ(c->smtp->url, "smtp://mail:25");
  EXPECT_FALSE(c->smtp->starttls);
  EXPECT_EQ(c->webhook_secret_env, "MY_SECRET");
  EXPECT_EQ(c->notification_retry_base_ms, 10);
  EXPECT_EQ(c->notification_attempts, 3);
  EXPECT_TRUE(Validate(*c).ok());

  Result<Config> d = Parse("{}");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->smtp);
  EXPECT_EQ(d->webhook_secret_env, "EXPORTD_WEBHOOK_SECRET");
  EXPECT_EQ(d->notification_retry_base_ms, 1000);
  EXPECT_EQ(d->notification_attempts, 5);
}

TEST(NotificationConfigTest, SmtpFieldsAndRelativeCaFile) {
  Result<Config> c = Parse(R"({"smtp": {"url": "smtp://mail:587", "from": "x@example.org",
      "username": "u", "password_env": "SMTP_PW", "starttls": true, "ca_file": "ca.pem",
      "insecure": true}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->smtp->username, "u");
  EXPECT_EQ(c->smtp->password_env, "SMTP_PW");
  EXPECT_TRUE(c->smtp->starttls);
  EXPECT_TRUE(c->smtp->insecure);
  EXPECT_EQ(c->smtp->ca_file, "/etc/exportd/ca.pem");
  EXPECT_TRUE(Validate(*c).ok());
}

TEST(NotificationConfigTest, BadValuesAreRefused) {
  for (const char* text : {
           R"({"smtp": {"url": "http://mail", "from": "x@example.org"}})",
           R"({"smtp": {"url": "smtps://mail", "from": "x@example.org", "starttls": true}})",
           R"({"smtp": {"url": "smtp://mail"}})",
           R"({"smtp": {"url": "smtp://mail", "from": "x@example.org", "username": "u"}})",
           R"({"notification_attempts": 0})",
           R"({"notification_retry_base_ms": 0})",
           R"({"webhook_secret_env": ""})",
       }) {
    Result<Config> c = Parse(text);
    ASSERT_TRUE(c.ok()) << text;
    EXPECT_EQ(Validate(*c).code(), StatusCode::kInvalidArgument) << text;
  }
  EXPECT_FALSE(Parse(R"({"smtp": {"url": "smtp://m", "from": "a@b", "pasword_env": "X"}})").ok());
  EXPECT_FALSE(Parse(R"({"smtp": "smtp://m"})").ok());
  EXPECT_FALSE(Parse(R"({"notification_attempts": "five"})").ok());
}

TEST(NotificationConfigTest, EnvironmentOverrides) {
  Result<Config> c = Parse("{}");
  ASSERT_TRUE(c.ok());
  std::map<std::string, std::string> env = {{"EXPORTD_NOTIFICATION_RETRY_BASE_MS", "20"},
                                            {"EXPORTD_NOTIFICATION_ATTEMPTS", "2"},
                                            {"EXPORTD_WEBHOOK_SECRET_ENV", "OTHER"}};
  ASSERT_TRUE(ApplyEnvironment(*c, [&](const std::string& name) -> std::optional<std::string> {
                auto it = env.find(name);
                if (it == env.end()) return std::nullopt;
                return it->second;
              }).ok());
  EXPECT_EQ(c->notification_retry_base_ms, 20);
  EXPECT_EQ(c->notification_attempts, 2);
  EXPECT_EQ(c->webhook_secret_env, "OTHER");
}

}  // namespace
}  // namespace exportd
