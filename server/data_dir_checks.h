// Start-up checks that the parts of a data dir still belong together. A task store that was lost
// (a zero-length or missing exportd.db) or a master key file that was lost must not be papered
// over by a fresh one: the service would start empty, every API key and task history gone, and
// the export files orphaned or unreadable. exportd refuses to start instead and says what is
// missing and how to proceed.
#ifndef EXPORTD_SERVER_DATA_DIR_CHECKS_H_
#define EXPORTD_SERVER_DATA_DIR_CHECKS_H_

#include <string>

#include "core/status.h"
#include "core/task_records.h"
#include "server/config.h"

namespace exportd {

// Local storage only (with S3 the files are not in the data dir). Before the task store is
// opened: `store_empty` says whether it is missing or zero bytes; after opening, whether it holds
// no task at all. When it is empty while DATA_DIR/exports holds task directories:
// kFailedPrecondition naming both and the ways on (restore the backup, see docs/backup.md; or
// `exportd serve --accept-empty-store`); with config.accept_empty_store, moves exports/ aside to
// DATA_DIR/exports.orphaned-<UTC time> instead (nothing is deleted), recreates it, and logs it.
Status CheckStoreAgainstFiles(const Config& config, bool store_empty);

// Whether the task store file at `path` is missing or zero bytes (before it is opened).
bool StoreFileIsEmpty(const std::string& path);

// Whether `tasks` holds no task in any state.
Result<bool> StoreHoldsNoTask(TaskRecords& tasks);

// Local storage with the default key file (no encryption.key_file, no EXPORTD_MASTER_KEY), before
// the master keys are loaded: kFailedPrecondition when DATA_DIR/master_keys is missing while
// DATA_DIR/exports holds a file encrypted at rest (a new key could not read it), naming the
// file and the ways on (restore the key file, or point encryption.key_file/EXPORTD_MASTER_KEY at
// the key; or move exports/ aside to give those files up).
Status CheckMasterKeyAgainstFiles(const Config& config);

}  // namespace exportd

#endif  // EXPORTD_SERVER_DATA_DIR_CHECKS_H_
