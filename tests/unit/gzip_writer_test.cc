#include "storage/base/gzip_writer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "storage/base/gzip_encoder.h"
#include "tests/fakes/gunzip.h"
#include "tests/fakes/memory_object.h"

namespace exportd {
namespace {

using fakes::Gunzip;
using fakes::NewRecording;

// Bytes that do not compress, so that writing them makes the encoder produce output at once.
std::string Noise(size_t n) {
  std::mt19937 gen(7);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen());
  return s;
}

std::unique_ptr<ObjectWriter> MustCreate(std::unique_ptr<ObjectWriter> inner, int level = 6) {
  Result<std::unique_ptr<ObjectWriter>> writer = GzipWriter::Create(std::move(inner), level);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  return writer.ok() ? std::move(writer).value() : nullptr;
}

TEST(GzipWriterTest, StoresAGzipStreamOfTheInputAndReportsTheInnerWritersInfo) {
  auto [inner, object] = NewRecording();
  object->sha256 = "reported-by-the-inner-writer";
  std::unique_ptr<ObjectWriter> writer = MustCreate(std::move(inner));
  ASSERT_NE(writer, nullptr);
  std::string input;
  for (int i = 0; i < 20000; ++i) input += std::to_string(i) + ",row\r\n";
  ASSERT_TRUE(writer->Write(input.substr(0, 1000)).ok());
  ASSERT_TRUE(writer->Write(input.substr(1000)).ok());
  Result<ObjectInfo> info = writer->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(Gunzip(object->data), input);
  EXPECT_LT(object->data.size(), input.size());
  EXPECT_EQ(info->bytes, static_cast<int64_t>(object->data.size()));
  EXPECT_EQ(info->sha256, "reported-by-the-inner-writer");
  EXPECT_TRUE(object->published);
}

TEST(GzipWriterTest, StoresExactlyWhatTheGzipEncoderProduces) {
  const std::string input = Noise(300000) + std::string(500000, 'a');
  std::string expected;
  Result<std::unique_ptr<GzipEncoder>> encoder =
      GzipEncoder::Create(6, [&expected](std::string_view compressed) {
        expected.append(compressed);
        return Status::Ok();
      });
  ASSERT_TRUE(encoder.ok());
  ASSERT_TRUE((*encoder)->Write(input).ok());
  ASSERT_TRUE((*encoder)->Finish().ok());

  auto [inner, object] = NewRecording();
  std::unique_ptr<ObjectWriter> writer = MustCreate(std::move(inner));
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Write(input).ok());
  ASSERT_TRUE(writer->Commit().ok());
  EXPECT_EQ(object->data, expected);
}

TEST(GzipWriterTest, AnEmptyObjectIsAValidGzipStream) {
  auto [inner, object] = NewRecording();
  std::unique_ptr<ObjectWriter> writer = MustCreate(std::move(inner));
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Commit().ok());
  EXPECT_FALSE(object->data.empty());
  EXPECT_EQ(Gunzip(object->data), "");
}

TEST(GzipWriterTest, AFailingInnerWriteIsReturnedByTheWriteThatProducedTheBytes) {
  auto [inner, object] = NewRecording();
  object->fail_write = 1;
  std::unique_ptr<ObjectWriter> writer = MustCreate(std::move(inner));
  ASSERT_NE(writer, nullptr);
  Status failed = writer->Write(Noise(1 << 20));
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_EQ(failed.message(), "injected write failure");
  EXPECT_EQ(object->commits, 0);
}

TEST(GzipWriterTest, AFailingInnerWriteOfTheTrailerIsReturnedByCommitWhichPublishesNothing) {
  auto [inner, object] = NewRecording();
  std::unique_ptr<ObjectWriter> writer = MustCreate(std::move(inner));
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Write("small enough to stay inside zlib").ok());
  object->fail_write = object->writes + 1;  // the next bytes zlib hands on: those of Commit()
  Result<ObjectInfo> info = writer->Commit();
  EXPECT_EQ(info.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(object->commits, 0);
  EXPECT_FALSE(object->published);
}

TEST(GzipWriterTest, AFailingInnerCommitIsReturned) {
  auto [inner, object] = NewRecording();
  object->fail_commit = true;
  std::unique_ptr<ObjectWriter> writer = MustCreate(std::move(inner));
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Write("a").ok());
  Result<ObjectInfo> info = writer->Commit();
  EXPECT_EQ(info.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(info.status().message(), "injected commit failure");
  EXPECT_FALSE(object->published);
}

TEST(GzipWriterTest, DestroyedWithoutCommitPublishesNothing) {
  auto [inner, object] = NewRecording();
  {
    std::unique_ptr<ObjectWriter> writer = MustCreate(std::move(inner));
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer->Write(Noise(1 << 20)).ok());
    EXPECT_GT(object->writes, 0);
  }
  EXPECT_TRUE(object->destroyed);
  EXPECT_EQ(object->commits, 0);
  EXPECT_FALSE(object->published);
}

TEST(GzipWriterTest, ALevelZlibRefusesFailsCreateAndDiscardsTheInnerWriter) {
  auto [inner, object] = NewRecording();
  Result<std::unique_ptr<ObjectWriter>> writer = GzipWriter::Create(std::move(inner), 42);
  EXPECT_EQ(writer.status().code(), StatusCode::kInternal);
  EXPECT_TRUE(object->destroyed);
  EXPECT_FALSE(object->published);
}

}  // namespace
}  // namespace exportd
