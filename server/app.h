// App: owns every long-lived object of a running exportd and their order of construction and
// destruction. The only place that knows every concrete type.
#ifndef EXPORTD_SERVER_APP_H_
#define EXPORTD_SERVER_APP_H_

#include <memory>
#include <string>

#include "core/status.h"
#include "server/config.h"

namespace exportd {

// Runs the service until SIGTERM or SIGINT: recovers interrupted tasks, starts the workers and
// the HTTP listener, then shuts down in order (stop accepting, stop workers at a safe point).
// REQUIRES: SIGTERM and SIGINT are blocked in the calling thread (main does this before any
// thread starts, so every thread inherits the mask and only the signal watcher receives them).
Status RunServer(const Config& config, const std::string& openapi_yaml);

}  // namespace exportd

#endif  // EXPORTD_SERVER_APP_H_
