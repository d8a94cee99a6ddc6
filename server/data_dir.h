// Where the service keeps things in config.data_dir, shared by the service and the operator
// commands.
#ifndef EXPORTD_SERVER_DATA_DIR_H_
#define EXPORTD_SERVER_DATA_DIR_H_

#include <string>

#include "core/status.h"
#include "server/config.h"

namespace exportd {

std::string TaskDbPath(const Config& config);   // DATA_DIR/exportd.db
std::string ExportsRoot(const Config& config);  // DATA_DIR/exports, the local object store's root

// Creates DATA_DIR and DATA_DIR/exports when missing and restricts DATA_DIR to its owner (mode
// 0700): it holds secrets and other people's data. kUnavailable if a directory cannot be made,
// kPermissionDenied if the mode cannot be set.
Status PrepareDataDir(const Config& config);

}  // namespace exportd

#endif  // EXPORTD_SERVER_DATA_DIR_H_
