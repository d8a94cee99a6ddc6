// Backup of the exportd database (tasks, their events and notifications, API keys) while it is in
// use, with SQLite's online backup API.
#ifndef EXPORTD_STORAGE_SQLITE_STORE_BACKUP_H_
#define EXPORTD_STORAGE_SQLITE_STORE_BACKUP_H_

#include <cstdint>
#include <string>

#include "core/status.h"

namespace exportd {

struct BackupInfo {
  int64_t bytes = 0;  // size of the copy
  int64_t tasks = 0;  // tasks in the copy
};

// Copies the database at `from` to a new file `to` as one consistent snapshot (writers of other
// connections and processes go on meanwhile: the store is in WAL mode), then checks the copy
// (PRAGMA quick_check) and counts its tasks. The copy is a complete database file: restoring is
// copying it back in place of `from` while exportd is stopped (and removing `from`-wal and
// `from`-shm). kNotFound if `from` does not exist; kAlreadyExists if `to` does; kDataLoss if the
// copy fails its check. A failed backup leaves no file at `to`.
Result<BackupInfo> BackupStoreDatabase(const std::string& from, const std::string& to);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_STORE_BACKUP_H_
