#include "storage/fs/local_object_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/time_format.h"
#include "storage/base/digest.h"
#include "storage/base/posix_error.h"
#include "tests/fakes/gunzip.h"

namespace exportd {
namespace {

using fakes::Gunzip;

namespace fs = std::filesystem;

std::string ReadFileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class LocalObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "local_store_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    root_ = base_ / "exports";
    signer_ = std::make_shared<UrlSigner>("test-secret");
    store_ = std::make_unique<LocalObjectStore>(root_.string(), signer_, "http://127.0.0.1:8080/");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  std::unique_ptr<ObjectWriter> MustCreate(std::string_view task, std::string_view name,
                                           bool gzip = false) {
    ObjectOptions options;
    options.content_type = "text/csv";
    options.gzip = gzip;
    auto writer = store_->Create(task, name, options);
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    return writer.ok() ? std::move(writer).value() : nullptr;
  }

  fs::path base_;
  fs::path root_;
  std::shared_ptr<UrlSigner> signer_;
  std::unique_ptr<LocalObjectStore> store_;
};

TEST_F(LocalObjectStoreTest, NothingIsVisibleBeforeCommit) {
  auto writer = MustCreate("task1", "part-00001.csv");
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Write("a,b\r\n").ok());
  ASSERT_TRUE(writer->Write("1,2\r\n").ok());
  EXPECT_FALSE(fs::exists(root_ / "task1" / "part-00001.csv"));
  EXPECT_EQ(store_->Open("task1", "part-00001.csv").status().code(), StatusCode::kNotFound);

  Result<ObjectInfo> info = writer->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->bytes, 10);
  EXPECT_EQ(info->sha256, Sha256Hex("a,b\r\n1,2\r\n"));
  EXPECT_EQ(ReadFileBytes(root_ / "task1" / "part-00001.csv"), "a,b\r\n1,2\r\n");
  EXPECT_EQ(Entries(root_ / "task1"), std::vector<std::string>{"part-00001.csv"});
  EXPECT_EQ(writer->Commit().status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(writer->Write("more").ok());
}

TEST_F(LocalObjectStoreTest, WithoutDigestTheBytesAreStoredAndNoSha256IsReported) {
  ObjectOptions options;
  options.content_type = "text/csv";
  options.digest = false;
  auto writer = store_->Create("task1", "part-00001.csv", options);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->Write("a,b\r\n1,2\r\n").ok());
  Result<ObjectInfo> info = (*writer)->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->bytes, 10);
  EXPECT_EQ(info->sha256, "");
  EXPECT_EQ(ReadFileBytes(root_ / "task1" / "part-00001.csv"), "a,b\r\n1,2\r\n");
}

TEST_F(LocalObjectStoreTest, AbandonedWriterLeavesNothing) {
  {
    auto writer = MustCreate("task1", "part-00001.csv");
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer->Write(std::string(3 << 20, 'x')).ok());
    EXPECT_EQ(Entries(root_ / "task1").size(), 1u);  // the temporary file
  }
  EXPECT_TRUE(Entries(root_ / "task1").empty());
}

TEST_F(LocalObjectStoreTest, LargeAndSmallWritesKeepOrder) {
  auto writer = MustCreate("task1", "big.bin");
  ASSERT_NE(writer, nullptr);
  std::string expected;
  for (int i = 0; i < 40; ++i) {
    const std::string chunk(static_cast<size_t>(i % 3 == 0 ? (1 << 20) + i : 1000 + i),
                            static_cast<char>('a' + i % 26));
    ASSERT_TRUE(writer->Write(chunk).ok());
    expected += chunk;
  }
  Result<ObjectInfo> info = writer->Commit();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->bytes, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(info->sha256, Sha256Hex(expected));
  EXPECT_EQ(ReadFileBytes(root_ / "task1" / "big.bin"), expected);
}

TEST_F(LocalObjectStoreTest, GzipStoresACompressedObjectAndDescribesIt) {
  std::string expected;
  for (int i = 0; i < 200000; ++i) expected += "row " + std::to_string(i) + ",basalt\r\n";
  auto writer = MustCreate("task1", "part-00001.csv.gz", /*gzip=*/true);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Write(expected.substr(0, 1000)).ok());
  ASSERT_TRUE(writer->Write(expected.substr(1000)).ok());
  Result<ObjectInfo> info = writer->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  const std::string stored = ReadFileBytes(root_ / "task1" / "part-00001.csv.gz");
  EXPECT_EQ(info->bytes, static_cast<int64_t>(stored.size()));
  EXPECT_EQ(info->sha256, Sha256Hex(stored));
  EXPECT_LT(stored.size(), expected.size() / 3);
  ASSERT_GE(stored.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(stored[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(stored[1]), 0x8b);
  EXPECT_EQ(Gunzip(stored), expected);
}

TEST_F(LocalObjectStoreTest, EmptyGzipObjectIsAValidGzipStream) {
  auto writer = MustCreate("task1", "empty.gz", /*gzip=*/true);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Commit().ok());
  EXPECT_EQ(Gunzip(ReadFileBytes(root_ / "task1" / "empty.gz")), "");
}

TEST_F(LocalObjectStoreTest, OpenReadsACommittedObject) {
  auto writer = MustCreate("task1", "f.txt");
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Write("hello, world").ok());
  ASSERT_TRUE(writer->Commit().ok());

  Result<std::unique_ptr<ObjectReader>> reader = store_->Open("task1", "f.txt");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), 12);
  char buf[16];
  Result<size_t> n = (*reader)->ReadAt(7, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "world");
  n = (*reader)->ReadAt(12, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(store_->Open("task1", "other.txt").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Open("task2", "f.txt").status().code(), StatusCode::kNotFound);
}

TEST_F(LocalObjectStoreTest, CommitReplacesAnEarlierObject) {
  for (const char* content : {"first", "second"}) {
    auto writer = MustCreate("task1", "f.txt");
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer->Write(content).ok());
    ASSERT_TRUE(writer->Commit().ok());
  }
  EXPECT_EQ(ReadFileBytes(root_ / "task1" / "f.txt"), "second");
}

TEST_F(LocalObjectStoreTest, DeleteAllRemovesCommittedAndPartialObjects) {
  auto committed = MustCreate("task1", "a.csv");
  ASSERT_NE(committed, nullptr);
  ASSERT_TRUE(committed->Write("x").ok());
  ASSERT_TRUE(committed->Commit().ok());
  auto partial = MustCreate("task1", "b.csv");
  ASSERT_NE(partial, nullptr);
  ASSERT_TRUE(partial->Write("y").ok());
  auto other = MustCreate("task2", "a.csv");
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->Commit().ok());

  ASSERT_TRUE(store_->DeleteAll("task1").ok());
  EXPECT_FALSE(fs::exists(root_ / "task1"));
  EXPECT_TRUE(fs::exists(root_ / "task2" / "a.csv"));
  EXPECT_TRUE(store_->DeleteAll("task1").ok());  // nothing left: still OK
  EXPECT_TRUE(store_->DeleteAll("never").ok());
  // The partial writer can no longer publish into the removed directory.
  EXPECT_FALSE(partial->Commit().ok());
}

TEST_F(LocalObjectStoreTest, DeleteExceptKeepsTheCheckpointedObjectsOnly) {
  for (const char* name : {"part-00001.csv", "part-00002.csv", "part-00003.csv", "manifest.json"}) {
    auto writer = MustCreate("task1", name);
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer->Write(name).ok());
    ASSERT_TRUE(writer->Commit().ok());
  }
  // A temporary file as a crash leaves it: its writer never ran its destructor.
  std::ofstream(root_ / "task1" / ".part-00004.csv.tmp-0123456789abcdef") << "partial";
  auto other = MustCreate("task2", "part-00003.csv");
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->Commit().ok());

  ASSERT_TRUE(store_->DeleteExcept("task1", {"part-00001.csv", "part-00002.csv"}).ok());
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(root_ / "task1")) {
    left.push_back(e.path().filename().string());
  }
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"part-00001.csv", "part-00002.csv"}));
  EXPECT_EQ(ReadFileBytes(root_ / "task1" / "part-00001.csv"), "part-00001.csv");
  EXPECT_TRUE(fs::exists(root_ / "task2" / "part-00003.csv"));
  EXPECT_TRUE(store_->DeleteExcept("never", {}).ok());
  EXPECT_EQ(store_->DeleteExcept("../x", {}).code(), StatusCode::kInvalidArgument);
}

TEST_F(LocalObjectStoreTest, PartitionSubDirectoriesPublishReadAndDelete) {
  for (const char* name : {"a/part-00001.csv", "a/part-00002.csv", "b~2Fx/part-00001.csv",
                           "~NULL/part-00001.csv", "manifest.json"}) {
    auto writer = MustCreate("task1", name);
    ASSERT_NE(writer, nullptr) << name;
    // Nothing is visible in the sub-directory before Commit().
    EXPECT_FALSE(fs::exists(root_ / "task1" / name));
    ASSERT_TRUE(writer->Write(name).ok());
    ASSERT_TRUE(writer->Commit().ok());
  }
  EXPECT_EQ(ReadFileBytes(root_ / "task1" / "b~2Fx" / "part-00001.csv"), "b~2Fx/part-00001.csv");
  Result<std::unique_ptr<ObjectReader>> reader = store_->Open("task1", "~NULL/part-00001.csv");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), 20);
  EXPECT_EQ(store_->Open("task1", "a").status().code(), StatusCode::kNotFound);
  Result<std::string> url = store_->DownloadUrl("task1", "b~2Fx/part-00001.csv", TimePoint{});
  ASSERT_TRUE(url.ok());
  EXPECT_NE(url->find("/v1/exports/task1/files/b~2Fx/part-00001.csv?expires="), std::string::npos);

  // A crash's temporary file inside a sub-directory, and a whole series after the checkpoint.
  std::ofstream(root_ / "task1" / "a" / ".part-00003.csv.tmp-0123456789abcdef") << "partial";
  ASSERT_TRUE(store_->DeleteExcept("task1", {"a/part-00001.csv", "manifest.json"}).ok());
  std::vector<std::string> left;
  for (const auto& e : fs::recursive_directory_iterator(root_ / "task1")) {
    left.push_back(fs::relative(e.path(), root_ / "task1").string());
  }
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"a", "a/part-00001.csv", "manifest.json"}));

  ASSERT_TRUE(store_->DeleteAll("task1").ok());
  EXPECT_FALSE(fs::exists(root_ / "task1"));
}

// Every path List gives for `prefix`, page by page of `page` objects.
std::vector<std::string> ListAll(ObjectStore& store, std::string_view prefix, size_t page,
                                 int* pages = nullptr) {
  std::vector<std::string> out;
  std::string token;
  int n = 0;
  do {
    Result<ObjectPage> p = store.List(prefix, token, page);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) break;
    EXPECT_LE(p->objects.size(), page);
    for (const ListedObject& o : p->objects) out.push_back(o.task_id + "/" + o.name);
    token = p->next_page_token;
    ++n;
  } while (!token.empty() && n < 100);
  if (pages != nullptr) *pages = n;
  return out;
}

TEST_F(LocalObjectStoreTest, ListPagesThroughCommittedObjectsInPathOrder) {
  for (const auto& [task, name] :
       std::vector<std::pair<std::string, std::string>>{{"task1", "part-00002.csv"},
                                                        {"task1", "part-00001.csv"},
                                                        {"task1", "manifest.json"},
                                                        {"task1", "b/part-00001.csv"},
                                                        {"task1", "a/part-00001.csv"},
                                                        {"task12", "part-00001.csv"},
                                                        {"task2", "part-00001.csv"}}) {
    auto writer = MustCreate(task, name);
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer->Write("x,y\r\n").ok());
    ASSERT_TRUE(writer->Commit().ok());
  }
  // Never listed: an uncommitted writer, a crash's temporary file, a name no writer makes, and
  // a file beside the root.
  auto open_writer = MustCreate("task1", "part-00003.csv");
  std::ofstream(root_ / "task1" / ".part-00004.csv.tmp-0123456789abcdef") << "partial";
  std::ofstream(root_ / "task1" / "has space.csv") << "odd";
  std::ofstream(base_ / "secret.csv") << "outside";

  const std::vector<std::string> task1 = {"task1/a/part-00001.csv", "task1/b/part-00001.csv",
                                          "task1/manifest.json", "task1/part-00001.csv",
                                          "task1/part-00002.csv"};
  int pages = 0;
  EXPECT_EQ(ListAll(*store_, "task1/", 2, &pages), task1);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ListAll(*store_, "task1/", 1000), task1);
  std::vector<std::string> both = task1;
  both.push_back("task12/part-00001.csv");
  EXPECT_EQ(ListAll(*store_, "task1", 3), both);
  EXPECT_EQ(ListAll(*store_, "task1/part-", 1),
            (std::vector<std::string>{"task1/part-00001.csv", "task1/part-00002.csv"}));
  EXPECT_EQ(ListAll(*store_, "task1/a/", 10), (std::vector<std::string>{"task1/a/part-00001.csv"}));
  EXPECT_TRUE(ListAll(*store_, "task3/", 10).empty());
  Result<ObjectPage> page = store_->List("task2/", "", 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].bytes, 5);
  EXPECT_TRUE(page->next_page_token.empty());

  // Prefixes that could leave the store, or name no task directory, are refused.
  for (const char* bad : {"", "/", "../", "..", "task1/../task2/", "task1/..", "/etc/", "task1//a",
                          "task1/a/b/c", ".hidden", "task 1/", "task1\\x"}) {
    EXPECT_EQ(store_->List(bad, "", 10).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(store_->List("task1/", "", 0).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LocalObjectStoreTest, RejectsBadNamesAndIds) {
  const std::string nul_name("a\0b", 3);
  const std::vector<std::string> bad_names = {
      "../x", "..", ".", "%2e%2e",
      // One partition directory is a valid name
      // ("a/b"): two are not.
      "a/b/c", "", nul_name, "/etc/passwd", ".hidden", "a..b", "-x", "a b", "a\\b", "\xC3\xA4",
      std::string(129, 'a'), "part-00001.csv/", "x?y", "x%2fy"};
  for (const std::string& name : bad_names) {
    EXPECT_EQ(store_->Create("task1", name, {}).status().code(), StatusCode::kInvalidArgument)
        << name;
    EXPECT_EQ(store_->Open("task1", name).status().code(), StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(store_->DownloadUrl("task1", name, TimePoint{}).status().code(),
              StatusCode::kInvalidArgument)
        << name;
  }
  const std::vector<std::string> bad_ids = {
      "", "..", "a/b", "../x", "a-b", "a.b", std::string(65, 'a'), nul_name, "/abs"};
  for (const std::string& id : bad_ids) {
    EXPECT_EQ(store_->Create(id, "f.csv", {}).status().code(), StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(store_->Open(id, "f.csv").status().code(), StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(store_->DeleteAll(id).code(), StatusCode::kInvalidArgument) << id;
  }
  EXPECT_TRUE(ValidateObjectName(std::string(128, 'a')).ok());
  EXPECT_TRUE(ValidateObjectName("part-00001.csv.gz").ok());
  EXPECT_TRUE(ValidateObjectName("manifest.json").ok());
  EXPECT_TRUE(ValidateTaskId(std::string(64, 'Z')).ok());
  // Nothing was created anywhere by the rejected calls.
  EXPECT_FALSE(fs::exists(root_));
}

TEST_F(LocalObjectStoreTest, DownloadUrlIsSignedAndVerifiable) {
  const TimePoint expires_at = FromUnixMillis(int64_t{1'900'000'000} * 1000 + 500);
  Result<std::string> url = store_->DownloadUrl("01JDTASK", "part-00001.csv", expires_at);
  ASSERT_TRUE(url.ok());
  const std::string signature = signer_->Sign("01JDTASK", "part-00001.csv", 1'900'000'000);
  EXPECT_EQ(*url,
            "http://127.0.0.1:8080/v1/exports/01JDTASK/files/part-00001.csv?expires=1900000000"
            "&signature=" +
                signature);
  EXPECT_TRUE(signer_
                  ->Verify("01JDTASK", "part-00001.csv", "1900000000", signature,
                           FromUnixMillis(int64_t{1'899'999'000} * 1000))
                  .ok());
}

TEST_F(LocalObjectStoreTest, FileSystemErrorsBecomeStatuses) {
  // /dev/null is not a directory: the task directory cannot be created (ENOTDIR).
  LocalObjectStore bad("/dev/null/exports", signer_, "http://x");
  Result<std::unique_ptr<ObjectWriter>> writer = bad.Create("task1", "f.csv", {});
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.status().code(), StatusCode::kInternal) << writer.status().ToString();
}

TEST(PosixErrorTest, CodesFollowTheCallersNextMove) {
  for (int err : {ENOSPC, EIO, EAGAIN, EINTR, EDQUOT, EMFILE}) {
    EXPECT_EQ(PosixError("write", err).code(), StatusCode::kUnavailable) << err;
  }
  EXPECT_EQ(PosixError("open", ENOENT).code(), StatusCode::kNotFound);
  EXPECT_EQ(PosixError("open", EACCES).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(PosixError("open", EPERM).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(PosixError("open", ENOTDIR).code(), StatusCode::kInternal);
  EXPECT_EQ(PosixError("write /x", ENOSPC).message(), "write /x: No space left on device");
}

}  // namespace
}  // namespace exportd
