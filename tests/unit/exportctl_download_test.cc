// exportctl's download rules that need no server: which file names from a server may be written
// under the download directory, and the local file hash.
#include <gtest/gtest.h>

#include <fstream>

#include "server/exportctl/file_download.h"
#include "storage/base/digest.h"
#include "tests/fakes/temp_dir.h"

namespace exportd::ctl {
namespace {

TEST(ExportctlDownloadTest, NamesOfDataFilesAndSplitSeriesAreAccepted) {
  for (const std::string name : {"part-00001.csv", "part-00002.ndjson.gz", "manifest.json",
                                 "north/part-00001.csv", "s~C3~BCd~2Fost~201/part-00001.tsv"}) {
    EXPECT_TRUE(CheckFileName(name).ok()) << name;
  }
}

TEST(ExportctlDownloadTest, NamesThatCouldLeaveTheDirectoryAreRefused) {
  for (const std::string& name : std::vector<std::string>{
           "", "/etc/passwd", "../part-00001.csv", "..", ".", "a/../b", "a/./b", "a//b", "a/b/c",
           "a/", "a\\b", "a b", std::string("a\0b", 3), std::string(256, 'a')}) {
    const Status status = CheckFileName(name);
    EXPECT_FALSE(status.ok()) << name;
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << name;
  }
}

TEST(ExportctlDownloadTest, HashFileGivesTheSha256AndSize) {
  testing_support::TempDir dir;
  std::ofstream(dir.File("f"), std::ios::binary) << "hello\n";
  const auto hashed = HashFile(dir.File("f"));
  ASSERT_TRUE(hashed.has_value());
  EXPECT_EQ(hashed->first, Sha256Hex("hello\n"));
  EXPECT_EQ(hashed->second, 6);
  EXPECT_FALSE(HashFile(dir.File("absent")).has_value());
}

}  // namespace
}  // namespace exportd::ctl
