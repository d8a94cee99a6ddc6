// The floor of this machine for the GET load, below any cpp-httplib server: a few epoll loops (one
// per thread, each with its own SO_REUSEPORT listener) answering every request on a keep-alive
// connection with one fixed response, headers and body in a single write. It parses nothing but
// the blank line that ends a request, so it is not a server, only a measure of what wrk, the
// kernel's loopback and the scheduler cost at 64 connections on this machine: with it, the p99 of
// a thread-per-connection server can be split into what the model costs and what the machine
// costs (bench/README.md, "Round 8").
//
//   exportd_bench_floor_epoll PORT [THREADS [BYTES]]   (THREADS defaults to 2, BYTES to 120)
//
// Prints "ready" once listening; stops on SIGTERM/SIGINT (default action).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

// Writes all of `data`, waiting for room when the socket's buffer is full. False if the peer went.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 1000);
    } else {
      return false;
    }
  }
  return true;
}

int Listen(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, 1024) != 0) {
    std::perror("listen");
    std::exit(1);
  }
  return fd;
}

void Serve(int listen_fd, const std::string& response) {
  int ep = ::epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev);
  std::unordered_map<int, std::string> pending;  // per connection: bytes of an unfinished request
  std::vector<epoll_event> events(256);
  char buf[16384];
  for (;;) {
    int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
    for (int i = 0; i < n; ++i) {
      int fd = events[static_cast<size_t>(i)].data.fd;
      if (fd == listen_fd) {
        for (int conn; (conn = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
          int yes = 1;
          ::setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
          epoll_event conn_ev{};
          conn_ev.events = EPOLLIN;
          conn_ev.data.fd = conn;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, conn, &conn_ev);
        }
        continue;
      }
      ssize_t got = ::read(fd, buf, sizeof buf);
      if (got < 0 && errno == EAGAIN) continue;
      std::string& request = pending[fd];
      if (got > 0) request.append(buf, static_cast<size_t>(got));
      bool alive = got > 0;
      for (size_t end; alive && (end = request.find("\r\n\r\n")) != std::string::npos;) {
        request.erase(0, end + 4);
        alive = WriteAll(fd, response);
      }
      if (!alive) {
        pending.erase(fd);
        ::close(fd);  // also leaves the epoll set
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [THREADS [BYTES]]\n", argv[0]);
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const size_t bytes = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 120;
  constexpr std::string_view kOpen = R"({"pad":")", kClose = R"("})";
  std::string body(kOpen);
  if (bytes > kOpen.size() + kClose.size()) body.append(bytes - kOpen.size() - kClose.size(), 'x');
  body += kClose;
  const std::string response =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  std::vector<int> listeners;  // all bound before any thread serves, so "ready" means ready
  for (int i = 0; i < threads; ++i) listeners.push_back(Listen(port));
  std::vector<std::thread> loops;
  for (int fd : listeners) loops.emplace_back(Serve, fd, std::cref(response));
  std::printf("ready\n");
  std::fflush(stdout);
  for (std::thread& t : loops) t.join();
  return 0;
}
