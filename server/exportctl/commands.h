// exportctl's commands, each a plain function of its arguments that prints its result and
// returns a Status; ExitCode() turns that Status into the documented exit code.
#ifndef EXPORTD_SERVER_EXPORTCTL_COMMANDS_H_
#define EXPORTD_SERVER_EXPORTCTL_COMMANDS_H_

#include <optional>
#include <string>

#include "core/status.h"
#include "server/exportctl/api_client.h"
#include "server/exportctl/export_args.h"

namespace exportd::ctl {

// The exit codes scripts rely on (API.md, docs/exportctl.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,       // the export failed or was cancelled, a download did not verify, or
                         // the server refused for another reason (409, 429, 5xx)
  kExitUsage = 2,        // bad arguments, or the server's 400/422 about them
  kExitNotFound = 3,     // 404 (also another principal's task)
  kExitAuth = 4,         // 401, 403
  kExitUnreachable = 5,  // nothing answered (connection refused, DNS, TLS, timeout)
};

int ExitCode(const Status& status);

struct Context {
  ApiClient api;
  bool json = false;  // print the server's JSON (stdout) instead of text
};

struct ListArgs {
  std::optional<std::string> status;
  std::optional<std::string> dataset;
  std::optional<int> limit;
};

// `export`: creates the task; with `wait` (or a download dir) follows it to its end and
// fails (kAborted) when it did not succeed; with `download_dir` then downloads it.
Status RunExport(const Context& ctx, const ExportArgs& args, bool wait,
                 const std::optional<std::string>& download_dir);
Status RunStatus(const Context& ctx, const std::string& id);
Status RunWatch(const Context& ctx, const std::string& id);
Status RunList(const Context& ctx, const ListArgs& args);
Status RunCancel(const Context& ctx, const std::string& id);
Status RunDownload(const Context& ctx, const std::string& id, const std::string& dir);
Status RunRemove(const Context& ctx, const std::string& id);
Status RunDatasets(const Context& ctx);

}  // namespace exportd::ctl

#endif  // EXPORTD_SERVER_EXPORTCTL_COMMANDS_H_
