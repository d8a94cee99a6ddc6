#include "storage/base/gzip_decoder.h"

#include <gtest/gtest.h>

#include <string>

#include "storage/base/gzip_encoder.h"

namespace exportd {
namespace {

// `printf 'hello\n' | gzip -n`: made by another implementation than the one under test.
const std::string kHello(
    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcb\x48\xcd\xc9\xc9\xe7\x02\x00\x20\x30\x3a\x36"
    "\x06\x00\x00\x00",
    26);

std::string Gzip(const std::string& plain) {
  std::string out;
  auto encoder = GzipEncoder::Create(6, [&out](std::string_view c) {
    out.append(c);
    return Status::Ok();
  });
  EXPECT_TRUE(encoder.ok());
  EXPECT_TRUE((*encoder)->Write(plain).ok());
  EXPECT_TRUE((*encoder)->Finish().ok());
  return out;
}

TEST(GzipDecoderTest, DecodesWhatGzipWrote) {
  Result<std::string> plain = GunzipAll(kHello);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(*plain, "hello\n");
}

TEST(GzipDecoderTest, TruncatedDamagedAndTrailingBytesAreDataLoss) {
  EXPECT_EQ(GunzipAll(kHello.substr(0, 20)).status().code(), StatusCode::kDataLoss);
  std::string damaged = kHello;
  damaged[12] = '\x00';
  EXPECT_EQ(GunzipAll(damaged).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(GunzipAll("plain text").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(GunzipAll(kHello + "x").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(GunzipAll(kHello + kHello).status().code(), StatusCode::kDataLoss);
}

TEST(GzipDecoderTest, MembersMayFollowEachOtherWhenAllowed) {
  Result<std::string> plain = GunzipAll(kHello + kHello, /*members=*/true);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(*plain, "hello\nhello\n");
}

// Input one byte at a time and output through a small buffer: every boundary is crossed.
TEST(GzipDecoderTest, StreamsInAnyPieces) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "row " + std::to_string(i * 7919 % 1000) + "\n";
  const std::string compressed = Gzip(text);
  Result<std::unique_ptr<GzipDecoder>> decoder = GzipDecoder::Create();
  ASSERT_TRUE(decoder.ok());
  std::string out;
  char buf[7];
  for (char c : compressed) {
    ASSERT_TRUE((*decoder)->NeedsInput());
    (*decoder)->SetInput(std::string_view(&c, 1));
    while (!(*decoder)->NeedsInput()) {
      Result<size_t> n = (*decoder)->Inflate(buf, sizeof buf);
      ASSERT_TRUE(n.ok()) << n.status().message();
      out.append(buf, *n);
    }
  }
  EXPECT_TRUE((*decoder)->finished());
  EXPECT_EQ(out, text);
}

}  // namespace
}  // namespace exportd
