#include "core/formats/formula_cells.h"

#include <gtest/gtest.h>

namespace exportd {
namespace {

TEST(FormulaCellsTest, EachTriggerByteStartsAFormula) {
  for (const char* text : {"=1+2",
                           "+A1",
                           "-A1",
                           "@SUM(A1:A2)",
                           "\tx",
                           "\rx",
                           "=",
                           "-",
                           "+",
                           "@",
                           "=HYPERLINK(\"http://x\")",
                           "-1+2",
                           "+1e",
                           "-.",
                           "-1.2.3",
                           "- 1",
                           "-1 ",
                           "-inf",
                           "-nan",
                           "-0x1F",
                           "+1,000",
                           "-5%",
                           "--1"}) {
    EXPECT_TRUE(StartsLikeFormula(text)) << '"' << text << '"';
  }
}

TEST(FormulaCellsTest, OtherLeadingBytesDoNot) {
  for (const char* text : {"", "basalt", " =1", "1+2", "a=b", "'=1", "\n=1", "{\"a\":1}", "#REF!",
                           "%1", "1e5", "3.5", "x-1"}) {
    EXPECT_FALSE(StartsLikeFormula(text)) << '"' << text << '"';
  }
}

TEST(FormulaCellsTest, SignedNumbersAreData) {
  for (const char* text : {"-3.5", "+1e5", "-1E-3", "+0", "-.5", "-5.", "+12345678901234567890",
                           "-1.5e+300", "-0.0"}) {
    EXPECT_FALSE(StartsLikeFormula(text)) << '"' << text << '"';
    EXPECT_TRUE(IsDecimalNumber(text)) << '"' << text << '"';
  }
}

TEST(FormulaCellsTest, DecimalNumberGrammar) {
  for (const char* text : {"0", "12", "1.", ".5", "1e9", "1.5E-3", "+7", "-7"}) {
    EXPECT_TRUE(IsDecimalNumber(text)) << text;
  }
  for (const char* text : {"", "+", "-", ".", "e5", "1e", "1e+", "1.2.3", "1 ", " 1", "1_000",
                           "0x10", "inf", "1,5", "--1"}) {
    EXPECT_FALSE(IsDecimalNumber(text)) << text;
  }
}

}  // namespace
}  // namespace exportd
