#include "storage/base/data_dir_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>

namespace exportd {
namespace {

namespace fs = std::filesystem;

class DataDirLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("data_dir_lock_test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

TEST_F(DataDirLockTest, ASecondHolderIsRefusedWithThePidOfTheFirst) {
  Result<DataDirLock> first = DataDirLock::Acquire(dir_.string());
  ASSERT_TRUE(first.ok()) << first.status().ToString();

  // flock conflicts between two open file descriptions even in one process, as between two
  // servers.
  Result<DataDirLock> second = DataDirLock::Acquire(dir_.string());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  const std::string message = second.status().ToString();
  EXPECT_NE(message.find("in use by another exportd"), std::string::npos) << message;
  EXPECT_NE(message.find("(pid " + std::to_string(::getpid()) + ")"), std::string::npos) << message;
  EXPECT_NE(message.find(dir_.string()), std::string::npos) << message;
}

TEST_F(DataDirLockTest, TheLockIsFreeAgainOnceItsHolderIsGone) {
  std::optional<Result<DataDirLock>> first(DataDirLock::Acquire(dir_.string()));
  ASSERT_TRUE(first->ok());
  first.reset();
  Result<DataDirLock> again = DataDirLock::Acquire(dir_.string());
  EXPECT_TRUE(again.ok()) << again.status().ToString();

  // A moved-from lock does not release it; its new owner holds it.
  DataDirLock moved = std::move(again).value();
  EXPECT_FALSE(DataDirLock::Acquire(dir_.string()).ok());
}

TEST_F(DataDirLockTest, AMissingDirectoryIsAnErrorNotALock) {
  Result<DataDirLock> lock = DataDirLock::Acquire((dir_ / "absent").string());
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), StatusCode::kNotFound) << lock.status().ToString();
}

}  // namespace
}  // namespace exportd
