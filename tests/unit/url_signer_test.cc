#include "storage/fs/url_signer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/time_format.h"

namespace exportd {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "url_signer_test.XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

constexpr int64_t kExpires = 1'900'000'000;
const TimePoint kBefore = FromUnixMillis((kExpires - 60) * 1000);

TEST(UrlSignerTest, SignatureIsHmacSha256Hex) {
  UrlSigner signer("secret");
  const std::string sig = signer.Sign("01JD", "part-00001.csv", kExpires);
  EXPECT_EQ(sig.size(), 64u);
  EXPECT_EQ(sig.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(sig, signer.Sign("01JD", "part-00001.csv", kExpires));
  EXPECT_NE(sig, UrlSigner("other").Sign("01JD", "part-00001.csv", kExpires));
  // The separator keeps the parts apart: ("ab", "c") and ("a", "bc") differ.
  EXPECT_NE(signer.Sign("ab", "c", kExpires), signer.Sign("a", "bc", kExpires));
}

TEST(UrlSignerTest, AcceptsAValidLink) {
  UrlSigner signer("secret");
  const std::string sig = signer.Sign("01JD", "part-00001.csv", kExpires);
  EXPECT_TRUE(signer.Verify("01JD", "part-00001.csv", std::to_string(kExpires), sig, kBefore).ok());
}

TEST(UrlSignerTest, RejectsEveryTamperedPart) {
  UrlSigner signer("secret");
  const std::string sig = signer.Sign("01JD", "part-00001.csv", kExpires);
  const std::string expires = std::to_string(kExpires);
  std::string flipped = sig;
  flipped[0] = flipped[0] == 'a' ? 'b' : 'a';
  const struct {
    const char* what;
    Status status;
  } cases[] = {
      {"task id", signer.Verify("01JE", "part-00001.csv", expires, sig, kBefore)},
      {"name", signer.Verify("01JD", "part-00002.csv", expires, sig, kBefore)},
      {"expires",
       signer.Verify("01JD", "part-00001.csv", std::to_string(kExpires + 1), sig, kBefore)},
      {"signature", signer.Verify("01JD", "part-00001.csv", expires, flipped, kBefore)},
      {"short signature", signer.Verify("01JD", "part-00001.csv", expires, sig.substr(1), kBefore)},
      {"empty signature", signer.Verify("01JD", "part-00001.csv", expires, "", kBefore)},
      {"uppercase signature", signer.Verify(
                                  "01JD", "part-00001.csv", expires,
                                  [&] {
                                    std::string s = sig;
                                    for (char& c : s) c = static_cast<char>(std::toupper(c));
                                    return s;
                                  }(),
                                  kBefore)},
      {"other secret", UrlSigner("other").Verify("01JD", "part-00001.csv", expires, sig, kBefore)},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.status.code(), StatusCode::kPermissionDenied) << c.what;
  }
}

TEST(UrlSignerTest, RejectsExpiredLinks) {
  UrlSigner signer("secret");
  const std::string sig = signer.Sign("01JD", "f.csv", kExpires);
  const std::string expires = std::to_string(kExpires);
  EXPECT_TRUE(
      signer.Verify("01JD", "f.csv", expires, sig, FromUnixMillis(kExpires * 1000 - 1)).ok());
  EXPECT_EQ(signer.Verify("01JD", "f.csv", expires, sig, FromUnixMillis(kExpires * 1000)).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(
      signer.Verify("01JD", "f.csv", expires, sig, FromUnixMillis((kExpires + 3600) * 1000)).code(),
      StatusCode::kPermissionDenied);
}

TEST(UrlSignerTest, RejectsGarbageExpiry) {
  UrlSigner signer("secret");
  for (const char* expires : {"", "abc", "-1", "+1900000000", "01900000000", "1900000000x",
                              " 1900000000", "1.9e9", "99999999999999999999999"}) {
    const std::string sig = signer.Sign("01JD", "f.csv", kExpires);
    EXPECT_EQ(signer.Verify("01JD", "f.csv", expires, sig, kBefore).code(),
              StatusCode::kPermissionDenied)
        << expires;
  }
}

TEST(UrlSignerTest, CreatesAPrivateSecretOnceAndReusesIt) {
  TempDir dir;
  const std::string path = (dir.path() / "url.secret").string();
  Result<std::string> first = UrlSigner::LoadOrCreateSecret(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), 64u);
  EXPECT_EQ(first->find_first_not_of("0123456789abcdef"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  Result<std::string> second = UrlSigner::LoadOrCreateSecret(path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
  // Nothing but the secret is left in the directory.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(UrlSignerTest, RefusesAMalformedSecretFile) {
  TempDir dir;
  const std::string path = (dir.path() / "url.secret").string();
  std::ofstream(path) << "too short\n";
  EXPECT_EQ(UrlSigner::LoadOrCreateSecret(path).status().code(), StatusCode::kFailedPrecondition);
}

TEST(UrlSignerTest, ReportsAMissingDirectory) {
  TempDir dir;
  const std::string path = (dir.path() / "no" / "such" / "url.secret").string();
  EXPECT_EQ(UrlSigner::LoadOrCreateSecret(path).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace exportd
