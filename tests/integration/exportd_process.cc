#include "tests/integration/exportd_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef EXPORTD_BINARY
#error "EXPORTD_BINARY must be defined (path of the exportd binary under test)"
#endif

extern char** environ;

namespace exportd::itest {
namespace {

std::string RandomHex(size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(kHex[rd() % 16]);
  return s;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

int ExitCodeOf(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

// Waits for `pid` until `timeout`; returns the wait status, or nullopt if it is still running.
std::optional<int> WaitPid(pid_t pid, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return -1;  // not our child any more
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(milliseconds(10));
  }
}

std::string Tail(const std::string& s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  return "...[" + std::to_string(s.size() - max_bytes) + " bytes cut]...\n" +
         s.substr(s.size() - max_bytes);
}

}  // namespace

bool WaitFor(const std::function<bool()>& predicate, Clock::duration timeout,
             Clock::duration interval) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (predicate()) return true;
    if (Clock::now() >= deadline) return predicate();
    std::this_thread::sleep_for(interval);
  }
}

int PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("bind: " + std::string(std::strerror(errno)));
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/exportd-itest-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  if (std::getenv("EXPORTD_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

ExportdProcess::ExportdProcess(Options options) : options_(std::move(options)) {
  port_ = PickFreePort();
  if (options_.set_bootstrap_key) admin_key_ = "itest-admin-" + RandomHex(32);
  std::filesystem::create_directories(data_dir());
  nlohmann::json config = options_.config;
  if (!config.contains("listen")) config["listen"] = host_ + ":" + std::to_string(port_);
  if (!config.contains("data_dir")) config["data_dir"] = data_dir();
  WriteFile(config_path(), config.dump(2));
}

ExportdProcess::~ExportdProcess() {
  if (pid_ > 0) Kill();
}

std::string ExportdProcess::base_url() const {
  return "http://" + host_ + ":" + std::to_string(port_);
}

std::string ExportdProcess::stderr_log() const { return ReadFileOrEmpty(dir() + "/stderr.log"); }
std::string ExportdProcess::stdout_log() const { return ReadFileOrEmpty(dir() + "/stdout.log"); }

std::string ExportdProcess::LogTail(size_t max_bytes) const {
  return "---- exportd stdout (" + dir() + "/stdout.log) ----\n" +
         Tail(stdout_log(), max_bytes / 4) + "\n---- exportd stderr (" + dir() +
         "/stderr.log) ----\n" + Tail(stderr_log(), max_bytes) + "\n---- end ----";
}

std::vector<std::string> ExportdProcess::BuildEnv() const {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("EXPORTD_")) continue;
    if (kv.starts_with("AWS_")) continue;
    env.emplace_back(kv);
  }
  std::map<std::string, std::string> vars = {
      {"EXPORTD_DATA_DIR", data_dir()},
      {"EXPORTD_LISTEN", host_ + ":" + std::to_string(port_)},
  };
  if (!admin_key_.empty()) vars["EXPORTD_BOOTSTRAP_KEY"] = admin_key_;
  for (const auto& [k, v] : options_.env) vars[k] = v;
  for (const auto& [k, v] : vars) env.push_back(k + "=" + v);
  return env;
}

pid_t ExportdProcess::Spawn(const std::vector<std::string>& args, const std::string& out_path,
                            const std::string& err_path, bool append) const {
  // Everything the child needs is prepared before fork(): between fork and exec the child only
  // makes async-signal-safe system calls.
  std::vector<std::string> argv_s;
  argv_s.emplace_back(EXPORTD_BINARY);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s = BuildEnv();
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  int out_fd = ::open(out_path.c_str(), flags, 0644);
  int err_fd = ::open(err_path.c_str(), flags, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0 || null_fd < 0) {
    throw std::runtime_error("cannot open log files in " + dir());
  }
  const std::string& cwd = dir();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    static constexpr char kMsg[] = "itest: execve of exportd failed\n";
    ssize_t ignored = ::write(2, kMsg, sizeof kMsg - 1);
    (void)ignored;
    ::_exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  ::close(null_fd);
  if (pid < 0) throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
  return pid;
}

bool ExportdProcess::Start(std::string* error) {
  if (pid_ > 0) {
    *error = "already running";
    return false;
  }
  const bool restart = starts_++ > 0;
  if (restart) {
    std::ofstream(dir() + "/stderr.log", std::ios::app) << "\n==== itest: restart ====\n";
    std::ofstream(dir() + "/stdout.log", std::ios::app) << "\n==== itest: restart ====\n";
  }
  std::vector<std::string> args = {"serve", "--config", config_path()};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  exit_status_.reset();
  pid_ = Spawn(args, dir() + "/stdout.log", dir() + "/stderr.log", /*append=*/true);

  httplib::Client cli = options_.tls_ca_file.empty()
                            ? httplib::Client(host_, port_)
                            : httplib::Client("https://" + host_ + ":" + std::to_string(port_));
  if (!options_.tls_ca_file.empty()) cli.set_ca_cert_path(options_.tls_ca_file.c_str());
  cli.set_connection_timeout(0, 200000);
  cli.set_read_timeout(2, 0);
  std::string last;
  const bool healthy = WaitFor(
      [&] {
        if (!running()) return true;  // exited: stop waiting, report below
        auto res = cli.Get("/healthz");
        if (res && res->status == 200) return true;
        last = res ? "HTTP " + std::to_string(res->status) : httplib::to_string(res.error());
        return false;
      },
      options_.start_timeout, milliseconds(25));
  if (!running()) {
    *error = "exportd exited during start-up (" +
             (exit_status_ ? DescribeWaitStatus(*exit_status_) : std::string("?")) + ")\n" +
             LogTail();
    return false;
  }
  if (!healthy) {
    *error = "exportd did not answer GET /healthz within the deadline (last: " + last + ")\n" +
             LogTail();
    Kill();
    return false;
  }
  return true;
}

bool ExportdProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  exit_status_ = r == pid_ ? status : -1;
  pid_ = -1;
  return false;
}

int ExportdProcess::Stop(Clock::duration timeout) {
  if (pid_ <= 0) return exit_status_ ? ExitCodeOf(*exit_status_) : -1;
  ::kill(pid_, SIGTERM);
  auto status = WaitPid(pid_, timeout);
  if (!status) {
    Kill();
    return -2;
  }
  pid_ = -1;
  exit_status_ = *status;
  return ExitCodeOf(*status);
}

void ExportdProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  auto status = WaitPid(pid_, seconds(10));
  exit_status_ = status.value_or(-1);
  pid_ = -1;
}

CommandResult ExportdProcess::RunCli(const std::vector<std::string>& args,
                                     Clock::duration timeout) const {
  static int counter = 0;
  const std::string stem = dir() + "/cli-" + std::to_string(++counter);
  pid_t pid = Spawn(args, stem + ".out", stem + ".err", /*append=*/false);
  CommandResult result;
  auto status = WaitPid(pid, timeout);
  if (!status) {
    ::kill(pid, SIGKILL);
    WaitPid(pid, seconds(5));
    result.exit_code = -1;
    result.err = "itest: timed out\n";
  } else {
    result.exit_code = ExitCodeOf(*status);
  }
  result.out = ReadFileOrEmpty(stem + ".out");
  result.err += ReadFileOrEmpty(stem + ".err");
  return result;
}

}  // namespace exportd::itest
