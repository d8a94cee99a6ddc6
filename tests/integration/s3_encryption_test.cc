// S3 storage with the client-side envelope ("encryption": {"enabled": true}), the real binary
// against s3rver (tests/s3): the bucket holds ciphertext, files[].url and the manifest link
// point to exportd (not to the bucket), downloads and Range requests serve the plaintext whose
// sha256 the task and the manifest list, and DELETE removes the objects. Without the envelope
// (the S3 default) see s3_export_test: SSE only, pre-signed S3 URLs.
#include <filesystem>

#include "tests/fakes/s3rver_process.h"
#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

namespace fs = std::filesystem;
using testing_support::S3rverProcess;

constexpr char kEnvelopeMagic[] = "\x89XENV\r\n\x1a";

class S3EncryptionTest : public ExportdTest {
 protected:
  static void SetUpTestSuite() {
    s3_ = new S3rverProcess();
    std::string error;
    if (!s3_->Start(&error)) {
      delete s3_;
      s3_ = nullptr;
      FAIL() << error;
    }
  }
  static void TearDownTestSuite() {
    delete s3_;
    s3_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(s3_, nullptr) << "s3rver did not start"; }

  Json Storage() const {
    return {{"type", "s3"},
            {"endpoint", s3_->endpoint()},
            {"bucket", S3rverProcess::kBucket},
            {"prefix", "enc/"},
            {"access_key_id", S3rverProcess::kAccessKey},
            {"secret_access_key", S3rverProcess::kSecretKey}};
  }

  // The bytes s3rver stores for an object (<key>._S3rver_object); "" if there is none.
  std::string StoredObject(const std::string& id, const std::string& name) const {
    return ReadFileOrEmpty((fs::path(s3_->store_dir()) / S3rverProcess::kBucket / "enc" / id /
                            (name + "._S3rver_object"))
                               .string());
  }

  static S3rverProcess* s3_;
};

S3rverProcess* S3EncryptionTest::s3_ = nullptr;

TEST_F(S3EncryptionTest, BucketHoldsCiphertextAndDownloadsGoThroughExportd) {
  ASSERT_TRUE(StartWithItems(800, {{"storage", Storage()}, {"encryption", {{"enabled", true}}}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 300}});
  ASSERT_FALSE(id.empty());
  const Json task = WaitForTerminal(*api_, id, seconds(60));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump(2);
  ASSERT_EQ(task["files"].size(), 3u);
  for (const Json& f : task["files"]) {
    const std::string url = f.value("url", "");
    EXPECT_EQ(url.rfind(server_->base_url() + "/v1/exports/" + id + "/files/", 0), 0u)
        << "files[].url must point to exportd: " << url;
    EXPECT_EQ(url.find("X-Amz-Signature"), std::string::npos) << url;
  }
  EXPECT_EQ(task["links"].value("manifest", "").rfind(server_->base_url(), 0), 0u);

  // Downloads through exportd: the plaintext, with the task's and the manifest's sha256.
  ExpectExportMatches(*api_, task, ExpectedItems());
  DownloadedExport downloaded = DownloadExport(*api_, task);
  ASSERT_EQ(downloaded.raw.size(), 3u);
  for (size_t i = 0; i < downloaded.raw.size(); ++i) {
    const std::string stored = StoredObject(id, downloaded.names[i]);
    ASSERT_FALSE(stored.empty()) << downloaded.names[i] << " is not in the bucket";
    EXPECT_EQ(stored.compare(0, 8, kEnvelopeMagic), 0) << downloaded.names[i];
    const std::string& plain = downloaded.raw[i];
    EXPECT_EQ(stored.find(plain.substr(0, plain.find("\r\n"))), std::string::npos)
        << "the header line is in the bucket";
    EXPECT_EQ(stored.find(plain.substr(plain.size() / 2, 40)), std::string::npos)
        << "rows are in the bucket";
  }
  EXPECT_EQ(StoredObject(id, "manifest.json").compare(0, 8, kEnvelopeMagic), 0);

  const std::string& plain = downloaded.raw[1];
  HttpResponse ranged =
      api_->GetUrl(task["files"][1].value("url", ""), {{"Range", "bytes=100-299"}});
  EXPECT_EQ(ranged.status, 206) << ranged.Describe();
  EXPECT_EQ(ranged.body, plain.substr(100, 200));

  CommandResult verified =
      server_->RunCli({"verify", id, "--config", server_->config_path()}, seconds(60));
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  const HttpResponse deleted = api_->Delete("/v1/exports/" + id);
  EXPECT_EQ(deleted.status, 204) << deleted.Describe();
  EXPECT_TRUE(StoredObject(id, "part-00001.csv").empty()) << "DELETE removes the objects";
  EXPECT_EQ(api_->GetUrl(task["files"][0].value("url", "")).status, 410);
}

}  // namespace
}  // namespace exportd::itest
