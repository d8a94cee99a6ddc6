#include "core/text.h"

#include <gtest/gtest.h>

namespace exportd {
namespace {

TEST(Utf8Test, AcceptsWellFormedSequences) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x98\x80", 0), 4u);
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
}

TEST(Utf8Test, RejectsMalformedSequences) {
  for (std::string_view bad : {"\x80", "\xC0\xAF", "\xC3", "\xE0\x80\xAF", "\xED\xA0\x80",
                               "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "ok\xFF"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << testing::PrintToString(bad);
  }
}

TEST(JsonPointerTokenTest, EscapesTildeAndSlash) {
  EXPECT_EQ(JsonPointerToken("a/b~c"), "a~1b~0c");
  EXPECT_EQ(JsonPointerToken("~1"), "~01");
  EXPECT_EQ(JsonPointerToken(""), "");
}

}  // namespace
TEST(UrlOriginForLogTest, KeepsOnlySchemeAndAuthority) {
  EXPECT_EQ(UrlOriginForLog("https://hooks.example.org/services/T0/B0/secret?x=1"),
            "https://hooks.example.org/...");
  EXPECT_EQ(UrlOriginForLog("http://user:pw@10.0.0.1:8080/a"), "http://10.0.0.1:8080/...");
  EXPECT_EQ(UrlOriginForLog("http://h?token=abc"), "http://h/...");
  EXPECT_EQ(UrlOriginForLog("not a url"), "(url)");
}

TEST(ScrubUrlTest, ReplacesTheUrlAndEachSecretPartOfIt) {
  const std::string url = "http://user:hunter22@127.0.0.1:9/hooks/abcd?token=s3cr3t-value&x=1";
  EXPECT_EQ(ScrubUrl("POST " + url + ": Couldn't connect to server", url),
            "POST http://127.0.0.1:9/...: Couldn't connect to server");
  // libcurl and servers repeat parts of it in their own words.
  const std::string scrubbed = ScrubUrl(
      "Failed to connect to 127.0.0.1 port 9: /hooks/abcd?token=s3cr3t-value; token=s3cr3t-value;"
      " user hunter22",
      url);
  EXPECT_EQ(scrubbed.find("s3cr3t"), std::string::npos) << scrubbed;
  EXPECT_EQ(scrubbed.find("hunter22"), std::string::npos) << scrubbed;
  EXPECT_EQ(scrubbed.find("/hooks/abcd"), std::string::npos) << scrubbed;
  EXPECT_NE(scrubbed.find("127.0.0.1 port 9"), std::string::npos) << scrubbed;
  EXPECT_EQ(ScrubUrl("nothing to hide", url), "nothing to hide");
  EXPECT_EQ(ScrubUrl("text", ""), "text");
}

TEST(TextTest, Plural) {
  EXPECT_EQ(Plural(0, "row"), "0 rows");
  EXPECT_EQ(Plural(1, "row"), "1 row");
  EXPECT_EQ(Plural(2, "byte"), "2 bytes");
}

}  // namespace exportd
