#include "storage/base/digest_writer.h"

#include <gtest/gtest.h>

#include <string>

#include "storage/base/digest.h"
#include "tests/fakes/memory_object.h"

namespace exportd {
namespace {

using fakes::NewRecording;

TEST(DigestWriterTest, ReportsTheSizeAndSha256OfWhatPassedNotWhatTheInnerWriterReports) {
  auto [inner, object] = NewRecording();
  object->sha256 = "not-this";
  DigestWriter writer(std::move(inner));
  ASSERT_TRUE(writer.Write("a,b\r\n").ok());
  ASSERT_TRUE(writer.Write("").ok());
  ASSERT_TRUE(writer.Write("1,2\r\n").ok());
  Result<ObjectInfo> info = writer.Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->bytes, 10);
  EXPECT_EQ(info->sha256, Sha256Hex("a,b\r\n1,2\r\n"));
  EXPECT_EQ(object->data, "a,b\r\n1,2\r\n");
  EXPECT_TRUE(object->published);
}

TEST(DigestWriterTest, AnEmptyObjectHasTheSha256OfNothing) {
  auto [inner, object] = NewRecording();
  DigestWriter writer(std::move(inner));
  Result<ObjectInfo> info = writer.Commit();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->bytes, 0);
  EXPECT_EQ(info->sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(DigestWriterTest, HandsOnTheCallersBytesWithoutACopy) {
  auto [inner, object] = NewRecording();
  DigestWriter writer(std::move(inner));
  const std::string block(1 << 20, 'x');
  ASSERT_TRUE(writer.Write(block).ok());
  ASSERT_EQ(object->write_ptrs.size(), 1u);
  EXPECT_EQ(object->write_ptrs[0], block.data());
}

TEST(DigestWriterTest, AFailingInnerWriteIsReturned) {
  auto [inner, object] = NewRecording();
  object->fail_write = 2;
  DigestWriter writer(std::move(inner));
  ASSERT_TRUE(writer.Write("a").ok());
  Status failed = writer.Write("b");
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_EQ(failed.message(), "injected write failure");
}

TEST(DigestWriterTest, AFailingInnerCommitIsReturnedAndNothingIsPublished) {
  auto [inner, object] = NewRecording();
  object->fail_commit = true;
  DigestWriter writer(std::move(inner));
  ASSERT_TRUE(writer.Write("a").ok());
  Result<ObjectInfo> info = writer.Commit();
  EXPECT_EQ(info.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(object->published);
}

TEST(DigestWriterTest, DestroyedWithoutCommitPublishesNothing) {
  auto [inner, object] = NewRecording();
  {
    DigestWriter writer(std::move(inner));
    ASSERT_TRUE(writer.Write("a").ok());
  }
  EXPECT_TRUE(object->destroyed);
  EXPECT_EQ(object->commits, 0);
  EXPECT_FALSE(object->published);
}

}  // namespace
}  // namespace exportd
