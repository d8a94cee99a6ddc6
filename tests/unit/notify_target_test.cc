#include "core/notify_target.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace exportd {
namespace {

TEST(ValidateWebhookUrlTest, AcceptsAbsoluteHttpUrls) {
  for (const char* url : {"http://x.org", "HTTPS://hooks.example.org/x?y=1#f",
                          "http://127.0.0.1:9000/hook", "https://[::1]:8443/h", "http://[::1]"}) {
    EXPECT_TRUE(ValidateWebhookUrl(url).ok()) << url;
  }
}

TEST(ValidateWebhookUrlTest, RejectsWhatCannotBeAStoredHook) {
  const std::vector<std::string> bad = {"ftp://x.org/h",
                                        "/relative",
                                        "http://",
                                        "http://u:p@evil.org/",
                                        "http://x.org:99999/",
                                        "http://x.org:0/",
                                        "http://x.org:/",
                                        "http://x.org/a b",
                                        "http://x.org/\x7f",
                                        "http://b\xc3\xbc.de",
                                        "http://[::1",
                                        "http://[]/",
                                        "http://[::1]x/",
                                        "http://[::1]:/",
                                        "javascript:alert(1)",
                                        "http://x.org/" + std::string(kMaxWebhookUrlBytes, 'a')};
  for (const std::string& url : bad) {
    Status s = ValidateWebhookUrl(url);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << url;
    EXPECT_EQ(s.pointer(), "/notify/webhook") << url;
  }
}

TEST(ValidateEmailAddressTest, OneAddressWithNothingThatEscapesAHeader) {
  EXPECT_TRUE(ValidateEmailAddress("ops@example.org", "/p").ok());
  for (const std::string& address : std::vector<std::string>{
           "", "nobody", "a@b@c", "@b.c", "a@", "a b@c.d", "a@b.c\r\nBcc: x@y.z", "a@b.c, d@e.f",
           "a;b@c.d", "<a@b.c>", std::string(250, 'a') + "@b.cd"}) {
    Status s = ValidateEmailAddress(address, "/notify/email/2");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << address;
    EXPECT_EQ(s.pointer(), "/notify/email/2") << address;
  }
}

TEST(ValidateNotifyTest, PointsAtTheFirstBadTargetAndCountsAddresses) {
  EXPECT_TRUE(ValidateNotify(Notify{}).ok());
  Notify n{"https://hooks.example.org/x", {"a@b.c", "nobody"}};
  EXPECT_EQ(ValidateNotify(n).pointer(), "/notify/email/1");
  n.webhook = "ftp://x";
  EXPECT_EQ(ValidateNotify(n).pointer(), "/notify/webhook");
  n = Notify{std::nullopt, std::vector<std::string>(kMaxEmails, "a@b.c")};
  EXPECT_TRUE(ValidateNotify(n).ok());
  n.email.push_back("a@b.c");
  EXPECT_EQ(ValidateNotify(n).pointer(), "/notify/email");
}

}  // namespace
}  // namespace exportd
