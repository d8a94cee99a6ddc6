// GzipEncoder: streaming gzip whose output gunzips to the input, written in any slicing, and
// whose sink errors stop it.
#include "storage/base/gzip_encoder.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/fakes/gunzip.h"

namespace exportd {
namespace {

using fakes::Gunzip;

TEST(GzipEncoderTest, RoundTripsAcrossManyWrites) {
  std::string compressed;
  auto encoder = GzipEncoder::Create(6, [&](std::string_view c) {
    compressed.append(c);
    return Status::Ok();
  });
  ASSERT_TRUE(encoder.ok());
  std::string input;
  for (int i = 0; i < 50000; ++i) {
    const std::string line = std::to_string(i * 7919 % 100003) + ",row\r\n";
    input += line;
    ASSERT_TRUE((*encoder)->Write(line).ok());
    if (i % 1000 == 0) {
      ASSERT_TRUE((*encoder)->Write("").ok());
    }
  }
  ASSERT_TRUE((*encoder)->Finish().ok());
  EXPECT_EQ(compressed.substr(0, 2), "\x1f\x8b");
  EXPECT_LT(compressed.size(), input.size() / 2);
  EXPECT_EQ(Gunzip(compressed), input);
  EXPECT_EQ((*encoder)->Write("x").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*encoder)->Finish().code(), StatusCode::kFailedPrecondition);
}

TEST(GzipEncoderTest, EmptyInputIsAValidGzipStream) {
  std::string compressed;
  auto encoder = GzipEncoder::Create(6, [&](std::string_view c) {
    compressed.append(c);
    return Status::Ok();
  });
  ASSERT_TRUE(encoder.ok());
  ASSERT_TRUE((*encoder)->Finish().ok());
  EXPECT_EQ(Gunzip(compressed), "");
}

TEST(GzipEncoderTest, SinkErrorsComeBackFromTheCall) {
  auto encoder = GzipEncoder::Create(1, [](std::string_view) { return Unavailable("disk gone"); });
  ASSERT_TRUE(encoder.ok());
  // Incompressible input fills zlib's output quickly, so the sink is called during Write.
  std::string noise(size_t{1} << 20, '\0');
  uint32_t x = 1;
  for (char& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  Status status = (*encoder)->Write(noise);
  if (status.ok()) status = (*encoder)->Finish();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "disk gone");
}

}  // namespace
}  // namespace exportd
