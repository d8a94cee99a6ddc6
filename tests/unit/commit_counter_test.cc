#include "storage/sqlite/commit_counter.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>

#include "tests/fakes/temp_dir.h"

namespace exportd {
namespace {

using testing_support::TempDir;

std::shared_ptr<CommitCounter> OpenCounter(const std::string& db_path) {
  Result<std::shared_ptr<CommitCounter>> counter = CommitCounter::Open(db_path);
  EXPECT_TRUE(counter.ok()) << counter.status().ToString();
  return counter.ok() ? *counter : nullptr;
}

TEST(CommitCounterTest, AStampHoldsUntilACommitStarts) {
  TempDir dir;
  auto counter = OpenCounter(dir.File("x.db"));
  ASSERT_NE(counter, nullptr);
  std::optional<uint64_t> stamp = counter->StampBeforeRead();
  ASSERT_TRUE(stamp.has_value());
  EXPECT_TRUE(counter->Unchanged(*stamp));
  EXPECT_TRUE(counter->Unchanged(*stamp));

  counter->Starting();
  EXPECT_FALSE(counter->Unchanged(*stamp)) << "a commit under way left the stamp valid";
  EXPECT_FALSE(counter->StampBeforeRead().has_value()) << "a read during a commit was stamped";
  counter->Ended();
  EXPECT_FALSE(counter->Unchanged(*stamp)) << "a commit left an earlier stamp valid";
  std::optional<uint64_t> after = counter->StampBeforeRead();
  ASSERT_TRUE(after.has_value());
  EXPECT_NE(*after, *stamp);
  EXPECT_TRUE(counter->Unchanged(*after));
}

// The counters are in the file: every Open of it, here a second one standing for another
// process, sees the same.
TEST(CommitCounterTest, EveryOpenOfTheFileSharesTheCounters) {
  TempDir dir;
  auto server = OpenCounter(dir.File("x.db"));
  auto cli = OpenCounter(dir.File("x.db"));
  ASSERT_NE(server, nullptr);
  ASSERT_NE(cli, nullptr);
  std::optional<uint64_t> stamp = server->StampBeforeRead();
  ASSERT_TRUE(stamp.has_value());

  cli->Starting();
  EXPECT_FALSE(server->StampBeforeRead().has_value());
  EXPECT_FALSE(server->Unchanged(*stamp));
  cli->Ended();
  EXPECT_FALSE(server->Unchanged(*stamp));
  EXPECT_EQ(server->StampBeforeRead(), cli->StampBeforeRead());

  struct stat st {};
  ASSERT_EQ(::stat(dir.File("x.db-commits").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(CommitCounterTest, ACommitInAnotherProcessIsSeen) {
  TempDir dir;
  auto counter = OpenCounter(dir.File("x.db"));
  ASSERT_NE(counter, nullptr);
  std::optional<uint64_t> stamp = counter->StampBeforeRead();
  ASSERT_TRUE(stamp.has_value());

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Result<std::shared_ptr<CommitCounter>> own = CommitCounter::Open(dir.File("x.db"));
    if (!own.ok()) ::_exit(1);
    (*own)->Starting();
    (*own)->Ended();
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_FALSE(counter->Unchanged(*stamp));
  EXPECT_TRUE(counter->StampBeforeRead().has_value());
}

// A process killed inside a commit never calls Ended: reads go unstamped (slow, still right)
// until a process opens the file while no other has it open.
TEST(CommitCounterTest, ACommitLeftUnendedIsSettledByTheNextOpenAlone) {
  TempDir dir;
  {
    auto killed = OpenCounter(dir.File("x.db"));
    ASSERT_NE(killed, nullptr);
    killed->Starting();
    auto other = OpenCounter(dir.File("x.db"));
    ASSERT_NE(other, nullptr);
    EXPECT_FALSE(other->StampBeforeRead().has_value())
        << "settled while another process may be inside its commit";
  }
  auto next = OpenCounter(dir.File("x.db"));
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->started(), 1u);
  EXPECT_EQ(next->ended(), 1u);
  EXPECT_TRUE(next->StampBeforeRead().has_value());
}

// Like SQLite's -wal and -shm files: whoever can open the database can open the counter, even
// when root made it (`exportd keys` run by root on the data dir of a service account).
TEST(CommitCounterTest, ANewFileTakesTheDatabasesModeAndOwner) {
  TempDir dir;
  const std::string db = dir.File("x.db");
  { std::ofstream touch(db); }
  ASSERT_EQ(::chmod(db.c_str(), 0640), 0);
  const bool root = ::geteuid() == 0;
  constexpr uid_t kServiceUid = 4242;
  constexpr gid_t kServiceGid = 4343;
  if (root) {
    ASSERT_EQ(::chown(db.c_str(), kServiceUid, kServiceGid), 0);
  }
  ASSERT_NE(OpenCounter(db), nullptr);
  struct stat st {};
  ASSERT_EQ(::stat((db + "-commits").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  if (root) {
    EXPECT_EQ(st.st_uid, kServiceUid);
    EXPECT_EQ(st.st_gid, kServiceGid);
  }
  // An existing file is left as it is.
  ASSERT_EQ(::chmod(db.c_str(), 0600), 0);
  ASSERT_NE(OpenCounter(db), nullptr);
  ASSERT_EQ(::stat((db + "-commits").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(CommitCounterTest, AnInMemoryDatabaseHasACounterOfItsOwn) {
  auto a = OpenCounter(":memory:");
  auto b = OpenCounter(":memory:");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  std::optional<uint64_t> stamp = b->StampBeforeRead();
  ASSERT_TRUE(stamp.has_value());
  a->Starting();
  a->Ended();
  EXPECT_TRUE(b->Unchanged(*stamp));
  EXPECT_FALSE(a->Unchanged(*stamp));
}

TEST(CommitCounterTest, AnUnwritableDirectoryIsAnError) {
  Result<std::shared_ptr<CommitCounter>> counter =
      CommitCounter::Open("/nonexistent-exportd-dir/x.db");
  ASSERT_FALSE(counter.ok());
  EXPECT_EQ(counter.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace exportd
