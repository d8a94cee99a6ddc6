#include "server/exportctl/task_watch.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <optional>
#include <thread>

#include "server/exportctl/progress_bar.h"

namespace exportd::ctl {
namespace {

using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// Plain lines: at most one per this many seconds while only the row count moves.
constexpr double kPlainLineSeconds = 5;
// Never poll faster than this, whatever Retry-After says.
constexpr std::chrono::milliseconds kMinPoll{250};
constexpr std::chrono::seconds kMaxPoll{30};
// How long the server may not answer at all (connection refused: a restart) before the watch
// gives up, and how often it is tried meanwhile.
constexpr std::chrono::seconds kMaxOutage{60};
constexpr std::chrono::seconds kOutagePoll{1};

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

std::chrono::milliseconds PollDelay(const ApiResponse& response, int default_seconds) {
  const std::chrono::milliseconds asked =
      std::chrono::seconds(response.retry_after_seconds.value_or(default_seconds));
  return std::clamp<std::chrono::milliseconds>(asked, kMinPoll, kMaxPoll);
}

}  // namespace

bool IsTerminalStatus(const std::string& status) {
  return status == "Succeeded" || status == "Failed" || status == "Cancelled";
}

WatchOptions TerminalWatchOptions(bool show) {
  WatchOptions options;
  options.show = show;
  options.tty = ::isatty(STDOUT_FILENO) == 1;
  winsize ws{};
  if (options.tty && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    options.width = ws.ws_col;
  }
  return options;
}

// Ctrl-C while the bar is drawn: end its line, so the shell's prompt starts on a fresh one.
extern "C" void EndLineAndExit(int /*signal*/) {
  const ssize_t ignored = ::write(STDOUT_FILENO, "\n", 1);
  (void)ignored;
  ::_exit(130);
}

Result<Json> WatchTask(const ApiClient& api, const std::string& id, const WatchOptions& options) {
  if (options.show && options.tty && options.out == stdout) std::signal(SIGINT, &EndLineAndExit);
  const std::string path = "/v1/exports/" + PathSegment(id);
  const SteadyClock::time_point start = SteadyClock::now();
  RateMeter rate;
  std::string last_status;
  int64_t last_rows = -1;
  double last_line_at = -kPlainLineSeconds;
  std::optional<SteadyClock::time_point> last_answer;  // none yet: not reachable is final
  while (true) {
    auto called = api.Call("GET", path);
    if (!called.ok()) {
      // A restart (exportd drains, then comes back) is waited out; a longer silence is not.
      if (called.status().code() != StatusCode::kUnavailable || !last_answer ||
          SteadyClock::now() - *last_answer > kMaxOutage) {
        return called.status();
      }
      std::this_thread::sleep_for(kOutagePoll);
      continue;
    }
    last_answer = SteadyClock::now();
    const ApiResponse& response = *called;
    if (response.status == 429 || response.status == 503) {
      std::this_thread::sleep_for(PollDelay(response, 5));
      continue;
    }
    RETURN_IF_ERROR(ResponseStatus(response, "GET " + path));
    const Json& task = response.json;
    const std::string status = task.value("status", "");
    const double now = SecondsSince(start);
    if (status == "Processing") rate.Add(now, ViewOfTask(task, std::nullopt).rows);
    const ProgressView view = ViewOfTask(task, rate.RowsPerSecond());
    const bool terminal = IsTerminalStatus(status);
    if (options.show && options.tty) {
      std::fprintf(options.out, "\r%s\x1b[K", FormatProgressBar(view, options.width - 1).c_str());
      if (terminal) std::fputc('\n', options.out);
      std::fflush(options.out);
    } else if (options.show &&
               (status != last_status || terminal ||
                (view.rows != last_rows && now - last_line_at >= kPlainLineSeconds))) {
      std::fprintf(options.out, "%s\n", FormatProgressText(view).c_str());
      std::fflush(options.out);
      last_line_at = now;
    }
    last_status = status;
    last_rows = view.rows;
    if (terminal) return task;
    std::this_thread::sleep_for(PollDelay(response, 1));
  }
}

}  // namespace exportd::ctl
