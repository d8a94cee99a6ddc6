#include "storage/base/small_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace exportd {
namespace {

namespace fs = std::filesystem;

class SmallFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "small_file_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  void Write(const std::string& name, const std::string& text, fs::perms perms) const {
    std::ofstream(Path(name)) << text;
    fs::permissions(Path(name), perms);
  }

  fs::path dir_;
};

TEST_F(SmallFileTest, ReadsTheWholeFileWithoutTrailingBlanks) {
  Write("f", "abc def\r\n \n", fs::perms::owner_read | fs::perms::owner_write);
  Result<std::string> text = ReadSmallFile(Path("f"), "secret");
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(*text, "abc def");
}

TEST_F(SmallFileTest, MissingIsNotFoundAndADirectoryIsNoFile) {
  EXPECT_EQ(ReadSmallFile(Path("none"), "secret").status().code(), StatusCode::kNotFound);
  fs::create_directory(Path("d"));
  EXPECT_EQ(ReadSmallFile(Path("d"), "secret").status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SmallFileTest, RefusesFilesLargerThanTheLimit) {
  Write("big", std::string(101, 'x'), fs::perms::owner_read);
  Result<std::string> text = ReadSmallFile(Path("big"), "instance id file", {.max_bytes = 100});
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(text.status().message().find("instance id file"), std::string::npos);
  EXPECT_TRUE(ReadSmallFile(Path("big"), "f", {.max_bytes = 101}).ok());
}

TEST_F(SmallFileTest, OwnerOnlyRefusesAFileOthersMayRead) {
  Write("keys", "k", fs::perms::owner_read | fs::perms::group_read);
  Result<std::string> text = ReadSmallFile(Path("keys"), "master key file", {.owner_only = true});
  EXPECT_EQ(text.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(text.status().message().find("chmod 600"), std::string::npos);
  EXPECT_TRUE(ReadSmallFile(Path("keys"), "master key file").ok()) << "only when asked";
}

TEST_F(SmallFileTest, CreateFileOnceWritesAPrivateFileAndNeverReplacesOne) {
  ASSERT_TRUE(CreateFileOnce(Path("s"), "first\n", "secret").ok());
  EXPECT_EQ(fs::status(Path("s")).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  const Status again = CreateFileOnce(Path("s"), "second\n", "secret");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  Result<std::string> text = ReadSmallFile(Path("s"), "secret");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "first");
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1) << "no temporary file left behind";
}

TEST_F(SmallFileTest, CreateFileOnceInAMissingDirectoryFailsCleanly) {
  EXPECT_EQ(CreateFileOnce(Path("no/such/dir/s"), "x", "secret").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace exportd
