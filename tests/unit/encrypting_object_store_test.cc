// EncryptingObjectStore over a real LocalObjectStore in a temporary directory: ciphertext on
// disk, plaintext (possibly gzipped) described by ObjectInfo and served by Open, key rotation,
// missing keys, tampering, plaintext files, and what is forwarded to the inner store.
#include "storage/crypto/encrypting_object_store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "storage/base/digest.h"
#include "storage/crypto/envelope_cipher.h"
#include "storage/fs/local_object_store.h"
#include "storage/fs/url_signer.h"
#include "tests/fakes/gunzip.h"

namespace exportd {
namespace {

using fakes::Gunzip;

namespace fs = std::filesystem;

constexpr char kTask[] = "01TASK";

std::string ReadFileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string Csv(int rows) {
  std::string s = "id,name,comment\r\n";
  for (int i = 1; i <= rows; ++i) {
    s += std::to_string(i) + ",name-" + std::to_string(i) + ",a comment about row " +
         std::to_string(i) + "\r\n";
  }
  return s;
}

std::shared_ptr<const MasterKeyRing> Keys(const std::string& entries) {
  Result<MasterKeyRing> ring = MasterKeyRing::Parse(entries, "", "test keys");
  EXPECT_TRUE(ring.ok()) << ring.status().ToString();
  return std::make_shared<const MasterKeyRing>(std::move(ring).value());
}

class EncryptingObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/encrypting_store_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<EncryptingObjectStore> Store(std::shared_ptr<const MasterKeyRing> keys,
                                               EncryptionOptions options = {}) {
    return std::make_unique<EncryptingObjectStore>(
        std::make_unique<LocalObjectStore>(root_, signer_, "http://exportd.test"), std::move(keys),
        std::move(options));
  }

  static Result<ObjectInfo> Put(ObjectStore& store, const std::string& name,
                                const std::string& data, bool gzip = false) {
    ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> w,
                     store.Create(kTask, name, {.content_type = "text/csv", .gzip = gzip}));
    for (size_t i = 0; i < data.size(); i += 1000) {
      RETURN_IF_ERROR(w->Write(std::string_view(data).substr(i, 1000)));
    }
    return w->Commit();
  }

  static Result<std::string> Get(ObjectStore& store, const std::string& name) {
    ASSIGN_OR_RETURN(std::unique_ptr<ObjectReader> r, store.Open(kTask, name));
    std::string out(static_cast<size_t>(r->size()), '\0');
    size_t got = 0;
    while (got < out.size()) {
      ASSIGN_OR_RETURN(const size_t n, r->ReadAt(static_cast<int64_t>(got), out.data() + got,
                                                 std::min<size_t>(out.size() - got, 7000)));
      if (n == 0) break;
      got += n;
    }
    EXPECT_EQ(got, out.size());
    return out;
  }

  fs::path OnDisk(const std::string& name) const { return fs::path(root_) / kTask / name; }

  // The master key id in a stored file's header.
  std::string StoredKeyId(const std::string& name) const {
    const std::string bytes = ReadFileBytes(OnDisk(name));
    if (bytes.size() < 14 || bytes.compare(0, kEnvelopeMagic.size(), kEnvelopeMagic) != 0)
      return "";
    return bytes.substr(14, static_cast<unsigned char>(bytes[9]));
  }

  std::string root_;
  std::shared_ptr<const UrlSigner> signer_ = std::make_shared<UrlSigner>(std::string(64, 'a'));
  std::string key_a_ = MasterKeyRing::NewEntry("key-a");
  std::string key_b_ = MasterKeyRing::NewEntry("key-b");
};

TEST_F(EncryptingObjectStoreTest, StoresCiphertextAndDescribesThePlaintext) {
  auto store = Store(Keys(key_a_));
  const std::string plain = Csv(5000);  // many chunks
  Result<ObjectInfo> info = Put(*store, "part-00001.csv", plain);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->bytes, static_cast<int64_t>(plain.size()));
  EXPECT_EQ(info->sha256, Sha256Hex(plain));

  const std::string disk = ReadFileBytes(OnDisk("part-00001.csv"));
  EXPECT_EQ(disk.compare(0, kEnvelopeMagic.size(), kEnvelopeMagic), 0);
  EXPECT_EQ(disk.find("name-1,"), std::string::npos) << "plaintext on disk";
  EXPECT_EQ(disk.find("a comment about row"), std::string::npos) << "plaintext on disk";
  EXPECT_GT(disk.size(), plain.size());
  EXPECT_EQ(StoredKeyId("part-00001.csv"), "key-a");

  Result<std::unique_ptr<ObjectReader>> reader = store->Open(kTask, "part-00001.csv");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), static_cast<int64_t>(plain.size()));
  Result<std::string> back = Get(*store, "part-00001.csv");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, plain);
}

TEST_F(EncryptingObjectStoreTest, RangeReadsDecryptOnlyWhatTheyCover) {
  auto store = Store(Keys(key_a_));
  const std::string plain = Csv(8000);
  ASSERT_TRUE(Put(*store, "p.csv", plain).ok());
  Result<std::unique_ptr<ObjectReader>> reader = store->Open(kTask, "p.csv");
  ASSERT_TRUE(reader.ok());
  for (int64_t offset : {int64_t{0}, int64_t{65535}, int64_t{65536}, int64_t{100000},
                         static_cast<int64_t>(plain.size()) - 10}) {
    std::string buf(100, '\0');
    Result<size_t> n = (*reader)->ReadAt(offset, buf.data(), buf.size());
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(buf.substr(0, *n), plain.substr(static_cast<size_t>(offset), 100)) << offset;
  }
}

TEST_F(EncryptingObjectStoreTest, GzipsThenEncrypts) {
  auto store = Store(Keys(key_a_));
  const std::string plain = Csv(3000);
  Result<ObjectInfo> info = Put(*store, "part-00001.csv.gz", plain, /*gzip=*/true);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  Result<std::string> downloaded = Get(*store, "part-00001.csv.gz");
  ASSERT_TRUE(downloaded.ok()) << downloaded.status().ToString();
  // What a user downloads is the gzip stream; ObjectInfo describes exactly that.
  ASSERT_GE(downloaded->size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>((*downloaded)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*downloaded)[1]), 0x8b);
  EXPECT_LT(downloaded->size(), plain.size()) << "compressed before encryption";
  EXPECT_EQ(info->bytes, static_cast<int64_t>(downloaded->size()));
  EXPECT_EQ(info->sha256, Sha256Hex(*downloaded));
  EXPECT_EQ(Gunzip(*downloaded), plain);
  const std::string disk = ReadFileBytes(OnDisk("part-00001.csv.gz"));
  EXPECT_EQ(disk.compare(0, kEnvelopeMagic.size(), kEnvelopeMagic), 0);
  EXPECT_EQ(disk.find(downloaded->substr(10, 32)), std::string::npos) << "gzip stream on disk";
}

TEST_F(EncryptingObjectStoreTest, EmptyObject) {
  auto store = Store(Keys(key_a_));
  Result<ObjectInfo> info = Put(*store, "empty.csv", "");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->bytes, 0);
  EXPECT_EQ(info->sha256, Sha256Hex(""));
  Result<std::string> back = Get(*store, "empty.csv");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, "");
}

TEST_F(EncryptingObjectStoreTest, KeyRotationKeepsOldFilesReadable) {
  const std::string plain_old = Csv(500);
  const std::string plain_new = Csv(600);
  {
    auto before = Store(Keys(key_a_));
    ASSERT_TRUE(Put(*before, "old.csv", plain_old).ok());
  }
  // Rotation: key b added and active (the last listed), key a kept for reading.
  auto after = Store(Keys(key_a_ + "\n" + key_b_));
  ASSERT_TRUE(Put(*after, "new.csv", plain_new).ok());
  EXPECT_EQ(StoredKeyId("old.csv"), "key-a");
  EXPECT_EQ(StoredKeyId("new.csv"), "key-b");
  Result<std::string> old_back = Get(*after, "old.csv");
  Result<std::string> new_back = Get(*after, "new.csv");
  ASSERT_TRUE(old_back.ok()) << old_back.status().ToString();
  ASSERT_TRUE(new_back.ok()) << new_back.status().ToString();
  EXPECT_EQ(*old_back, plain_old);
  EXPECT_EQ(*new_back, plain_new);
}

TEST_F(EncryptingObjectStoreTest, MissingKeyIdIsAClearError) {
  ASSERT_TRUE(Put(*Store(Keys(key_a_)), "old.csv", Csv(10)).ok());
  auto without_a = Store(Keys(key_b_));
  Result<std::unique_ptr<ObjectReader>> r = without_a->Open(kTask, "old.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find(std::string(kTask) + "/old.csv"), std::string::npos) << m;
  EXPECT_NE(m.find("needs master key 'key-a'"), std::string::npos) << m;
  EXPECT_NE(m.find("key-b"), std::string::npos) << m;
  EXPECT_EQ(m.find(key_a_.substr(6)), std::string::npos) << "key material in a message";
}

TEST_F(EncryptingObjectStoreTest, TamperedFileFailsWithDataLoss) {
  auto store = Store(Keys(key_a_));
  const std::string plain = Csv(5000);  // about 190 KB: several chunks
  ASSERT_TRUE(Put(*store, "p.csv", plain).ok());
  std::string disk = ReadFileBytes(OnDisk("p.csv"));
  // A byte in the first chunk: Open succeeds (header and last chunk are intact), the read
  // covering it fails and never hands out the bytes.
  disk[200] = static_cast<char>(disk[200] ^ 0x20);
  WriteFileBytes(OnDisk("p.csv"), disk);
  Result<std::unique_ptr<ObjectReader>> r = store->Open(kTask, "p.csv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string buf(1000, '\0');
  Result<size_t> n = (*r)->ReadAt(0, buf.data(), buf.size());
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(n.status().message().find("chunk 1 of"), std::string::npos) << n.status().message();
  // Cut at the end: refused at Open.
  WriteFileBytes(OnDisk("p.csv"), disk.substr(0, disk.size() - 100));
  Result<std::unique_ptr<ObjectReader>> cut = store->Open(kTask, "p.csv");
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), StatusCode::kDataLoss);
}

TEST_F(EncryptingObjectStoreTest, PlaintextOnDiskIsRefusedUnlessAllowed) {
  auto plain_store = std::make_unique<LocalObjectStore>(root_, signer_, "http://exportd.test");
  ASSERT_TRUE(Put(*plain_store, "legacy.csv", Csv(20)).ok());
  Result<std::unique_ptr<ObjectReader>> refused = Store(Keys(key_a_))->Open(kTask, "legacy.csv");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(refused.status().message().find("not encrypted"), std::string::npos);
  Result<std::string> allowed = Get(*Store(Keys(key_a_), {.read_plaintext = true}), "legacy.csv");
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ(*allowed, Csv(20));
}

TEST_F(EncryptingObjectStoreTest, SwitchedOffWritesPlaintextAndStillReadsEncryptedFiles) {
  ASSERT_TRUE(Put(*Store(Keys(key_a_)), "before.csv", Csv(30)).ok());
  auto off = Store(Keys(key_a_), {.encrypt_new_objects = false});
  ASSERT_TRUE(Put(*off, "after.csv", Csv(40)).ok());
  EXPECT_EQ(ReadFileBytes(OnDisk("after.csv")), Csv(40)) << "plaintext on disk when off";
  Result<std::string> before = Get(*off, "before.csv");
  Result<std::string> after = Get(*off, "after.csv");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*before, Csv(30));
  EXPECT_EQ(*after, Csv(40));
}

TEST_F(EncryptingObjectStoreTest, UncommittedWriterLeavesNothingAndDeletesForward) {
  auto store = Store(Keys(key_a_));
  {
    Result<std::unique_ptr<ObjectWriter>> w = store->Create(kTask, "partial.csv", {});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write(Csv(100)).ok());
  }
  EXPECT_FALSE(store->Open(kTask, "partial.csv").ok());
  ASSERT_TRUE(Put(*store, "a.csv", "a").ok());
  ASSERT_TRUE(Put(*store, "b.csv", "b").ok());
  ASSERT_TRUE(store->DeleteExcept(kTask, {"a.csv"}).ok());
  EXPECT_TRUE(store->Open(kTask, "a.csv").ok());
  EXPECT_EQ(store->Open(kTask, "b.csv").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store->DeleteAll(kTask).ok());
  EXPECT_EQ(store->Open(kTask, "a.csv").status().code(), StatusCode::kNotFound);
}

TEST_F(EncryptingObjectStoreTest, WriteAfterCommitAndDoubleCommitAreRefused) {
  auto store = Store(Keys(key_a_));
  Result<std::unique_ptr<ObjectWriter>> w = store->Create(kTask, "x.csv", {});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write("x").ok());
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_FALSE((*w)->Write("y").ok());
  EXPECT_FALSE((*w)->Commit().ok());
}

TEST_F(EncryptingObjectStoreTest, DownloadUrlIsTheInnerStoresOrTheConfiguredOne) {
  const TimePoint expires{std::chrono::seconds(2000000000)};
  Result<std::string> inner = Store(Keys(key_a_))->DownloadUrl(kTask, "a.csv", expires);
  ASSERT_TRUE(inner.ok());
  EXPECT_EQ(*inner, SignedDownloadUrl(*signer_, "http://exportd.test", kTask, "a.csv", expires));
  EncryptionOptions options;
  options.download_url = [](std::string_view task, std::string_view name, TimePoint) {
    return Result<std::string>("https://front.test/" + std::string(task) + "/" + std::string(name));
  };
  Result<std::string> custom = Store(Keys(key_a_), options)->DownloadUrl(kTask, "a.csv", expires);
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(*custom, "https://front.test/01TASK/a.csv");
}

}  // namespace
}  // namespace exportd
