// Client text in log lines (issue 16 item 5): control characters and Unicode line breaks are
// written out visibly, so a URL with %0d%0a in it cannot start a forged log entry.
#include "core/log_text.h"

#include <gtest/gtest.h>

#include <string>

namespace exportd {
namespace {

TEST(LogTextTest, PlainTextIsKeptAsItIs) {
  for (std::string_view text : {"", "GET /v1/exports 200", "caf\xC3\xA9 \xE2\x82\xAC \\n", "ok\xFF",
                                "~!@#$%^&*()_+{}|:\"<>?"}) {
    EXPECT_FALSE(NeedsLogEscape(text)) << testing::PrintToString(text);
    EXPECT_EQ(EscapeForLog(text), text);
  }
}

TEST(LogTextTest, LineBreaksAndControlsAreWrittenOut) {
  EXPECT_EQ(EscapeForLog("/v1/x\r\n2026-01-01T00:00:00.000Z info forged"),
            "/v1/x\\r\\n2026-01-01T00:00:00.000Z info forged");
  EXPECT_EQ(EscapeForLog("a\tb"), "a\\tb");
  EXPECT_EQ(EscapeForLog(std::string("nul\0end", 7)), "nul\\x00end");
  EXPECT_EQ(EscapeForLog("\x1b[31mred"), "\\x1b[31mred");  // terminal escapes
  EXPECT_EQ(EscapeForLog("del\x7f"), "del\\x7f");
  EXPECT_EQ(EscapeForLog("\x0b\x0c\x1f"), "\\x0b\\x0c\\x1f");
  EXPECT_TRUE(NeedsLogEscape("a\nb"));
  EXPECT_TRUE(NeedsLogEscape("\x01"));
}

TEST(LogTextTest, UnicodeLineBreaksAreWrittenOut) {
  EXPECT_EQ(EscapeForLog("a\xC2\x85"
                         "b"),
            "a\\u0085b");
  EXPECT_EQ(EscapeForLog("a\xE2\x80\xA8"
                         "b\xE2\x80\xA9"),
            "a\\u2028b\\u2029");
  EXPECT_TRUE(NeedsLogEscape("\xE2\x80\xA8"));
  // Their neighbours, and cut-off sequences, are not line breaks.
  EXPECT_EQ(EscapeForLog("\xE2\x80\xA7\xC2\x84\xE2\x80"), "\xE2\x80\xA7\xC2\x84\xE2\x80");
  EXPECT_FALSE(NeedsLogEscape("\xC2"));
}

TEST(LogTextTest, EveryEscapedTextIsOneLineOfPrintableAscii) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all += static_cast<char>(c);
  const std::string out = EscapeForLog(all);
  for (char c : out) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(c);
  }
}

}  // namespace
}  // namespace exportd
