#include "tests/integration/raw_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace exportd::itest {

RawConnection::RawConnection(int port, const std::string& source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error_ = std::string("socket: ") + std::strerror(errno);
    return;
  }
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    error_ = "connect from " + source + ": " + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::Send(const std::string& bytes) {
  size_t off = 0;
  while (fd_ >= 0 && off < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return fd_ >= 0;
}

std::string RawConnection::ReadUntilClosed(Clock::duration timeout, bool* closed) {
  *closed = false;
  std::string out = std::move(pending_);
  pending_.clear();
  const auto deadline = Clock::now() + timeout;
  char buf[65536];
  while (fd_ >= 0) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *closed = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::vector<HttpResponse> RawConnection::ReadResponses(size_t count, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  char buf[65536];
  for (;;) {
    std::string rest;
    std::vector<HttpResponse> done = ParseResponses(pending_, &rest);
    if (done.size() >= count || fd_ < 0) {
      pending_ = std::move(rest);
      return done;
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
      pending_ = std::move(rest);
      return done;
    }
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      pending_ = std::move(rest);
      return done;
    }
    pending_.append(buf, static_cast<size_t>(n));
  }
}

std::vector<HttpResponse> ParseResponses(const std::string& bytes, std::string* rest) {
  std::vector<HttpResponse> out;
  size_t pos = 0;
  for (;;) {
    const size_t end = bytes.find("\r\n\r\n", pos);
    if (bytes.compare(pos, 7, "HTTP/1.") != 0 || end == std::string::npos) break;
    HttpResponse res;
    res.json = nlohmann::json(nlohmann::json::value_t::discarded);
    res.status = std::atoi(bytes.c_str() + bytes.find(' ', pos) + 1);
    size_t line = bytes.find("\r\n", pos) + 2;
    while (line < end) {
      const size_t eol = bytes.find("\r\n", line);
      const std::string field = bytes.substr(line, eol - line);
      const size_t colon = field.find(':');
      if (colon != std::string::npos) {
        const size_t v = field.find_first_not_of(' ', colon + 1);
        res.headers.emplace(field.substr(0, colon), v == std::string::npos ? "" : field.substr(v));
      }
      line = eol + 2;
    }
    const std::string length = res.Header("Content-Length");
    const size_t body_size = length.empty() ? 0 : std::stoul(length);
    if (end + 4 + body_size > bytes.size()) break;
    res.body = bytes.substr(end + 4, body_size);
    res.json = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
    out.push_back(std::move(res));
    pos = end + 4 + body_size;
  }
  *rest = bytes.substr(pos);
  return out;
}

}  // namespace exportd::itest
