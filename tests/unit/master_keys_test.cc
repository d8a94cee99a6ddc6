// Master key rings: the "id:base64" text form, clear errors that never show key material, and
// key files (owner-only, created once on first start, rotation by adding a key).
#include "storage/crypto/master_keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace exportd {
namespace {

namespace fs = std::filesystem;

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/master_keys_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text, fs::perms perms) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    fs::permissions(path, perms);
    return path;
  }

  std::string dir_;
};

TEST(MasterKeyRingTest, ParsesEntriesCommentsAndSeparators) {
  const std::string a = MasterKeyRing::NewEntry("2024-01");
  const std::string b = MasterKeyRing::NewEntry("2025.06_b");
  Result<MasterKeyRing> ring =
      MasterKeyRing::Parse("# comment\n\n  " + a + "\r\n" + b + "\n", "", "test");
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  EXPECT_EQ(ring->active_id(), "2025.06_b");
  EXPECT_EQ(ring->ids(), (std::vector<std::string>{"2024-01", "2025.06_b"}));
  ASSERT_NE(ring->Find("2024-01"), nullptr);
  EXPECT_EQ(ring->Find("2024-01")->size(), kMasterKeyBytes);
  EXPECT_EQ(ring->Find("nope"), nullptr);
  Result<MasterKeyRing> env = MasterKeyRing::Parse(a + "," + b, "2024-01", "EXPORTD_MASTER_KEY");
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->active_id(), "2024-01");
}

TEST(MasterKeyRingTest, ClearErrorsThatNeverShowTheKey) {
  const std::string good = MasterKeyRing::NewEntry("k");
  const std::string short_key = "k:" + std::string("AAAAAAAAAAAAAAAAAAAAAA==");  // 16 bytes
  struct Case {
    std::string text;
    std::string active;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {"", "", "holds no master key"},
           {"# only a comment\n", "", "holds no master key"},
           {"k", "", "\"id:base64 key\""},
           {short_key, "", "16 bytes; AES-256 needs 32"},
           {"k:not*base64!", "", "not valid base64"},
           {"bad/id:" + good.substr(2), "", "must be 1 to 64"},
           {good + "\n" + good, "", "listed twice"},
           {good, "other", "active master key id 'other' is not in test"},
       }) {
    Result<MasterKeyRing> ring = MasterKeyRing::Parse(c.text, c.active, "test");
    ASSERT_FALSE(ring.ok()) << c.text;
    EXPECT_EQ(ring.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(ring.status().message().find(c.expected), std::string::npos)
        << ring.status().message();
    EXPECT_EQ(ring.status().message().find(good.substr(2)), std::string::npos)
        << "key material in a message";
  }
}

TEST_F(KeyFileTest, CreatesAnOwnerOnlyKeyFileOnceAndReadsItBack) {
  const std::string path = dir_ + "/master_keys";
  bool created = false;
  Result<MasterKeyRing> first = MasterKeyRing::LoadOrCreateFile(path, "", &created);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(created);
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  Result<MasterKeyRing> second = MasterKeyRing::LoadOrCreateFile(path, "", &created);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(created) << "an existing key file is never replaced";
  EXPECT_EQ(first->active_id(), second->active_id());
  EXPECT_EQ(*first->Find(first->active_id()), *second->Find(second->active_id()));
}

TEST_F(KeyFileTest, RefusesAKeyFileOthersMayRead) {
  const std::string path =
      Write("keys", MasterKeyRing::NewEntry("k") + "\n",
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  Result<MasterKeyRing> ring = MasterKeyRing::LoadFile(path, "");
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(ring.status().message().find("chmod 600"), std::string::npos);
  fs::permissions(path, fs::perms::owner_read);
  EXPECT_TRUE(MasterKeyRing::LoadFile(path, "").ok()) << "0400 is fine";
}

TEST_F(KeyFileTest, MissingFileAndBadContentNameTheFile) {
  Result<MasterKeyRing> missing = MasterKeyRing::LoadFile(dir_ + "/none", "");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  const std::string path = Write("bad", "k:AAAA\n", fs::perms::owner_read | fs::perms::owner_write);
  Result<MasterKeyRing> bad = MasterKeyRing::LoadFile(path, "");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(path + " line 1"), std::string::npos)
      << bad.status().message();
}

TEST_F(KeyFileTest, RotationAddsAKeyAndMakesItActive) {
  const std::string old_entry = MasterKeyRing::NewEntry("2024");
  const std::string path =
      Write("keys", old_entry + "\n", fs::perms::owner_read | fs::perms::owner_write);
  Result<MasterKeyRing> before = MasterKeyRing::LoadFile(path, "");
  ASSERT_TRUE(before.ok());
  std::ofstream(path, std::ios::app) << MasterKeyRing::NewEntry("2025") << "\n";
  Result<MasterKeyRing> after = MasterKeyRing::LoadFile(path, "");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->active_id(), "2025");
  ASSERT_NE(after->Find("2024"), nullptr);
  EXPECT_EQ(*after->Find("2024"), *before->Find("2024"));
  Result<MasterKeyRing> pinned = MasterKeyRing::LoadFile(path, "2024");
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(pinned->active_id(), "2024") << "active_key_id overrides the order";
}

}  // namespace
}  // namespace exportd
