// The task store and the data dir at start-up (issue 16, items 8 and 9): a lost task store or
// master key makes exportd refuse to start, saying what is missing and how to proceed; a damaged
// task store is found at start and reported by /readyz; `exportd backup` makes a copy that
// restores the same tasks.
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

namespace fs = std::filesystem;

class DataDirTest : public ExportdTest {
 protected:
  std::string Db() const { return server_->data_dir() + "/exportd.db"; }
  std::string Exports() const { return server_->data_dir() + "/exports"; }

  std::string SucceededExport() {
    const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 40}});
    if (id.empty()) return id;
    Json task = WaitForTerminal(*api_, id, seconds(60));
    EXPECT_EQ(task.value("status", ""), "Succeeded") << task.dump();
    return id;
  }

  // Starts exportd and expects it to refuse: it exits non-zero during start-up. Returns what it
  // wrote to stderr during this start.
  std::string ExpectRefusal() {
    const size_t before = server_->stderr_log().size();
    std::string error;
    EXPECT_FALSE(server_->Start(&error)) << "exportd started";
    if (server_->running()) return "";
    const std::optional<int> status = server_->exit_status();
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) != 0)
        << (status ? *status : -1);
    return server_->stderr_log().substr(before);
  }

  void RemoveWal() {
    std::error_code ec;
    fs::remove(Db() + "-wal", ec);
    fs::remove(Db() + "-shm", ec);
  }

  bool Restart() {
    std::string error;
    if (server_->Start(&error)) return true;
    ADD_FAILURE() << "restart failed: " << error;
    return false;
  }
};

TEST_F(DataDirTest, AnEmptyTaskStoreBesideExportFilesRefusesToStart) {
  ASSERT_TRUE(StartWithItems(50));
  const std::string id = SucceededExport();
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(server_->Stop(), 0);
  ASSERT_TRUE(fs::is_directory(Exports() + "/" + id));

  // The store file gone, then zero bytes: both refused, and nothing is changed.
  fs::remove(Db());
  RemoveWal();
  for (int variant = 0; variant < 2; ++variant) {
    const std::string err = ExpectRefusal();
    for (const char* needed :
         {"exportd.db", "empty or missing", "task director", "backup", "--accept-empty-store"}) {
      EXPECT_NE(err.find(needed), std::string::npos) << needed << " in:\n" << err;
    }
    EXPECT_NE(err.find(id), std::string::npos) << err;
    EXPECT_TRUE(fs::is_directory(Exports() + "/" + id));
    if (variant == 0) {
      EXPECT_FALSE(fs::exists(Db())) << "a refused start created the store";
      WriteFile(Db(), "");
    } else {
      EXPECT_EQ(fs::file_size(Db()), 0u) << "a refused start wrote the store";
    }
  }

  // The explicit way on: start empty, the files moved aside (not deleted).
  server_->set_extra_args({"--accept-empty-store"});
  ASSERT_TRUE(Restart());
  std::string aside;
  for (const auto& entry : fs::directory_iterator(server_->data_dir())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("exports.orphaned-", 0) == 0) aside = entry.path().string();
  }
  ASSERT_FALSE(aside.empty()) << "no exports.orphaned-* in " << server_->data_dir();
  EXPECT_TRUE(fs::is_directory(aside + "/" + id));
  EXPECT_FALSE(fs::exists(Exports() + "/" + id));
  EXPECT_EQ(api_->Get("/v1/exports/" + id).status, 404);
  // From now on an ordinary start works: the data dir is consistent again.
  ASSERT_EQ(server_->Stop(), 0);
  server_->set_extra_args({});
  ASSERT_TRUE(Restart());
}

TEST_F(DataDirTest, AMissingMasterKeyBesideEncryptedFilesRefusesToStart) {
  ASSERT_TRUE(StartWithItems(50));  // local storage: encrypted at rest by default
  const std::string id = SucceededExport();
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(server_->Stop(), 0);
  const std::string key_file = server_->data_dir() + "/master_keys";
  const std::string key = ReadFileOrEmpty(key_file);
  ASSERT_FALSE(key.empty());
  fs::remove(key_file);

  const std::string err = ExpectRefusal();
  for (const char* needed : {"master key file", "master_keys", "missing", "encrypted",
                             "Restore the key file", "EXPORTD_MASTER_KEY"}) {
    EXPECT_NE(err.find(needed), std::string::npos) << needed << " in:\n" << err;
  }
  EXPECT_FALSE(fs::exists(key_file)) << "a refused start made a new key";

  // The key back: the files read as before.
  WriteFile(key_file, key);
  fs::permissions(key_file, fs::perms::owner_read | fs::perms::owner_write);
  ASSERT_TRUE(Restart());
  Json task = GetTask(*api_, id);
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  ExpectExportMatches(*api_, task, ExpectedItems());
}

// A damaged index page (garbage written over the root page of an index, in the file of a
// stopped exportd): found by the integrity check at start and reported by /readyz, and the
// backup taken before restores a sound store with the same tasks.
TEST_F(DataDirTest, ADamagedStoreIsReportedByReadyzAndABackupRestoresIt) {
  ASSERT_TRUE(StartWithItems(80));
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(SucceededExport());
  for (const std::string& id : ids) ASSERT_FALSE(id.empty());

  // A backup while the server runs.
  const std::string backup = server_->dir() + "/backup.db";
  CommandResult made =
      server_->RunCli({"backup", "--to", backup, "--config", server_->config_path()});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  EXPECT_NE(made.err.find("3 tasks"), std::string::npos) << made.err;
  CommandResult again =
      server_->RunCli({"backup", "--to", backup, "--config", server_->config_path()});
  EXPECT_NE(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  // A task made after the backup is not in it.
  const std::string later = SucceededExport();
  ASSERT_FALSE(later.empty());
  ASSERT_EQ(server_->Stop(), 0);

  // Garbage over the root page of an index that start-up itself does not read.
  ExecSql(Db(), "PRAGMA wal_checkpoint(TRUNCATE)");
  RemoveWal();
  const std::vector<Row> root =
      QuerySql(Db(), "SELECT rootpage FROM sqlite_schema WHERE name = 'tasks_query_hash_id'");
  const std::vector<Row> page_size = QuerySql(Db(), "PRAGMA page_size");
  ASSERT_EQ(root.size(), 1u);
  ASSERT_EQ(page_size.size(), 1u);
  const int64_t page = std::get<int64_t>(root[0][0]);
  const int64_t size = std::get<int64_t>(page_size[0][0]);
  ASSERT_GT(page, 1);
  {
    std::fstream file(Db(), std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(file.is_open());
    file.seekp((page - 1) * size);
    const std::string garbage(static_cast<size_t>(size), '\xA5');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    ASSERT_TRUE(file.good());
  }
  RemoveWal();
  ASSERT_TRUE(Restart());
  HttpResponse ready = api_->Get("/readyz");
  EXPECT_EQ(ready.status, 503) << ready.Describe();
  EXPECT_NE(ready.body.find("integrity check"), std::string::npos) << ready.Describe();
  EXPECT_EQ(api_->Get("/healthz").status, 200);
  EXPECT_NE(server_->stderr_log().find("quick_check"), std::string::npos);

  // Restore: stop, the backup in place of the store, no WAL of the damaged one.
  ASSERT_EQ(server_->Stop(), 0);
  RemoveWal();
  fs::copy_file(backup, Db(), fs::copy_options::overwrite_existing);
  ASSERT_TRUE(Restart());
  EXPECT_EQ(api_->Get("/readyz").status, 200);
  for (const std::string& id : ids) {
    Json task = GetTask(*api_, id);
    EXPECT_EQ(task.value("status", ""), "Succeeded") << task.dump();
    EXPECT_FALSE(task["files"].empty()) << task.dump();
  }
  ExpectExportMatches(*api_, GetTask(*api_, ids[0]), ExpectedItems());
  EXPECT_EQ(api_->Get("/v1/exports/" + later).status, 404);
}

TEST_F(DataDirTest, ASecondServerOnTheSameDataDirIsRefusedUntilTheFirstIsGone) {
  ASSERT_TRUE(StartWithItems(50));
  Json config = Json::parse(ReadFileOrEmpty(server_->config_path()));
  config.erase("listen");
  config.erase("data_dir");
  ExportdProcess second({.config = config, .env = {{"EXPORTD_DATA_DIR", server_->data_dir()}}});

  // Refused at start, saying who holds the data dir; the first server is untouched.
  std::string error;
  EXPECT_FALSE(second.Start(&error)) << "a second server started on the same data dir";
  const std::string err = second.stderr_log();
  EXPECT_NE(err.find("is in use by another exportd (pid "), std::string::npos) << err;
  EXPECT_NE(err.find("PostgreSQL"), std::string::npos) << err;
  EXPECT_FALSE(SucceededExport().empty());

  // The lock goes with the process, however it ends: after a kill -9 the next server starts.
  server_->Kill();
  EXPECT_TRUE(second.Start(&error)) << error;
}

}  // namespace
}  // namespace exportd::itest
