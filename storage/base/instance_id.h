// The identity of an exportd instance: the owner named in the leases of the tasks it runs.
#ifndef EXPORTD_STORAGE_BASE_INSTANCE_ID_H_
#define EXPORTD_STORAGE_BASE_INSTANCE_ID_H_

#include <string>

#include "core/status.h"

namespace exportd {

// Reads the instance id kept in the file at `path` (DATA_DIR/instance_id), creating it with a
// new random id ("inst_" + 16 hex digits) on first use. Stable per data dir, so the instance
// that restarts on a data dir recognises the leases it held before a crash. Safe against a
// concurrent first start (the file is linked into place, never overwritten).
// kFailedPrecondition if the file holds something that is not an instance id.
Result<std::string> LoadOrCreateInstanceId(const std::string& path);

// A new random instance id ("inst_" + 16 hex digits), for an instance whose identity is not kept
// in a data dir (several instances on one PostgreSQL store).
std::string NewInstanceId();

}  // namespace exportd

#endif  // EXPORTD_STORAGE_BASE_INSTANCE_ID_H_
