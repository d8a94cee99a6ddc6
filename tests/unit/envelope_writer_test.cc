#include "storage/crypto/envelope_writer.h"

#include <gtest/gtest.h>

#include <string>

#include "storage/crypto/envelope_cipher.h"
#include "storage/crypto/master_keys.h"
#include "tests/fakes/memory_object.h"

namespace exportd {
namespace {

using fakes::NewRecording;
using fakes::StringReader;

constexpr size_t kChunk = 64;  // small chunks make many-chunk objects cheap

class EnvelopeWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<MasterKeyRing> ring = MasterKeyRing::Parse(MasterKeyRing::NewEntry("k1"), "", "test");
    ASSERT_TRUE(ring.ok()) << ring.status().ToString();
    keys_ = std::make_unique<MasterKeyRing>(std::move(ring).value());
  }

  std::unique_ptr<ObjectWriter> MustCreate(std::unique_ptr<ObjectWriter> inner) {
    Result<std::unique_ptr<ObjectWriter>> writer =
        EnvelopeWriter::Create(std::move(inner), *keys_, kChunk);
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    return writer.ok() ? std::move(writer).value() : nullptr;
  }

  // The plaintext of a stored envelope.
  std::string Decrypt(const std::string& stored) {
    Result<std::unique_ptr<EnvelopeReader>> reader =
        EnvelopeReader::Open(*keys_, std::make_unique<StringReader>(stored), "t/x");
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return "";
    std::string plain(static_cast<size_t>((*reader)->size()), '\0');
    size_t got = 0;
    while (got < plain.size()) {
      Result<size_t> n =
          (*reader)->ReadAt(static_cast<int64_t>(got), plain.data() + got, plain.size() - got);
      EXPECT_TRUE(n.ok()) << n.status().ToString();
      if (!n.ok() || *n == 0) break;
      got += *n;
    }
    return plain;
  }

  std::unique_ptr<MasterKeyRing> keys_;
};

TEST_F(EnvelopeWriterTest, StoresAnEnvelopeOfTheInputAndReportsThePlaintextSize) {
  auto [inner, object] = NewRecording();
  object->sha256 = "of-the-ciphertext";
  std::unique_ptr<ObjectWriter> writer = MustCreate(std::move(inner));
  ASSERT_NE(writer, nullptr);
  std::string input;
  for (int i = 0; i < 100; ++i) input += std::to_string(i) + ",row\r\n";
  ASSERT_TRUE(writer->Write(input.substr(0, 10)).ok());
  ASSERT_TRUE(writer->Write(input.substr(10)).ok());
  Result<ObjectInfo> info = writer->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->bytes, static_cast<int64_t>(input.size()));
  EXPECT_EQ(info->sha256, "");  // a DigestWriter above hashes the plaintext
  EXPECT_TRUE(object->published);
  EXPECT_EQ(object->data.substr(0, kEnvelopeMagic.size()), kEnvelopeMagic);
  EXPECT_EQ(object->data.find("row"), std::string::npos);
  EXPECT_EQ(Decrypt(object->data), input);
}

TEST_F(EnvelopeWriterTest, AnEmptyObjectIsAnEnvelopeOfNothing) {
  auto [inner, object] = NewRecording();
  std::unique_ptr<ObjectWriter> writer = MustCreate(std::move(inner));
  ASSERT_NE(writer, nullptr);
  Result<ObjectInfo> info = writer->Commit();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->bytes, 0);
  EXPECT_EQ(Decrypt(object->data), "");
}

TEST_F(EnvelopeWriterTest, TheHeaderIsWrittenAtCreateAndAFailureThereFailsCreate) {
  {
    auto [inner, object] = NewRecording();
    std::unique_ptr<ObjectWriter> writer = MustCreate(std::move(inner));
    EXPECT_EQ(object->writes, 1);
  }
  auto [inner, object] = NewRecording();
  object->fail_write = 1;
  Result<std::unique_ptr<ObjectWriter>> writer =
      EnvelopeWriter::Create(std::move(inner), *keys_, kChunk);
  EXPECT_EQ(writer.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(object->destroyed);
  EXPECT_FALSE(object->published);
}

TEST_F(EnvelopeWriterTest, AFailingInnerWriteOfASealedChunkIsReturnedByWrite) {
  auto [inner, object] = NewRecording();
  std::unique_ptr<ObjectWriter> writer = MustCreate(std::move(inner));
  ASSERT_NE(writer, nullptr);
  object->fail_write = 2;  // the first chunk after the header
  const Status failed = writer->Write(std::string(3 * kChunk, 'x'));
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_EQ(failed.message(), "injected write failure");
  EXPECT_EQ(object->commits, 0);
}

TEST_F(EnvelopeWriterTest, AFailingInnerWriteOfTheLastChunkIsReturnedByCommit) {
  auto [inner, object] = NewRecording();
  std::unique_ptr<ObjectWriter> writer = MustCreate(std::move(inner));
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Write("less than a chunk").ok());
  object->fail_write = object->writes + 1;
  EXPECT_EQ(writer->Commit().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(object->commits, 0);
  EXPECT_FALSE(object->published);
}

TEST_F(EnvelopeWriterTest, AFailingInnerCommitIsReturned) {
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

TEST_F(EnvelopeWriterTest, DestroyedWithoutCommitPublishesNothing) {
  auto [inner, object] = NewRecording();
  {
    std::unique_ptr<ObjectWriter> writer = MustCreate(std::move(inner));
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer->Write(std::string(10 * kChunk, 'x')).ok());
    EXPECT_GT(object->writes, 1);
  }
  EXPECT_TRUE(object->destroyed);
  EXPECT_EQ(object->commits, 0);
  EXPECT_FALSE(object->published);
}

}  // namespace
}  // namespace exportd
