#include "storage/base/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace exportd {
namespace {

TEST(Base64Test, EncodesTheRfc4648Vectors) {
  // RFC 4648 section 10.
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\xfb\xff\x00", 3)), "+/8A");
}

TEST(Base64Test, AppendsToWhatIsThere) {
  std::string out = "x=";
  AppendBase64("hi", out);
  EXPECT_EQ(out, "x=aGk=");
}

TEST(Base64Test, DecodesWithOrWithoutPadding) {
  EXPECT_EQ(*Base64Decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(*Base64Decode("Zm9vYmE"), "fooba");
  EXPECT_EQ(*Base64Decode("+/8A"), std::string("\xfb\xff\x00", 3));
  EXPECT_EQ(*Base64UrlDecode("aGVsbG8"), "hello");
  EXPECT_EQ(*Base64UrlDecode("aGVsbG8="), "hello");
  EXPECT_EQ(*Base64UrlDecode("-_8A"), std::string("\xfb\xff\x00", 3));
}

TEST(Base64Test, RefusesTheOtherAlphabetBlanksAndDanglingCharacters) {
  EXPECT_FALSE(Base64UrlDecode("aGVs+G8").ok());
  EXPECT_FALSE(Base64Decode("-_8A").ok());
  EXPECT_FALSE(Base64Decode("Zm9v Yg==").ok());
  EXPECT_EQ(Base64Decode("Zm9vY").status().code(), StatusCode::kInvalidArgument);
}

TEST(Base64Test, RoundTripsEveryByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= bytes.size(); n += 37) {
    const std::string part = bytes.substr(0, n);
    EXPECT_EQ(*Base64Decode(Base64Encode(part)), part) << n;
  }
}

}  // namespace
}  // namespace exportd
