// Black-box harness: runs the real exportd binary on a free port with a fresh data dir.
//
// Each ExportdProcess owns a temporary directory holding config.json, data/ (EXPORTD_DATA_DIR) and
// the child's stdout/stderr logs. The directory is removed by the destructor unless the
// environment variable EXPORTD_KEEP_TEST_DIRS is set. The destructor kills and reaps the child.
#ifndef EXPORTD_TESTS_INTEGRATION_EXPORTD_PROCESS_H_
#define EXPORTD_TESTS_INTEGRATION_EXPORTD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace exportd::itest {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Polls `predicate` every `interval` until it returns true or `timeout` passes; returns the
// predicate's last value. Never a fixed sleep: returns as soon as the condition holds.
bool WaitFor(const std::function<bool()>& predicate, Clock::duration timeout,
             Clock::duration interval = milliseconds(20));

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
int PickFreePort();

// A fresh directory under $TMPDIR (or /tmp), removed by the destructor unless
// EXPORTD_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadFileOrEmpty(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  std::string out;
  std::string err;
};

class ExportdProcess {
 public:
  struct Options {
    // Written to <dir>/config.json and passed with --config. "listen" and "data_dir" are filled
    // in unless present. Relative source paths are relative to <dir>.
    nlohmann::json config = nlohmann::json::object();
    // Extra environment for the child (on top of EXPORTD_DATA_DIR, EXPORTD_LISTEN and
    // EXPORTD_BOOTSTRAP_KEY, which the harness always sets). Inherited EXPORTD_* are dropped.
    std::map<std::string, std::string> env;
    std::vector<std::string> extra_args;
    // false: EXPORTD_BOOTSTRAP_KEY is not set (exportd then makes and prints its own admin key).
    bool set_bootstrap_key = true;
    Clock::duration start_timeout = seconds(30);
    // The config serves HTTPS with a certificate this CA file vouches for: Start() checks
    // /healthz over HTTPS.
    std::string tls_ca_file;
  };

  explicit ExportdProcess(Options options);
  ~ExportdProcess();  // Kill() and reap; remove the temp dir.
  ExportdProcess(const ExportdProcess&) = delete;
  ExportdProcess& operator=(const ExportdProcess&) = delete;

  // Spawns the server and waits for GET /healthz == 200. On failure returns false and fills
  // *error with the reason and the log tail. May be called again after Stop() or Kill(): the
  // same port, config and data dir are reused.
  bool Start(std::string* error);
  // SIGTERM, then waits for exit. Returns the exit code (or -1: killed by a signal, -2: did not
  // exit in time, in which case it is SIGKILLed).
  int Stop(Clock::duration timeout = seconds(15));
  // SIGKILL and reap.
  void Kill();
  bool running();  // reaps if exited
  std::optional<int> exit_status() const { return exit_status_; }

  // Runs `exportd <args...>` with the same environment (e.g. "keys", "create", "--name", "x").
  CommandResult RunCli(const std::vector<std::string>& args,
                       Clock::duration timeout = seconds(30)) const;

  // Arguments after `serve --config PATH` from the next Start() on (Options::extra_args).
  void set_extra_args(std::vector<std::string> args) { options_.extra_args = std::move(args); }

  int port() const { return port_; }
  const std::string& host() const { return host_; }
  std::string base_url() const;  // http://127.0.0.1:PORT
  const std::string& dir() const { return dir_.path(); }
  std::string data_dir() const { return dir_.path() + "/data"; }
  std::string config_path() const { return dir_.path() + "/config.json"; }
  // EXPORTD_BOOTSTRAP_KEY's value ("" when Options::set_bootstrap_key is false).
  const std::string& admin_key() const { return admin_key_; }
  std::string stderr_log() const;
  std::string stdout_log() const;
  // The last `max_bytes` of stderr and stdout, for failure messages.
  std::string LogTail(size_t max_bytes = 6000) const;

 private:
  std::vector<std::string> BuildEnv() const;
  pid_t Spawn(const std::vector<std::string>& args, const std::string& out_path,
              const std::string& err_path, bool append) const;

  Options options_;
  TempDir dir_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::string admin_key_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  int starts_ = 0;
};

}  // namespace exportd::itest

#endif  // EXPORTD_TESTS_INTEGRATION_EXPORTD_PROCESS_H_
