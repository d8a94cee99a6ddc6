// exportd with S3 storage (storage.type "s3"), the real binary against a real S3-compatible
// server that verifies SigV4 (s3rver, tests/s3): the whole flow with pre-signed S3 download
// URLs (valid, tampered, expired), a multipart upload of a file larger than two parts, start-up
// refused for a wrong secret, transient store faults that still end in Succeeded, and DELETE
// removing the objects from the bucket.
#include <curl/curl.h>

#include <filesystem>
#include <set>

#include "tests/fakes/s3rver_process.h"
#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

namespace fs = std::filesystem;
using testing_support::S3rverProcess;

struct Fetched {
  long status = 0;
  std::string body;
  std::string error;
};

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// A plain GET with libcurl: what any client does with a pre-signed URL (no credentials).
Fetched CurlGet(const std::string& url) {
  Fetched out;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) out.error = curl_easy_strerror(rc);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  curl_easy_cleanup(curl);
  return out;
}

std::string Tamper(std::string url) {
  char& last = url.back();
  last = last == '0' ? '1' : '0';
  return url;
}

class S3ExportTest : public ExportdTest {
 protected:
  static void SetUpTestSuite() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
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
  void SetUp() override {
    ASSERT_NE(s3_, nullptr) << "s3rver did not start";
    prefix_ = std::string("itest-") +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
  }
  void TearDown() override {
    if (HasFailure() && s3_ != nullptr) {
      const std::string log = s3_->Log();
      std::cerr << "---- s3rver log (tail) ----\n"
                << log.substr(log.size() > 4000 ? log.size() - 4000 : 0) << "\n";
    }
    ExportdTest::TearDown();
  }

  Json Storage(const std::string& secret = S3rverProcess::kSecretKey) const {
    return {{"type", "s3"},
            {"endpoint", s3_->endpoint()},
            {"region", "us-east-1"},
            {"bucket", S3rverProcess::kBucket},
            {"prefix", prefix_},
            {"access_key_id", S3rverProcess::kAccessKey},
            {"secret_access_key", secret}};
  }

  // Object names the bucket holds for task `id` (s3rver keeps <key>._S3rver_object files).
  std::vector<std::string> StoredNames(const std::string& id) const {
    std::vector<std::string> names;
    const std::string suffix = "._S3rver_object";
    std::error_code ec;
    const fs::path dir = fs::path(s3_->store_dir()) / S3rverProcess::kBucket / prefix_ / id;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string file = e.path().filename().string();
      if (file.size() > suffix.size() && file.ends_with(suffix)) {
        names.push_back(file.substr(0, file.size() - suffix.size()));
      }
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  static size_t PendingUploads() {
    std::error_code ec;
    size_t n = 0;
    for (auto it = fs::directory_iterator(s3_->uploads_dir(), ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      ++n;
    }
    return n;
  }

  // Downloads every file of a Succeeded task and its manifest through their pre-signed S3 URLs
  // and checks status, bytes and sha256 against files[] and the manifest. Returns the contents.
  std::vector<std::string> DownloadAll(const Json& task) {
    std::vector<std::string> contents;
    const Json& files = task["files"];
    const Fetched manifest_res = CurlGet(task["links"].value("manifest", ""));
    EXPECT_EQ(manifest_res.status, 200) << manifest_res.error << manifest_res.body;
    const Json manifest = Json::parse(manifest_res.body, nullptr, false);
    EXPECT_TRUE(manifest.is_object()) << manifest_res.body;
    for (size_t i = 0; i < files.size(); ++i) {
      const Json& f = files[i];
      const std::string url = f.value("url", "");
      EXPECT_EQ(url.rfind(s3_->endpoint() + "/" + S3rverProcess::kBucket + "/" + prefix_, 0), 0u)
          << "files[].url points straight to the bucket: " << url;
      EXPECT_NE(url.find("X-Amz-Signature="), std::string::npos) << url;
      const Fetched got = CurlGet(url);
      EXPECT_EQ(got.status, 200) << url << " " << got.error << got.body.substr(0, 300);
      EXPECT_EQ(static_cast<int64_t>(got.body.size()), f.value("bytes", int64_t{-1}));
      EXPECT_EQ(Sha256Hex(got.body), f.value("sha256", ""));
      if (manifest.is_object() && manifest.contains("files") && i < manifest["files"].size()) {
        EXPECT_EQ(manifest["files"][i].value("sha256", ""), Sha256Hex(got.body));
      }
      contents.push_back(got.body);
    }
    return contents;
  }

  static std::vector<int64_t> FileRows(const Json& task) {
    std::vector<int64_t> rows;
    for (const auto& f : task["files"]) rows.push_back(f.value("rows", int64_t{0}));
    return rows;
  }

  static S3rverProcess* s3_;
  std::string prefix_;
};

S3rverProcess* S3ExportTest::s3_ = nullptr;

TEST_F(S3ExportTest, FullFlowWithPresignedUrlsAndDelete) {
  // Credentials from the standard environment variables this time.
  Json storage = Storage();
  storage.erase("access_key_id");
  storage.erase("secret_access_key");
  ASSERT_TRUE(StartWithItems(500, {{"storage", storage}},
                             {{"AWS_ACCESS_KEY_ID", S3rverProcess::kAccessKey},
                              {"AWS_SECRET_ACCESS_KEY", S3rverProcess::kSecretKey}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 200}});
  ASSERT_FALSE(id.empty());
  const Json task = WaitForTerminal(*api_, id, seconds(60));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump(2);
  ASSERT_EQ(task["files"].size(), 3u);

  const std::vector<std::string> contents = DownloadAll(task);
  const std::vector<std::string> problems =
      ValidateExport("csv", contents, FileRows(task), ExpectedItems());
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);

  EXPECT_EQ(StoredNames(id), (std::vector<std::string>{"manifest.json", "part-00001.csv",
                                                       "part-00002.csv", "part-00003.csv"}));
  const std::string url = task["files"][0].value("url", "");
  const Fetched tampered = CurlGet(Tamper(url));
  EXPECT_EQ(tampered.status, 403) << tampered.body;
  EXPECT_NE(tampered.body.find("SignatureDoesNotMatch"), std::string::npos) << tampered.body;

  const HttpResponse deleted = api_->Delete("/v1/exports/" + id);
  EXPECT_EQ(deleted.status, 204) << deleted.Describe();
  EXPECT_EQ(StoredNames(id), std::vector<std::string>{}) << "DELETE removes the objects";
  EXPECT_EQ(CurlGet(url).status, 404);
  EXPECT_EQ(GetTask(*api_, id)["files"], Json::array());
}

// "split_by": "partition" on S3: keys with one '/' ("<partition>/part-00001.csv"), downloads
// through their pre-signed URLs, and DELETE lists and removes them.
TEST_F(S3ExportTest, SplitExportKeysHaveAPartitionDirectory) {
  ASSERT_TRUE(StartWithItems(400, {{"storage", Storage()}}));
  const std::string id = CreateExport(
      *api_, {{"dataset", "items"}, {"split_by", "partition"}, {"max_rows_per_file", 60}});
  ASSERT_FALSE(id.empty());
  const Json task = WaitForTerminal(*api_, id, seconds(60));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump(2);
  std::vector<std::string> names;
  for (const Json& f : task["files"]) names.push_back(f.value("name", ""));
  EXPECT_EQ(names, (std::vector<std::string>{"east/part-00001.csv", "east/part-00002.csv",
                                             "north/part-00001.csv", "north/part-00002.csv",
                                             "south/part-00001.csv", "south/part-00002.csv",
                                             "west/part-00001.csv", "west/part-00002.csv"}));
  const std::vector<std::string> contents = DownloadAll(task);
  ASSERT_EQ(contents.size(), names.size());
  for (size_t i = 0; i < names.size(); i += 2) {
    const std::string region = task["files"][i].value("partition", "");
    const std::vector<std::string> problems =
        ValidateExport("csv", {contents[i], contents[i + 1]}, {60, 40},
                       ExpectedItems({}, "region = '" + region + "'"));
    EXPECT_TRUE(problems.empty()) << region << ::testing::PrintToString(problems);
  }
  const auto stored_objects = [&] {
    size_t n = 0;
    std::error_code ec;
    const fs::path dir = fs::path(s3_->store_dir()) / S3rverProcess::kBucket / prefix_ / id;
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->path().filename().string().ends_with("._S3rver_object")) ++n;
    }
    return n;
  };
  EXPECT_EQ(stored_objects(), 9u);  // eight parts and the manifest
  const HttpResponse deleted = api_->Delete("/v1/exports/" + id);
  EXPECT_EQ(deleted.status, 204) << deleted.Describe();
  EXPECT_EQ(stored_objects(), 0u) << "DELETE removes the objects in partition directories too";
}

// "downloads": "proxy": links are exportd's own, exportd reads the objects from the bucket and
// serves them, and every download is in the audit trail (a pre-signed S3 URL never reaches
// exportd, so it could not be recorded).
TEST_F(S3ExportTest, ImportFromABucketPrefixRoundTripsByteIdentical) {
  // export -> import from the export's prefix in the bucket (ListObjectsV2) -> export again.
  CreateItemsDb(source_path(), 350);
  const std::string copy_path = source_dir_.path() + "/copy.sqlite";
  CreateItemsDb(copy_path, 0);
  Json copy = ItemsDatasetConfig("copy", copy_path);
  copy["importable"] = true;
  ExportdProcess::Options options;
  options.config = {{"datasets", Json::array({ItemsDatasetConfig("items", source_path()), copy})},
                    {"storage", Storage()}};
  ASSERT_TRUE(StartServer(std::move(options)));
  const Json request = {{"dataset", "items"}, {"format", "csv"}, {"max_rows_per_file", 100}};
  const std::string id = CreateExport(*api_, request);
  const Json original = WaitForTerminal(*api_, id, seconds(60));
  ASSERT_EQ(original.value("status", ""), "Succeeded") << original.dump(2);
  ASSERT_EQ(original["files"].size(), 4u);

  auto res = api_->PostJson("/v1/imports", {{"dataset", "copy"}, {"from_prefix", id + "/"}});
  ASSERT_EQ(res.status, 202) << res.Describe();
  const std::string import_id = res.json.value("id", "");
  Json imported;
  ASSERT_TRUE(WaitFor(
      [&] {
        imported = api_->Get("/v1/imports/" + import_id).json;
        const std::string s = imported.value("status", "");
        return s == "Succeeded" || s == "Failed" || s == "Cancelled";
      },
      seconds(60)));
  ASSERT_EQ(imported.value("status", ""), "Succeeded") << imported.dump(2);
  EXPECT_EQ(imported.value("rows_inserted", -1), 350);

  Json again_request = request;
  again_request["dataset"] = "copy";
  const std::string again_id = CreateExport(*api_, again_request);
  const Json again = WaitForTerminal(*api_, again_id, seconds(60));
  ASSERT_EQ(again.value("status", ""), "Succeeded") << again.dump(2);
  const std::vector<std::string> a = DownloadAll(original);
  const std::vector<std::string> b = DownloadAll(again);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(Sha256Hex(a[i]), Sha256Hex(b[i])) << i;
    EXPECT_EQ(original["files"][i].value("sha256", ""), again["files"][i].value("sha256", ""));
  }
  // Nothing of the format under a prefix: refused at POST.
  res = api_->PostJson("/v1/imports",
                       {{"dataset", "copy"}, {"from_prefix", id + "/"}, {"format", "ndjson"}});
  EXPECT_EQ(res.status, 422) << res.Describe();
}

TEST_F(S3ExportTest, ProxiedDownloadsGoThroughExportdAndAreAudited) {
  Json storage = Storage();
  storage["downloads"] = "proxy";
  ASSERT_TRUE(StartWithItems(300, {{"storage", storage}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 200}});
  ASSERT_FALSE(id.empty());
  const Json task = WaitForTerminal(*api_, id, seconds(60));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump(2);
  ASSERT_EQ(task["files"].size(), 2u);
  EXPECT_EQ(StoredNames(id),
            (std::vector<std::string>{"manifest.json", "part-00001.csv", "part-00002.csv"}));
  std::vector<std::string> contents;
  for (const Json& f : task["files"]) {
    const std::string url = f.value("url", "");
    EXPECT_EQ(url.find("X-Amz-Signature"), std::string::npos) << url;
    EXPECT_EQ(HttpClient::PathOf(url),
              "/v1/exports/" + id + "/files/" + f.value("name", "") + url.substr(url.find('?')))
        << url;
    HttpResponse got = api_->GetUrl(url);
    EXPECT_EQ(got.status, 200) << got.Describe();
    EXPECT_EQ(Sha256Hex(got.body), f.value("sha256", ""));
    contents.push_back(got.body);
  }
  EXPECT_TRUE(ValidateExport("csv", contents, FileRows(task), ExpectedItems()).empty());
  EXPECT_EQ(api_->GetUrl(task["links"].value("manifest", "")).status, 200);
  // Every download is recorded once its last byte is sent.
  Json downloads;
  ASSERT_TRUE(WaitFor(
      [&] {
        downloads = api_->Get("/v1/audit?type=download&outcome=completed&task=" + id).json;
        return downloads.contains("items") && downloads["items"].size() == 3u;
      },
      seconds(10), milliseconds(20)))
      << downloads.dump();
  std::set<std::string> files;
  for (const Json& e : downloads["items"]) {
    files.insert(e.value("file", ""));
    EXPECT_EQ(e.value("actor", ""), "link");
    EXPECT_GT(e.value("bytes", int64_t{0}), 0) << e.dump();
  }
  EXPECT_EQ(files, (std::set<std::string>{"manifest.json", "part-00001.csv", "part-00002.csv"}));
}

TEST_F(S3ExportTest, DownloadsSettingIsChecked) {
  CreateItemsDb(source_path(), 10);
  Json storage = Storage();
  storage["downloads"] = "sideways";
  ExportdProcess::Options options;
  options.config = {{"datasets", Json::array({ItemsDatasetConfig("items", source_path())})},
                    {"storage", storage}};
  options.start_timeout = seconds(15);
  ExportdProcess server(options);
  std::string error;
  EXPECT_FALSE(server.Start(&error));
  const std::string log = server.stderr_log() + server.stdout_log();
  EXPECT_NE(log.find("storage.downloads"), std::string::npos) << log;
}

TEST_F(S3ExportTest, PresignedUrlExpiresWithTheConfiguredLifetime) {
  ASSERT_TRUE(StartWithItems(20, {{"storage", Storage()}, {"download_url_ttl_seconds", 1}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForTerminal(*api_, id, seconds(60)).value("status", ""), "Succeeded");
  const Json task = GetTask(*api_, id);
  const std::string url = task["files"][0].value("url", "");
  EXPECT_NE(url.find("X-Amz-Expires=1&"), std::string::npos) << url;
  const std::optional<int64_t> expires =
      ParseRfc3339Millis(task["files"][0].value("expires_at", ""));
  ASSERT_TRUE(expires.has_value());
  // Wait (by the wall clock, no fixed sleep) until the link's expiry has passed.
  ASSERT_TRUE(
      WaitFor([&] { return UnixNowMillis() > *expires + 1000; }, seconds(10), milliseconds(100)));
  const Fetched got = CurlGet(url);
  EXPECT_EQ(got.status, 403) << got.body;
  EXPECT_NE(got.body.find("expired"), std::string::npos) << got.body;
}

TEST_F(S3ExportTest, FileLargerThanTwoPartsUploadsAsMultipartAndDownloadsIntact) {
  // JSON rows of the items dataset are about 167 bytes: 68000 rows make one file of > 10 MiB.
  ASSERT_TRUE(StartWithItems(68000, {{"storage", [&] {
                                        Json s = Storage();
                                        s["part_size_bytes"] = 5 * 1024 * 1024;
                                        return s;
                                      }()}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"format", "json"}});
  ASSERT_FALSE(id.empty());
  const Json task = WaitForTerminal(*api_, id, seconds(100));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump(2);
  ASSERT_EQ(task["files"].size(), 1u);
  const int64_t bytes = task["files"][0].value("bytes", int64_t{0});
  EXPECT_GT(bytes, 2 * 5 * 1024 * 1024) << "the file must span more than two parts";

  const std::string key =
      "/" + std::string(S3rverProcess::kBucket) + "/" + prefix_ + id + "/part-00001.json";
  const std::string log = s3_->Log();
  EXPECT_NE(log.find("request POST " + key + "?uploads= 200"), std::string::npos)
      << "a multipart upload was started";
  EXPECT_NE(log.find("request PUT " + key + "?partNumber=3&uploadId="), std::string::npos)
      << "a third part was uploaded";
  EXPECT_EQ(log.find("request PUT " + key + " "), std::string::npos) << "not a single PutObject";
  EXPECT_EQ(PendingUploads(), 0u);

  const std::vector<std::string> contents = DownloadAll(task);
  const std::vector<std::string> problems =
      ValidateExport("json", contents, FileRows(task), ExpectedItems());
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);

  // exportd verify reads the objects back through the store (ranged GETs).
  const CommandResult verify =
      server_->RunCli({"verify", id, "--config", server_->config_path()}, seconds(60));
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST_F(S3ExportTest, CancelMidFileAbortsTheMultipartUpload) {
  // 40000 JSON rows (about 6.7 MB) at 10000 rows/s: the first 5 MiB part is uploaded after
  // about 3 s, and the file is still being written when the test cancels.
  ASSERT_TRUE(StartWithItems(40000, {{"storage",
                                      [&] {
                                        Json s = Storage();
                                        s["part_size_bytes"] = 5 * 1024 * 1024;
                                        return s;
                                      }()},
                                     {"max_rows_per_second", 10000}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"format", "json"}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor([&] { return PendingUploads() == 1; }, seconds(30)))
      << "no multipart upload started";
  const HttpResponse cancelled = api_->PostJson("/v1/exports/" + id + "/cancel", Json::object());
  EXPECT_EQ(cancelled.status, 202) << cancelled.Describe();
  const Json task = WaitForTerminal(*api_, id, seconds(30));
  EXPECT_EQ(task.value("status", ""), "Cancelled") << task.dump(2);
  EXPECT_TRUE(WaitFor([&] { return PendingUploads() == 0; }, seconds(10)))
      << "the cancelled export's multipart upload was not aborted";
  EXPECT_TRUE(WaitFor([&] { return StoredNames(id).empty(); }, seconds(10)))
      << ::testing::PrintToString(StoredNames(id));
  EXPECT_NE(s3_->Log().find("request DELETE /" + std::string(S3rverProcess::kBucket) + "/" +
                            prefix_ + id + "/part-00001.json?uploadId="),
            std::string::npos)
      << "AbortMultipartUpload was called";
}

TEST_F(S3ExportTest, WrongSecretRefusesToStartWithAClearMessage) {
  CreateItemsDb(source_path(), 10);
  ExportdProcess::Options options;
  options.config = {{"datasets", Json::array({ItemsDatasetConfig("items", source_path())})},
                    {"storage", Storage("not-the-secret")}};
  options.start_timeout = seconds(15);
  ExportdProcess server(options);
  std::string error;
  EXPECT_FALSE(server.Start(&error)) << "exportd must not serve with credentials S3 refuses";
  const std::string log = server.stderr_log() + server.stdout_log();
  EXPECT_NE(log.find("S3 bucket 'test-bucket'"), std::string::npos) << log;
  EXPECT_NE(log.find("SignatureDoesNotMatch"), std::string::npos) << log;
  EXPECT_NE(log.find("check the credentials"), std::string::npos) << log;
}

TEST_F(S3ExportTest, TransientStoreFaultsStillSucceedWithExactDataAndNoDebris) {
  const Json faults = {{"seed", 4242},
                       {"object_store", {{"write_fail_rate", 0.2}, {"commit_fail_rate", 0.2}}}};
  ASSERT_TRUE(StartWithItems(400, {{"storage", Storage()},
                                   {"workers", 1},
                                   {"max_attempts", 60},
                                   {"retry_base_delay_ms", 5},
                                   {"retry_max_delay_ms", 40},
                                   {"fault_injection", faults}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 100}});
  ASSERT_FALSE(id.empty());
  const Json task = WaitForTerminal(*api_, id, seconds(100));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump(2);
  EXPECT_GT(task.value("attempts", 0), 1) << "faults were injected and retried";

  const std::vector<std::string> contents = DownloadAll(task);
  const std::vector<std::string> problems =
      ValidateExport("csv", contents, FileRows(task), ExpectedItems());
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
  std::vector<std::string> expected = {"manifest.json"};
  for (const auto& f : task["files"]) expected.push_back(f.value("name", ""));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(StoredNames(id), expected) << "only the task's files and manifest are in the bucket";
  EXPECT_EQ(PendingUploads(), 0u);
}

// An S3 call signed by libcurl (SigV4) with s3rver's credentials, as an operator's tool would
// make it; returns the HTTP status.
long SignedS3Call(const std::string& method, const std::string& url) {
  std::string body;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
  const std::string user = std::string(S3rverProcess::kAccessKey) + ":" + S3rverProcess::kSecretKey;
  curl_easy_setopt(curl, CURLOPT_USERPWD, user.c_str());
  // SHA-256 of the empty body (curl does not add this header itself).
  curl_slist* headers = curl_slist_append(
      nullptr,
      "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return status;
}

// /readyz checks the bucket (OWASP API8: a misconfigured or vanished dependency is reported,
// not discovered by the next export): 503 problem naming the failing check while the bucket is
// gone or S3 is down, 200 again once it is back; probes in between are answered from a cache.
TEST_F(S3ExportTest, ReadyzReportsTheBucketAndRecovers) {
  ASSERT_TRUE(StartWithItems(5, {{"storage", Storage()}}));
  auto ready = [&] { return api_->Send("GET", "/readyz", "", "", {}, /*with_auth=*/false); };
  const HttpResponse first = ready();
  ASSERT_EQ(first.status, 200) << first.Describe();
  EXPECT_EQ(first.json.value("status", ""), "ready") << first.Describe();

  // Cached: a burst of probes makes at most one more HEAD of the bucket.
  const std::string head = "request HEAD /" + std::string(S3rverProcess::kBucket) + " ";
  auto heads = [&] {
    const std::string log = s3_->Log();
    size_t n = 0;
    for (size_t pos = 0; (pos = log.find(head, pos)) != std::string::npos; pos += head.size()) ++n;
    return n;
  };
  const size_t before = heads();
  ASSERT_GE(before, 1u) << "the bucket was never checked: " << s3_->Log();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(ready().status, 200) << i;
  EXPECT_LE(heads() - before, 1u) << "every probe went to S3";

  // The bucket is deleted behind exportd's back.
  const std::string bucket_url = s3_->endpoint() + "/" + S3rverProcess::kBucket;
  ASSERT_EQ(SignedS3Call("DELETE", bucket_url), 204) << s3_->Log();
  HttpResponse down;
  ASSERT_TRUE(
      WaitFor([&] { return (down = ready()).status == 503; }, seconds(20), milliseconds(200)))
      << down.Describe();
  EXPECT_TRUE(IsProblem(down));
  const std::string detail = down.json.value("detail", "");
  EXPECT_NE(detail.find("object store"), std::string::npos) << detail;
  EXPECT_NE(detail.find("S3 bucket 'test-bucket'"), std::string::npos) << detail;
  EXPECT_NE(detail.find("NoSuchBucket"), std::string::npos) << detail;
  EXPECT_FALSE(down.Header("Retry-After").empty());
  EXPECT_EQ(api_->Get("/healthz").status, 200) << "liveness does not depend on S3";

  // Back: ready again.
  ASSERT_EQ(SignedS3Call("PUT", bucket_url), 200) << s3_->Log();
  HttpResponse up;
  EXPECT_TRUE(WaitFor([&] { return (up = ready()).status == 200; }, seconds(20), milliseconds(200)))
      << up.Describe();

  // S3 itself gone: 503 soon, and each probe answers quickly (one short attempt, no retries).
  s3_->Stop();
  EXPECT_TRUE(
      WaitFor([&] { return (down = ready()).status == 503; }, seconds(20), milliseconds(200)))
      << down.Describe();
  EXPECT_NE(down.json.value("detail", "").find("S3 bucket 'test-bucket'"), std::string::npos)
      << down.Describe();
  const auto started = Clock::now();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(ready().status, 503);
  EXPECT_LT(Clock::now() - started, seconds(3)) << "probes wait for S3";
  // Later tests of this process need a server again (on a new port).
  std::string error;
  ASSERT_TRUE(s3_->Start(&error)) << error;
}

}  // namespace
}  // namespace exportd::itest
