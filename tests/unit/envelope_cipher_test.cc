// The envelope format of encrypted export files: round trips at the chunk boundaries, reads at
// any offset, and every kind of tampering (header, wrapped key, ciphertext, tag, truncation,
// swapped, appended and foreign chunks) or a wrong master key failing loudly.
#include "storage/crypto/envelope_cipher.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "storage/base/digest.h"
#include "storage/crypto/master_keys.h"
#include "tests/fakes/memory_object.h"

namespace exportd {
namespace {

constexpr size_t kChunk = 64;  // small chunks make many-chunk files cheap

// The stored bytes as an ObjectReader: the input of the reader under test.
using fakes::StringReader;

MasterKeyRing Ring(const std::string& entries, const std::string& active = "") {
  Result<MasterKeyRing> ring = MasterKeyRing::Parse(entries, active, "test keys");
  EXPECT_TRUE(ring.ok()) << ring.status().ToString();
  return std::move(ring).value();
}

std::string Pattern(size_t n, unsigned seed = 1) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>('a' + gen() % 26);
  return s;
}

class EnvelopeCipherTest : public ::testing::Test {
 protected:
  // Encrypts `plain`, fed in pieces of `piece` bytes.
  std::string Encrypt(const std::string& plain, size_t piece = 7,
                      const MasterKeyRing* ring = nullptr) {
    std::string stored;
    Result<std::unique_ptr<EnvelopeEncryptor>> enc = EnvelopeEncryptor::Create(
        ring != nullptr ? *ring : keys_,
        [&stored](std::string_view bytes) {
          stored.append(bytes);
          return Status::Ok();
        },
        kChunk);
    EXPECT_TRUE(enc.ok()) << enc.status().ToString();
    for (size_t i = 0; i < plain.size(); i += piece) {
      EXPECT_TRUE((*enc)->Write(std::string_view(plain).substr(i, piece)).ok());
    }
    EXPECT_TRUE((*enc)->Finish().ok());
    return stored;
  }

  Result<std::unique_ptr<EnvelopeReader>> Open(std::string stored,
                                               const MasterKeyRing* ring = nullptr) {
    return EnvelopeReader::Open(ring != nullptr ? *ring : keys_,
                                std::make_unique<StringReader>(std::move(stored)), "t/part.csv");
  }

  // Opens and reads everything in reads of `piece` bytes; the error of the first failing call.
  Result<std::string> Decrypt(std::string stored, size_t piece = 100) {
    ASSIGN_OR_RETURN(std::unique_ptr<EnvelopeReader> reader, Open(std::move(stored)));
    std::string out;
    std::string buf(piece, '\0');
    for (;;) {
      ASSIGN_OR_RETURN(const size_t n,
                       reader->ReadAt(static_cast<int64_t>(out.size()), buf.data(), buf.size()));
      if (n == 0) break;
      out.append(buf.data(), n);
    }
    return out;
  }

  size_t HeaderSize() const { return 74 + std::string("k1").size(); }

  MasterKeyRing keys_ = Ring(MasterKeyRing::NewEntry("k1"));
};

TEST_F(EnvelopeCipherTest, RoundTripsAtEveryChunkBoundary) {
  for (size_t n : {size_t{0}, size_t{1}, kChunk - 1, kChunk, kChunk + 1, 2 * kChunk,
                   10 * kChunk + 3, size_t{5000}}) {
    const std::string plain = Pattern(n, static_cast<unsigned>(n));
    const std::string stored = Encrypt(plain);
    EXPECT_EQ(static_cast<int64_t>(stored.size()),
              EnvelopeStoredSize(static_cast<int64_t>(n), HeaderSize(), kChunk))
        << n;
    Result<std::string> back = Decrypt(stored);
    ASSERT_TRUE(back.ok()) << n << ": " << back.status().ToString();
    EXPECT_EQ(*back, plain) << n;
    if (n >= 16) {
      EXPECT_EQ(stored.find(plain.substr(0, 16)), std::string::npos) << "plaintext visible";
    }
  }
}

// Writes of a chunk or more are sealed straight from the caller's buffer; the chunks (and so the
// stored size and the plaintext read back) must not depend on how the bytes were split.
TEST_F(EnvelopeCipherTest, LargeWritesGiveTheSameChunksAsSmallOnes) {
  for (size_t n : {kChunk, kChunk + 1, 2 * kChunk, 3 * kChunk + 5, 7 * kChunk}) {
    const std::string plain = Pattern(n, static_cast<unsigned>(n) + 1);
    for (size_t piece : {kChunk - 1, kChunk, kChunk + 1, 2 * kChunk, 3 * kChunk + 5, n}) {
      const std::string stored = Encrypt(plain, piece);
      EXPECT_EQ(static_cast<int64_t>(stored.size()),
                EnvelopeStoredSize(static_cast<int64_t>(n), HeaderSize(), kChunk))
          << n << " in pieces of " << piece;
      Result<std::string> back = Decrypt(stored, kChunk / 3);
      ASSERT_TRUE(back.ok()) << n << " in pieces of " << piece << ": " << back.status().ToString();
      EXPECT_EQ(*back, plain) << n << " in pieces of " << piece;
    }
  }
}

TEST_F(EnvelopeCipherTest, SizeIsThePlaintextSizeAndTheKeyIdIsRecorded) {
  Result<std::unique_ptr<EnvelopeReader>> reader = Open(Encrypt(Pattern(1000)));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), 1000);
  EXPECT_EQ((*reader)->key_id(), "k1");
}

TEST_F(EnvelopeCipherTest, ReadsAtArbitraryOffsetsAndLengths) {
  const std::string plain = Pattern(1000, 7);
  Result<std::unique_ptr<EnvelopeReader>> reader = Open(Encrypt(plain, 333));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::mt19937 gen(3);
  for (int i = 0; i < 500; ++i) {
    const int64_t offset = static_cast<int64_t>(gen() % 1010);
    const size_t len = gen() % 300;
    std::string buf(len, '\0');
    Result<size_t> n = (*reader)->ReadAt(offset, buf.data(), len);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    const std::string expected =
        offset >= 1000 ? "" : plain.substr(static_cast<size_t>(offset), len);
    EXPECT_EQ(buf.substr(0, *n), expected) << "offset " << offset << " len " << len;
  }
  EXPECT_FALSE((*reader)->ReadAt(-1, nullptr, 0).ok());
}

TEST_F(EnvelopeCipherTest, EncryptionIsFreshPerFile) {
  const std::string plain = Pattern(300);
  EXPECT_NE(Encrypt(plain), Encrypt(plain)) << "the data key and wrap nonce must be random";
}

TEST_F(EnvelopeCipherTest, AFlippedBitAnywhereFailsWithDataLoss) {
  const std::string plain = Pattern(3 * kChunk + 10);
  const std::string stored = Encrypt(plain);
  // Every byte: magic, version, key id length, chunk size, key id, wrap nonce, wrapped key,
  // wrap tag, every chunk's ciphertext and tag.
  for (size_t i = 0; i < stored.size(); ++i) {
    std::string tampered = stored;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    Result<std::string> back = Decrypt(tampered);
    ASSERT_FALSE(back.ok()) << "byte " << i << " was flipped and the file still read";
    if (i >= 9 && i < 16) {
      // A flipped key id (or id length) may name a key the ring does not have.
      EXPECT_TRUE(back.status().code() == StatusCode::kInternal ||
                  back.status().code() == StatusCode::kDataLoss)
          << i << back.status().ToString();
    } else {
      EXPECT_EQ(back.status().code(), StatusCode::kDataLoss) << i << back.status().ToString();
    }
  }
}

TEST_F(EnvelopeCipherTest, TamperedChunkNamesTheFileAndTheChunk) {
  const std::string stored = Encrypt(Pattern(3 * kChunk + 10));
  std::string tampered = stored;
  tampered[HeaderSize() + (kChunk + 16) + 5] ^= 0x40;  // in chunk 2
  Result<std::unique_ptr<EnvelopeReader>> reader = Open(tampered);
  ASSERT_TRUE(reader.ok()) << "the header and the last chunk are intact";
  char buf[kChunk];
  EXPECT_TRUE((*reader)->ReadAt(0, buf, kChunk).ok()) << "chunk 1 is intact";
  Result<size_t> bad = (*reader)->ReadAt(kChunk, buf, kChunk);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("t/part.csv"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("chunk 2 of 4"), std::string::npos)
      << bad.status().message();
}

TEST_F(EnvelopeCipherTest, TruncationIsFoundAtOpen) {
  const std::string stored = Encrypt(Pattern(3 * kChunk + 10));
  // The last chunk dropped: the new last chunk was not sealed as final.
  const std::string without_last = stored.substr(0, HeaderSize() + 3 * (kChunk + 16));
  Result<std::unique_ptr<EnvelopeReader>> r1 = Open(without_last);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.status().code(), StatusCode::kDataLoss);
  // One byte short, or only the header left.
  EXPECT_FALSE(Open(stored.substr(0, stored.size() - 1)).ok());
  EXPECT_FALSE(Open(stored.substr(0, HeaderSize())).ok());
  EXPECT_FALSE(Open(stored.substr(0, 20)).ok());
  EXPECT_FALSE(Open("").ok());
  // A file of whole chunks cut by one chunk.
  const std::string whole = Encrypt(Pattern(4 * kChunk));
  EXPECT_FALSE(Open(whole.substr(0, whole.size() - (kChunk + 16))).ok());
}

TEST_F(EnvelopeCipherTest, SwappedChunksFail) {
  const std::string stored = Encrypt(Pattern(4 * kChunk));
  const size_t sealed = kChunk + 16;
  std::string swapped = stored;
  const size_t a = HeaderSize();
  const size_t b = HeaderSize() + sealed;
  std::memcpy(swapped.data() + a, stored.data() + b, sealed);
  std::memcpy(swapped.data() + b, stored.data() + a, sealed);
  Result<std::string> back = Decrypt(swapped);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), StatusCode::kDataLoss);
}

TEST_F(EnvelopeCipherTest, AppendedChunkFails) {
  const std::string stored = Encrypt(Pattern(3 * kChunk));
  const size_t sealed = kChunk + 16;
  // A copy of the first chunk, or of the last, appended.
  EXPECT_FALSE(Open(stored + stored.substr(HeaderSize(), sealed)).ok());
  EXPECT_FALSE(Open(stored + stored.substr(stored.size() - sealed)).ok());
  EXPECT_FALSE(Open(stored + std::string(20, 'x')).ok());
}

TEST_F(EnvelopeCipherTest, ChunksOfAnotherFileUnderTheSameKeyFail) {
  const std::string plain = Pattern(2 * kChunk);
  const std::string one = Encrypt(plain);
  const std::string two = Encrypt(plain);
  // The header of one file with the chunks of another: a different data key.
  EXPECT_FALSE(Decrypt(one.substr(0, HeaderSize()) + two.substr(HeaderSize())).ok());
}

TEST_F(EnvelopeCipherTest, WrongMasterKeyFails) {
  const std::string stored = Encrypt(Pattern(500));
  // Same id, other key bytes: the data key does not unwrap.
  MasterKeyRing other = Ring(MasterKeyRing::NewEntry("k1"));
  Result<std::unique_ptr<EnvelopeReader>> r = Open(stored, &other);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("k1"), std::string::npos) << r.status().message();
  // Another id: the message names the key the file needs and those the ring has.
  MasterKeyRing elsewhere = Ring(MasterKeyRing::NewEntry("k2"));
  Result<std::unique_ptr<EnvelopeReader>> r2 = Open(stored, &elsewhere);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), StatusCode::kInternal);
  EXPECT_NE(r2.status().message().find("'k1'"), std::string::npos) << r2.status().message();
  EXPECT_NE(r2.status().message().find("k2"), std::string::npos) << r2.status().message();
}

TEST_F(EnvelopeCipherTest, PlaintextIsNotAnEnvelope) {
  Result<std::unique_ptr<EnvelopeReader>> r = Open("id,name\r\n1,a\r\n" + Pattern(200));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("not encrypted"), std::string::npos);
}

TEST_F(EnvelopeCipherTest, RotationReadsOldFilesWithTheOldKey) {
  const std::string a = MasterKeyRing::NewEntry("a");
  const std::string b = MasterKeyRing::NewEntry("b");
  MasterKeyRing old_ring = Ring(a);
  MasterKeyRing rotated = Ring(a + "\n" + b);
  EXPECT_EQ(rotated.active_id(), "b") << "the last key listed is active";
  const std::string plain = Pattern(777);
  const std::string old_file = Encrypt(plain, 50, &old_ring);
  const std::string new_file = Encrypt(plain, 50, &rotated);
  Result<std::unique_ptr<EnvelopeReader>> r_old = Open(old_file, &rotated);
  Result<std::unique_ptr<EnvelopeReader>> r_new = Open(new_file, &rotated);
  ASSERT_TRUE(r_old.ok()) << r_old.status().ToString();
  ASSERT_TRUE(r_new.ok()) << r_new.status().ToString();
  EXPECT_EQ((*r_old)->key_id(), "a");
  EXPECT_EQ((*r_new)->key_id(), "b");
  EXPECT_FALSE(Open(new_file, &old_ring).ok()) << "the old ring lacks key b";
}

TEST_F(EnvelopeCipherTest, EncryptorRefusesBadChunkSizesAndWritesAfterFinish) {
  auto sink = [](std::string_view) { return Status::Ok(); };
  EXPECT_FALSE(EnvelopeEncryptor::Create(keys_, sink, 0).ok());
  EXPECT_FALSE(EnvelopeEncryptor::Create(keys_, sink, kEnvelopeMaxChunkSize + 1).ok());
  Result<std::unique_ptr<EnvelopeEncryptor>> enc = EnvelopeEncryptor::Create(keys_, sink);
  ASSERT_TRUE(enc.ok());
  ASSERT_TRUE((*enc)->Finish().ok());
  EXPECT_FALSE((*enc)->Write("x").ok());
  EXPECT_FALSE((*enc)->Finish().ok());
}

TEST_F(EnvelopeCipherTest, ASinkErrorStopsTheEncryptor) {
  int calls = 0;
  Result<std::unique_ptr<EnvelopeEncryptor>> enc = EnvelopeEncryptor::Create(
      keys_,
      [&calls](std::string_view) { return ++calls > 1 ? Unavailable("disk full") : Status::Ok(); },
      kChunk);
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ((*enc)->Write(Pattern(3 * kChunk)).code(), StatusCode::kUnavailable);
  EXPECT_EQ((*enc)->Write("x").code(), StatusCode::kUnavailable) << "the error is sticky";
}

}  // namespace
}  // namespace exportd
