#include "server/backup_command.h"

#include <iostream>

#include "server/data_dir.h"
#include "storage/sqlite/store_backup.h"

namespace exportd {

Status BackupCommand(const Config& config, const std::string& to) {
  if (config.task_store.type == "postgres") {
    return FailedPrecondition(
        "exportd backup copies the SQLite task store; this configuration keeps tasks in "
        "PostgreSQL: back it up with pg_dump (docs/postgresql.md)");
  }
  const std::string from = TaskDbPath(config);
  ASSIGN_OR_RETURN(const BackupInfo info, BackupStoreDatabase(from, to));
  std::cerr << "backed up " << from << " to " << to << " (" << info.tasks << " tasks, "
            << info.bytes << " bytes; integrity check ok)\n"
            << "keep with it the data dir's url_secret, webhook_secret, instance_id and "
               "master_keys (when present) and the export files: see docs/backup.md\n";
  return Status::Ok();
}

}  // namespace exportd
