// Waiting for a task to end: polls GET /v1/exports/{id} as often as its Retry-After asks and
// shows the progress (a bar redrawn in place on a terminal, plain lines otherwise).
#ifndef EXPORTD_SERVER_EXPORTCTL_TASK_WATCH_H_
#define EXPORTD_SERVER_EXPORTCTL_TASK_WATCH_H_

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "server/exportctl/api_client.h"

namespace exportd::ctl {

struct WatchOptions {
  bool show = true;  // false: silent (--json prints only the final task)
  bool tty = false;  // redraw one line with '\r'; else a line per change
  int width = 80;    // the terminal's columns
  std::FILE* out = stdout;
};

// The terminal states: Succeeded, Failed, Cancelled.
bool IsTerminalStatus(const std::string& status);

// The task once it is terminal. 429 and 503 answers are waited out (their Retry-After), and so
// is a server that answered once and then does not answer for up to a minute (a restart); any
// other failure ends the watch with its Status.
Result<nlohmann::json> WatchTask(const ApiClient& api, const std::string& id,
                                 const WatchOptions& options);

// Whether stdout is a terminal, and its width (80 when unknown).
WatchOptions TerminalWatchOptions(bool show);

}  // namespace exportd::ctl

#endif  // EXPORTD_SERVER_EXPORTCTL_TASK_WATCH_H_
