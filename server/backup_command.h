// `exportd backup --to FILE`: a consistent copy of the task store while exportd runs.
#ifndef EXPORTD_SERVER_BACKUP_COMMAND_H_
#define EXPORTD_SERVER_BACKUP_COMMAND_H_

#include <string>

#include "core/status.h"
#include "server/config.h"

namespace exportd {

// Copies config.data_dir's task store to `to` (storage/sqlite/store_backup.h) and reports on stderr
// what was copied and which data dir files a backup must also hold. Errors as
// BackupStoreDatabase's.
Status BackupCommand(const Config& config, const std::string& to);

}  // namespace exportd

#endif  // EXPORTD_SERVER_BACKUP_COMMAND_H_
