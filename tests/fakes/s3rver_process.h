// A real S3-compatible server for tests: tests/s3/s3rver.mjs (npm @20minutes/s3rver 4.0.4, which
// verifies SigV4) started on a free port of 127.0.0.1 with its own storage directory, stopped
// by the PID recorded at start. Credentials S3RVER / S3RVER; one bucket, "test-bucket".
//
// REQUIRES: tests/s3/node_modules installed (the ctest fixture "s3rver_deps" runs
// tests/s3/install.sh) and EXPORTD_S3RVER_SCRIPT defined as the path of s3rver.mjs.
#ifndef EXPORTD_TESTS_FAKES_S3RVER_PROCESS_H_
#define EXPORTD_TESTS_FAKES_S3RVER_PROCESS_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/fakes/temp_dir.h"

#ifndef EXPORTD_S3RVER_SCRIPT
#error "EXPORTD_S3RVER_SCRIPT must name tests/s3/s3rver.mjs"
#endif

namespace exportd::testing_support {

class S3rverProcess {
 public:
  static constexpr const char* kBucket = "test-bucket";
  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

  S3rverProcess() = default;
  ~S3rverProcess() { Stop(); }
  S3rverProcess(const S3rverProcess&) = delete;
  S3rverProcess& operator=(const S3rverProcess&) = delete;

  // Starts the server and waits (up to 30 s) until it prints "ready". False with *error set.
  bool Start(std::string* error) {
    std::filesystem::create_directories(store_dir());
    port_ = FreePort();
    const std::string log = dir_.File("s3rver.log");
    pid_ = ::fork();
    if (pid_ < 0) {
      *error = "fork failed";
      return false;
    }
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::setenv("S3RVER_LOG_REQUESTS", "1", 1);  // "request METHOD URL STATUS" lines in Log()
      const std::string port = std::to_string(port_);
      const std::string dir = store_dir();
      // s3rver's ListObjectsV2 continuation tokens use DES: OpenSSL 3's legacy provider.
      ::execlp("node", "node", "--openssl-legacy-provider", EXPORTD_S3RVER_SCRIPT, port.c_str(),
               dir.c_str(), kBucket, static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Log().find("ready") != std::string::npos) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        *error = "s3rver exited at start:\n" + Log();
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    *error = "s3rver not ready within 30 s:\n" + Log();
    Stop();
    return false;
  }

  // SIGTERM to the recorded PID, then SIGKILL if it has not exited within 5 s.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Where s3rver keeps the bucket's files.
  std::string store_dir() const { return dir_.File("store"); }
  // s3rver's pending multipart uploads, one directory each (see s3rver's filesystem store).
  std::string uploads_dir() const { return store_dir() + "/" + kBucket + "/._S3rver_uploads"; }
  std::string Log() const {
    std::ifstream in(dir_.File("s3rver.log"));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  static int FreePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace exportd::testing_support

#endif  // EXPORTD_TESTS_FAKES_S3RVER_PROCESS_H_
