#include "storage/sqlite/store_backup.h"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <system_error>
#include <thread>

#include "storage/sqlite/sqlite_db.h"

namespace exportd {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kQuickCheck = "PRAGMA quick_check(10)";
constexpr std::string_view kCountTasks = "SELECT COUNT(*) FROM tasks";
// How long a backup step may keep meeting a lock (another connection's checkpoint) before the
// backup gives up.
constexpr auto kBusyDeadline = std::chrono::seconds(30);

void RemoveCopy(const std::string& to) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(to + suffix, ec);
}

Status CopyAll(Database& source, Database& copy) {
  sqlite3_backup* backup = sqlite3_backup_init(copy.get(), "main", source.get(), "main");
  if (backup == nullptr) {
    return SqliteStatus(sqlite3_errcode(copy.get()), copy.get(), "backup init");
  }
  const auto deadline = std::chrono::steady_clock::now() + kBusyDeadline;
  int rc;
  // All pages in one step: one read transaction on the source, hence one snapshot.
  while ((rc = sqlite3_backup_step(backup, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const int finished = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return SqliteStatus(rc, nullptr, "backup step");
  return SqliteStatus(finished, copy.get(), "backup finish");
}

Status CheckCopy(Database& copy, int64_t& tasks) {
  ASSIGN_OR_RETURN(Statement check, copy.Prepare(kQuickCheck));
  std::string findings;
  for (;;) {
    ASSIGN_OR_RETURN(const bool row, check.Step());
    if (!row) break;
    const std::string line = check.ColumnText(0);
    if (line != "ok") findings += (findings.empty() ? "" : "; ") + line;
  }
  if (!findings.empty()) return DataLoss("the copy fails its integrity check: " + findings);
  ASSIGN_OR_RETURN(Statement count, copy.Prepare(kCountTasks));
  ASSIGN_OR_RETURN(const bool row, count.Step());
  tasks = row ? count.ColumnInt(0) : 0;
  return Status::Ok();
}

}  // namespace

Result<BackupInfo> BackupStoreDatabase(const std::string& from, const std::string& to) {
  std::error_code ec;
  if (!fs::exists(from, ec)) return NotFound("no task store at " + from);
  if (fs::exists(to, ec)) return Status(StatusCode::kAlreadyExists, to + " already exists");
  BackupInfo info;
  Status status = [&]() -> Status {
    // Read-write without create: a WAL database is read through its -shm file.
    ASSIGN_OR_RETURN(Database source, Database::Open(from, SQLITE_OPEN_READWRITE));
    ASSIGN_OR_RETURN(Database copy, Database::Open(to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
    RETURN_IF_ERROR(CopyAll(source, copy));
    // A self-contained file: the copy keeps no WAL of its own.
    RETURN_IF_ERROR(copy.Exec("PRAGMA journal_mode=DELETE"));
    return CheckCopy(copy, info.tasks);
  }();
  if (!status.ok()) {
    RemoveCopy(to);
    return status.WithContext("backup of " + from + " to " + to);
  }
  info.bytes = static_cast<int64_t>(fs::file_size(to, ec));
  return info;
}

}  // namespace exportd
