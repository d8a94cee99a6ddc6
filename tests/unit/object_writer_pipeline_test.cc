#include "storage/base/object_writer_pipeline.h"

#include <gtest/gtest.h>

#include <string>

#include "storage/base/digest.h"
#include "tests/fakes/gunzip.h"
#include "tests/fakes/memory_object.h"

namespace exportd {
namespace {

using fakes::Gunzip;
using fakes::NewRecording;

// ---- GuardedWriter ----------------------------------------------------------------------------

TEST(GuardedWriterTest, PassesWritesAndCommitThrough) {
  auto [inner, object] = NewRecording();
  object->sha256 = "abc";
  GuardedWriter writer(std::move(inner));
  ASSERT_TRUE(writer.Write("a").ok());
  ASSERT_TRUE(writer.Write("b").ok());
  Result<ObjectInfo> info = writer.Commit();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->bytes, 2);
  EXPECT_EQ(info->sha256, "abc");
  EXPECT_EQ(object->data, "ab");
  EXPECT_TRUE(object->published);
}

TEST(GuardedWriterTest, TheFirstWriteErrorSticksAndNothingMoreReachesTheInnerWriter) {
  auto [inner, object] = NewRecording();
  object->fail_write = 2;
  GuardedWriter writer(std::move(inner));
  ASSERT_TRUE(writer.Write("a").ok());
  const Status failed = writer.Write("b");
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_EQ(writer.Write("c").message(), failed.message());
  EXPECT_EQ(writer.Commit().status().message(), failed.message());
  EXPECT_EQ(object->writes, 2);
  EXPECT_EQ(object->commits, 0);
  EXPECT_FALSE(object->published);
}

TEST(GuardedWriterTest, AFailedCommitSticksAndIsNotRetried) {
  auto [inner, object] = NewRecording();
  object->fail_commit = true;
  GuardedWriter writer(std::move(inner));
  ASSERT_TRUE(writer.Write("a").ok());
  const Status failed = writer.Commit().status();
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  object->fail_commit = false;
  EXPECT_EQ(writer.Commit().status().message(), failed.message());
  EXPECT_EQ(writer.Write("b").message(), failed.message());
  EXPECT_EQ(object->commits, 1);
  EXPECT_EQ(object->writes, 1);
  EXPECT_FALSE(object->published);
}

TEST(GuardedWriterTest, WriteAfterCommitAndASecondCommitAreRefused) {
  auto [inner, object] = NewRecording();
  GuardedWriter writer(std::move(inner));
  ASSERT_TRUE(writer.Commit().ok());
  EXPECT_EQ(writer.Write("a").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(writer.Commit().status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(object->writes, 0);
  EXPECT_EQ(object->commits, 1);
}

TEST(GuardedWriterTest, DestroyedWithoutCommitPublishesNothing) {
  auto [inner, object] = NewRecording();
  {
    GuardedWriter writer(std::move(inner));
    ASSERT_TRUE(writer.Write("a").ok());
  }
  EXPECT_TRUE(object->destroyed);
  EXPECT_FALSE(object->published);
}

// ---- ComposeObjectWriter ----------------------------------------------------------------------

std::unique_ptr<ObjectWriter> MustCompose(std::unique_ptr<ObjectWriter> sink, bool gzip,
                                          bool digest) {
  ObjectOptions options;
  options.gzip = gzip;
  options.digest = digest;
  Result<std::unique_ptr<ObjectWriter>> writer = ComposeObjectWriter(std::move(sink), options, 6);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  return writer.ok() ? std::move(writer).value() : nullptr;
}

std::string Rows(int n) {
  std::string rows;
  for (int i = 0; i < n; ++i) rows += std::to_string(i) + ",x\r\n";
  return rows;
}

TEST(ComposeObjectWriterTest, GzipThenDigestDescribesTheCompressedBytesStored) {
  auto [sink, object] = NewRecording();
  object->sha256 = "not-this";
  std::unique_ptr<ObjectWriter> writer = MustCompose(std::move(sink), true, true);
  ASSERT_NE(writer, nullptr);
  const std::string rows = Rows(5000);
  ASSERT_TRUE(writer->Write(rows).ok());
  Result<ObjectInfo> info = writer->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(Gunzip(object->data), rows);
  EXPECT_EQ(info->bytes, static_cast<int64_t>(object->data.size()));
  EXPECT_EQ(info->sha256, Sha256Hex(object->data));
}

TEST(ComposeObjectWriterTest, DigestAloneHashesThePlainBytesWithoutACopy) {
  auto [sink, object] = NewRecording();
  std::unique_ptr<ObjectWriter> writer = MustCompose(std::move(sink), false, true);
  ASSERT_NE(writer, nullptr);
  const std::string rows = Rows(100);
  ASSERT_TRUE(writer->Write(rows).ok());
  Result<ObjectInfo> info = writer->Commit();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(object->data, rows);
  ASSERT_EQ(object->write_ptrs.size(), 1u);
  EXPECT_EQ(object->write_ptrs[0], rows.data());
  EXPECT_EQ(info->bytes, static_cast<int64_t>(rows.size()));
  EXPECT_EQ(info->sha256, Sha256Hex(rows));
}

TEST(ComposeObjectWriterTest, WithoutDigestTheSinksInfoIsReported) {
  auto [sink, object] = NewRecording();
  std::unique_ptr<ObjectWriter> writer = MustCompose(std::move(sink), true, false);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Write(Rows(100)).ok());
  Result<ObjectInfo> info = writer->Commit();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(Gunzip(object->data), Rows(100));
  EXPECT_EQ(info->bytes, static_cast<int64_t>(object->data.size()));
  EXPECT_EQ(info->sha256, "");
}

TEST(ComposeObjectWriterTest, TheWholePipelineKeepsTheFirstErrorOfTheSink) {
  auto [sink, object] = NewRecording();
  std::unique_ptr<ObjectWriter> writer = MustCompose(std::move(sink), false, true);
  ASSERT_NE(writer, nullptr);
  object->fail_write = 1;
  const Status failed = writer->Write("a");
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_EQ(writer->Commit().status().message(), failed.message());
  EXPECT_EQ(object->commits, 0);
}

TEST(ComposeObjectWriterTest, AnUncommittedPipelinePublishesNothing) {
  auto [sink, object] = NewRecording();
  {
    std::unique_ptr<ObjectWriter> writer = MustCompose(std::move(sink), true, true);
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer->Write(Rows(100000)).ok());
    EXPECT_GT(object->writes, 0);
  }
  EXPECT_TRUE(object->destroyed);
  EXPECT_EQ(object->commits, 0);
  EXPECT_FALSE(object->published);
}

TEST(ComposeObjectWriterTest, ABadGzipLevelFailsAndDiscardsTheSink) {
  auto [sink, object] = NewRecording();
  ObjectOptions options;
  options.gzip = true;
  Result<std::unique_ptr<ObjectWriter>> writer = ComposeObjectWriter(std::move(sink), options, 42);
  EXPECT_EQ(writer.status().code(), StatusCode::kInternal);
  EXPECT_TRUE(object->destroyed);
  EXPECT_FALSE(object->published);
}

}  // namespace
}  // namespace exportd
