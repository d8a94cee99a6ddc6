// The ceiling for exportd's API load numbers: a bare cpp-httplib server on the same machine,
// with the same threading and socket settings as api/api_server.cc (thread pool of N, TCP_NODELAY,
// keep-alive for 100 requests, a listen backlog of 1024),
// answering every GET and POST with a fixed small JSON body (120 bytes), or one padded to BYTES to
// match the size of a body exportd sends.
//
//   exportd_bench_bare_httplib PORT [THREADS [BYTES]]   (THREADS defaults to 64, exportd's
//                                                        http_threads)
// Prints "ready" once listening; stops on SIGTERM/SIGINT.
#include <httplib.h>
#include <sys/socket.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

namespace {
httplib::Server* g_server = nullptr;
void OnSignal(int) {
  if (g_server != nullptr) g_server->stop();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [THREADS [BYTES]]\n", argv[0]);
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int threads = argc > 2 ? std::atoi(argv[2]) : 64;
  static std::string kBody =
      R"({"id":"01J0000000000000000000000","status":"Running","progress":{"rows":1234,"rows_total":40000,"percent":3.1}})";
  if (argc > 3) {
    const size_t bytes = std::strtoul(argv[3], nullptr, 10);
    constexpr std::string_view kPadField = R"(,"pad":"")";
    if (bytes > kBody.size() + kPadField.size()) {
      kBody.pop_back();  // the closing brace
      kBody += R"(,"pad":")";
      kBody.append(bytes - kBody.size() - 2, 'x');
      kBody += "\"}";
    }
  }
  httplib::Server server;
  g_server = &server;
  server.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  server.set_tcp_nodelay(true);
  // As api/api_server.cc: 100 requests per keep-alive connection and a backlog of 1024 (set again
  // after the bind, see there), SO_REUSEADDR instead of SO_REUSEPORT.
  server.set_keep_alive_max_count(100);
  socket_t listen_socket = INVALID_SOCKET;
  server.set_socket_options([&listen_socket](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_socket = sock;
  });
  auto handler = [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kBody, "application/json");
  };
  server.Get(R"(/.*)", handler);
  server.Post(R"(/.*)", handler);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  if (!server.bind_to_port("127.0.0.1", port)) {
    std::fprintf(stderr, "cannot bind 127.0.0.1:%d\n", port);
    return 1;
  }
  if (::listen(listen_socket, 1024) != 0) {
    std::fprintf(stderr, "cannot set the listen backlog\n");
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  server.listen_after_bind();
  return 0;
}
