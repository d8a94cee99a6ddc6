// App: owns every long-lived object of a running exportd and their order of construction and
// destruction. The only place that knows every concrete type.
#ifndef EXPORTD_SERVER_APP_H_
#define EXPORTD_SERVER_APP_H_

#include <memory>
#include <string>

#include "core/dataset.h"
#include "core/role.h"
#include "core/status.h"
#include "server/config.h"

namespace exportd {

// Runs the service until SIGTERM or SIGINT: recovers interrupted tasks, starts the workers and
// the HTTP listener, then shuts down in order (stop accepting, stop workers at a safe point).
// REQUIRES: SIGTERM and SIGINT are blocked in the calling thread (main does this before any
// thread starts, so every thread inherits the mask and only the signal watcher receives them).
Status RunServer(const Config& config, const std::string& openapi_yaml);

// Where the service keeps things, shared by the service and the operator commands.
std::string TaskDbPath(const Config& config);   // DATA_DIR/exportd.db
std::string ExportsRoot(const Config& config);  // DATA_DIR/exports, the local object store's root
// The configured datasets, each with its Source; with none configured, the demo dataset, first
// created when missing if `create_demo` (else kFailedPrecondition).
Result<DatasetCatalog> LoadDatasets(const Config& config, bool create_demo = true);

// `exportd keys ...`: operate on the key store in config.data_dir.
// Creates a key with `role` and prints its secret, alone, on stdout.
Status CreateKeyCommand(const Config& config, const std::string& name, Role role);
Status ListKeysCommand(const Config& config);
Status RevokeKeyCommand(const Config& config, const std::string& id);

}  // namespace exportd

#endif  // EXPORTD_SERVER_APP_H_
