// S3ObjectStore and S3Client against a real S3-compatible server that verifies SigV4 signatures
// (s3rver, started per test suite): small and multipart uploads, abort, gzip, deletes,
// pre-signed URLs (valid, tampered, expired) and credentials that S3 refuses.
#include "storage/s3/s3_object_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "core/time_format.h"
#include "storage/base/curl_util.h"
#include "storage/base/digest.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/gunzip.h"
#include "tests/fakes/s3rver_process.h"

namespace exportd {
namespace {

using fakes::Gunzip;

using testing_support::S3rverProcess;

std::string RandomText(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>('a' + rng() % 26);
  return out;
}

size_t PendingUploads(const S3rverProcess& s3) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator(s3.uploads_dir(), ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

Result<HttpResponse> Fetch(const std::string& url) {
  HttpRequest request;
  request.url = url;
  return PerformHttp(request);
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

class S3ObjectStoreTest : public ::testing::Test {
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

  static S3StoreOptions Options(const std::string& secret = S3rverProcess::kSecretKey) {
    S3StoreOptions o;
    o.client.endpoint = s3_->endpoint();
    o.client.region = "us-east-1";
    o.client.bucket = S3rverProcess::kBucket;
    o.client.path_style = true;
    o.client.credentials = {S3rverProcess::kAccessKey, secret, ""};
    o.client.retry_base_delay = std::chrono::milliseconds(5);
    o.prefix = "unit/";
    o.part_size_bytes = kS3MinPartSize;
    return o;
  }

  static Result<ObjectInfo> Put(ObjectStore& store, const std::string& task,
                                const std::string& name, const std::string& data,
                                bool gzip = false) {
    ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> w,
                     store.Create(task, name, {.content_type = "text/csv", .gzip = gzip}));
    RETURN_IF_ERROR(w->Write(data));
    return w->Commit();
  }

  // The next `count` requests with `method` get `status` and S3 error `code` (s3rver.mjs).
  static void InjectFaults(const std::string& method, int count, int status,
                           const std::string& code) {
    HttpRequest request;
    request.method = "POST";
    request.url = s3_->endpoint() + "/__faults?method=" + method +
                  "&count=" + std::to_string(count) + "&status=" + std::to_string(status) +
                  "&code=" + code;
    Result<HttpResponse> res = PerformHttp(request);
    ASSERT_TRUE(res.ok() && res->status == 204) << "cannot inject faults";
  }

  static S3rverProcess* s3_;
  SystemClock clock_;
};

S3rverProcess* S3ObjectStoreTest::s3_ = nullptr;

TEST_F(S3ObjectStoreTest, SmallObjectIsOnePutAndReadsBack) {
  S3ObjectStore store(Options(), clock_);
  const std::string data = "id,name\r\n1,alpha\r\n2,beta\r\n";
  Result<ObjectInfo> info = Put(store, "small1", "part-00001.csv", data);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->bytes, static_cast<int64_t>(data.size()));
  EXPECT_EQ(info->sha256, Sha256Hex(data));
  EXPECT_EQ(PendingUploads(*s3_), 0u) << "a small object needs no multipart upload";

  Result<std::string> body = store.client().GetObject("unit/small1/part-00001.csv");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, data);

  Result<std::unique_ptr<ObjectReader>> reader = store.Open("small1", "part-00001.csv");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), static_cast<int64_t>(data.size()));
  char buf[5];
  Result<size_t> n = (*reader)->ReadAt(3, buf, sizeof buf);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(std::string(buf, *n), data.substr(3, 5));
  n = (*reader)->ReadAt(static_cast<int64_t>(data.size()), buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);

  EXPECT_EQ(store.Open("small1", "missing.csv").status().code(), StatusCode::kNotFound);
}

TEST_F(S3ObjectStoreTest, LargeObjectStreamsAsMultipartAndIsInvisibleUntilCommit) {
  S3ObjectStore store(Options(), clock_);
  const std::string data = RandomText((size_t{23} << 20) / 2, 7);  // 11.5 MiB: three parts
  auto writer = store.Create("multi1", "part-00001.csv", {.content_type = "text/csv"});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  std::mt19937_64 rng(1);
  size_t written = 0;
  bool saw_pending_upload = false;
  while (written < data.size()) {
    const size_t n = std::min<size_t>(data.size() - written, 1 + rng() % 300000);
    ASSERT_TRUE((*writer)->Write(std::string_view(data).substr(written, n)).ok());
    written += n;
    if (written > (size_t{6} << 20)) saw_pending_upload |= PendingUploads(*s3_) == 1;
  }
  EXPECT_TRUE(saw_pending_upload) << "parts are uploaded while writing, not at Commit";
  EXPECT_EQ(store.client().HeadObject("unit/multi1/part-00001.csv").status().code(),
            StatusCode::kNotFound)
      << "nothing is visible before Commit";
  Result<ObjectInfo> info = (*writer)->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->bytes, static_cast<int64_t>(data.size()));
  EXPECT_EQ(info->sha256, Sha256Hex(data));
  EXPECT_EQ(PendingUploads(*s3_), 0u);

  Result<std::string> body = store.client().GetObject("unit/multi1/part-00001.csv");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body->size(), data.size());
  EXPECT_EQ(Sha256Hex(*body), info->sha256);

  // Ranged reads across the part boundaries.
  Result<std::unique_ptr<ObjectReader>> reader = store.Open("multi1", "part-00001.csv");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), static_cast<int64_t>(data.size()));
  for (int64_t offset : {int64_t{0}, kS3MinPartSize - 3, 2 * kS3MinPartSize - 1,
                         static_cast<int64_t>(data.size()) - 10}) {
    std::string buf(64, '\0');
    Result<size_t> n = (*reader)->ReadAt(offset, buf.data(), buf.size());
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    const size_t expected = std::min<size_t>(64, data.size() - static_cast<size_t>(offset));
    EXPECT_EQ(buf.substr(0, *n), data.substr(static_cast<size_t>(offset), expected))
        << "at " << offset;
  }
}

TEST_F(S3ObjectStoreTest, WriterDestroyedWithoutCommitAbortsItsUpload) {
  S3ObjectStore store(Options(), clock_);
  {
    auto writer = store.Create("abort1", "part-00001.csv", {.content_type = "text/csv"});
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(RandomText(size_t{6} << 20, 3)).ok());
    ASSERT_EQ(PendingUploads(*s3_), 1u) << "the first part was uploaded";
  }
  EXPECT_EQ(PendingUploads(*s3_), 0u) << "the pending upload was aborted";
  EXPECT_EQ(store.client().HeadObject("unit/abort1/part-00001.csv").status().code(),
            StatusCode::kNotFound);
  Result<S3ListPage> page = store.client().ListObjectsV2("unit/abort1/");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->keys.empty());
}

TEST_F(S3ObjectStoreTest, GzipDescribesTheStoredBytes) {
  S3ObjectStore store(Options(), clock_);
  std::string data;
  for (int i = 0; i < 20000; ++i) data += std::to_string(i) + ",some repeated text\r\n";
  Result<ObjectInfo> info = Put(store, "gzip1", "part-00001.csv.gz", data, /*gzip=*/true);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  Result<std::string> body = store.client().GetObject("unit/gzip1/part-00001.csv.gz");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_LT(body->size(), data.size() / 4);
  EXPECT_EQ(info->bytes, static_cast<int64_t>(body->size()));
  EXPECT_EQ(info->sha256, Sha256Hex(*body));
  EXPECT_EQ(Gunzip(*body), data);
}

TEST_F(S3ObjectStoreTest, DeleteExceptAndDeleteAllTouchOnlyTheirTask) {
  S3ObjectStore store(Options(), clock_);
  for (const char* name : {"part-00001.csv", "part-00002.csv", "manifest.json"}) {
    ASSERT_TRUE(Put(store, "delA", name, name).ok());
  }
  ASSERT_TRUE(Put(store, "delAB", "part-00001.csv", "other task").ok());  // shares a prefix

  // Listings page with continuation tokens.
  Result<S3ListPage> first = store.client().ListObjectsV2("unit/delA/", "", 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->keys.size(), 2u);
  ASSERT_FALSE(first->next_continuation_token.empty());
  Result<S3ListPage> second =
      store.client().ListObjectsV2("unit/delA/", first->next_continuation_token, 2);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->keys.size(), 1u);
  EXPECT_TRUE(second->next_continuation_token.empty());

  ASSERT_TRUE(store.DeleteExcept("delA", {"part-00001.csv"}).ok());
  Result<S3ListPage> page = store.client().ListObjectsV2("unit/delA/");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->keys, std::vector<std::string>{"unit/delA/part-00001.csv"});

  ASSERT_TRUE(store.DeleteAll("delA").ok());
  page = store.client().ListObjectsV2("unit/delA/");
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->keys.empty());
  EXPECT_TRUE(store.DeleteAll("delA").ok()) << "nothing left is not an error";

  Result<std::string> other = store.client().GetObject("unit/delAB/part-00001.csv");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(*other, "other task");
}

TEST_F(S3ObjectStoreTest, ListPagesWithContinuationTokensInKeyOrder) {
  S3ObjectStore store(Options(), clock_);
  for (const char* name : {"part-00002.csv", "part-00001.csv", "manifest.json", "a/part-00001.csv",
                           "b/part-00001.csv"}) {
    ASSERT_TRUE(Put(store, "list1", name, "x,y\r\n").ok()) << name;
  }
  ASSERT_TRUE(Put(store, "list12", "part-00001.csv", "abc").ok());
  ASSERT_TRUE(Put(store, "list2", "part-00001.csv", "abc").ok());
  // Keys that no writer of the store makes are not listed.
  ASSERT_TRUE(store.client().PutObject("unit/list1/has space.csv", "odd", "text/csv").ok());
  ASSERT_TRUE(store.client().PutObject("unit/list1.csv", "odd", "text/csv").ok());
  // An upload left pending is invisible.
  auto pending = store.Create("list1", "part-00003.csv", {.content_type = "text/csv"});
  ASSERT_TRUE(pending.ok());
  ASSERT_TRUE((*pending)->Write(std::string(kS3MinPartSize + 10, 'x')).ok());

  auto list_all = [&](std::string_view prefix, size_t page_size, int* pages) {
    std::vector<std::string> out;
    std::string token;
    *pages = 0;
    do {
      Result<ObjectPage> page = store.List(prefix, token, page_size);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      EXPECT_LE(page->objects.size(), page_size);
      for (const ListedObject& o : page->objects) {
        out.push_back(o.task_id + "/" + o.name + ":" + std::to_string(o.bytes));
      }
      token = page->next_page_token;
      ++*pages;
    } while (!token.empty() && *pages < 100);
    return out;
  };
  int pages = 0;
  const std::vector<std::string> list1 = {"list1/a/part-00001.csv:5", "list1/b/part-00001.csv:5",
                                          "list1/manifest.json:5", "list1/part-00001.csv:5",
                                          "list1/part-00002.csv:5"};
  EXPECT_EQ(list_all("list1/", 2, &pages), list1);
  EXPECT_GE(pages, 3) << "six keys (one left out) in pages of two";
  std::vector<std::string> both = list1;
  both.push_back("list12/part-00001.csv:3");
  EXPECT_EQ(list_all("list1", 1000, &pages), both);
  EXPECT_EQ(pages, 1);
  EXPECT_TRUE(list_all("list3/", 10, &pages).empty());
  EXPECT_EQ(store.List("../x", "", 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.List("", "", 10).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(S3ObjectStoreTest, PresignedUrlServesTheBytesUntilItExpires) {
  S3ObjectStore store(Options(), clock_);
  const std::string data = "presigned,bytes\r\n";
  ASSERT_TRUE(Put(store, "url1", "part-00001.csv", data).ok());

  Result<std::string> url =
      store.DownloadUrl("url1", "part-00001.csv", clock_.Now() + std::chrono::minutes(5));
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->rfind(s3_->endpoint() + "/test-bucket/unit/url1/part-00001.csv?", 0), 0u) << *url;
  EXPECT_NE(url->find("X-Amz-Expires=300&"), std::string::npos) << *url;
  EXPECT_NE(
      url->find("response-content-disposition=attachment%3B%20filename%3D%22part-00001.csv%22"),
      std::string::npos)
      << *url;
  Result<HttpResponse> got = Fetch(*url);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, 200) << got->body;
  EXPECT_EQ(got->body, data);
  EXPECT_EQ(got->Header("content-disposition"), "attachment; filename=\"part-00001.csv\"");

  std::string tampered = *url;
  char& last = tampered.back();
  last = last == '0' ? '1' : '0';
  got = Fetch(tampered);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, 403);
  EXPECT_NE(got->body.find("SignatureDoesNotMatch"), std::string::npos) << got->body;

  // Signed two hours ago for one minute.
  fakes::FakeClock past(clock_.Now() - std::chrono::hours(2));
  S3ObjectStore old_store(Options(), past);
  Result<std::string> expired =
      old_store.DownloadUrl("url1", "part-00001.csv", past.Now() + std::chrono::minutes(1));
  ASSERT_TRUE(expired.ok());
  got = Fetch(*expired);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, 403);
  EXPECT_NE(got->body.find("expired"), std::string::npos) << got->body;
}

TEST_F(S3ObjectStoreTest, WrongSecretIsAPermanentErrorNamingS3sCode) {
  S3ObjectStore store(Options("not-the-secret"), clock_);
  Status bucket = store.CheckBucket();
  EXPECT_EQ(bucket.code(), StatusCode::kPermissionDenied) << bucket.ToString();
  Result<ObjectInfo> put = Put(store, "wrong1", "part-00001.csv", "x");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), StatusCode::kPermissionDenied) << put.status().ToString();
  EXPECT_FALSE(IsTransient(put.status().code()));
  EXPECT_NE(put.status().message().find("SignatureDoesNotMatch"), std::string::npos)
      << put.status().ToString();
  EXPECT_NE(put.status().message().find("unit/wrong1/part-00001.csv"), std::string::npos);
}

TEST_F(S3ObjectStoreTest, TransientErrorsAreRetriedWithBackoff) {
  S3ObjectStore store(Options(), clock_);  // 4 attempts
  InjectFaults("PUT", 2, 503, "SlowDown");
  Result<ObjectInfo> put = Put(store, "retry1", "part-00001.csv", "after two 503s");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(Count(s3_->Log(), "request PUT /test-bucket/unit/retry1/part-00001.csv 503"), 2u);
  EXPECT_EQ(Count(s3_->Log(), "request PUT /test-bucket/unit/retry1/part-00001.csv 200"), 1u);

  InjectFaults("GET", 1, 500, "InternalError");
  InjectFaults("HEAD", 1, 429, "SlowDown");
  Result<std::unique_ptr<ObjectReader>> reader = store.Open("retry1", "part-00001.csv");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  char buf[64];
  Result<size_t> n = (*reader)->ReadAt(0, buf, sizeof buf);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(std::string(buf, *n), "after two 503s");
}

TEST_F(S3ObjectStoreTest, TransientErrorsBeyondTheLastAttemptStayTransient) {
  S3StoreOptions o = Options();
  o.client.max_attempts = 2;
  S3ObjectStore store(o, clock_);
  InjectFaults("PUT", 2, 503, "SlowDown");
  Result<ObjectInfo> put = Put(store, "retry2", "part-00001.csv", "x");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), StatusCode::kUnavailable) << put.status().ToString();
  EXPECT_NE(put.status().message().find("SlowDown"), std::string::npos);
  EXPECT_NE(put.status().message().find("after 2 attempts"), std::string::npos);

  // 400 RequestTimeout (S3's answer to a stalled upload) is transient too; 400 otherwise is not.
  InjectFaults("PUT", 2, 400, "RequestTimeout");
  EXPECT_EQ(Put(store, "retry2", "part-00001.csv", "x").status().code(), StatusCode::kUnavailable);
  InjectFaults("PUT", 1, 400, "InvalidArgument");
  put = Put(store, "retry2", "part-00001.csv", "x");
  EXPECT_EQ(put.status().code(), StatusCode::kInvalidArgument) << put.status().ToString();
  EXPECT_EQ(put.status().message().find("attempts"), std::string::npos) << "not retried";
}

TEST_F(S3ObjectStoreTest, UnknownBucketAndUnreachableEndpointAreClear) {
  S3StoreOptions o = Options();
  o.client.bucket = "no-such-bucket";
  S3ObjectStore missing(o, clock_);
  Status status = missing.CheckBucket();
  EXPECT_FALSE(status.ok());
  EXPECT_FALSE(IsTransient(status.code())) << status.ToString();

  o = Options();
  o.client.endpoint = "http://127.0.0.1:1";  // nothing listens there
  o.client.max_attempts = 2;
  S3ObjectStore down(o, clock_);
  status = down.CheckBucket();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find("after 2 attempts"), std::string::npos) << status.ToString();
}

}  // namespace
}  // namespace exportd
