// The connection layer under cpp-httplib: how exportd reads requests off a socket (plain or TLS)
// before the library parses and routes them.
//
// cpp-httplib 0.11 serves each connection on one pool thread and bounds only each single read
// (read_timeout), so a client that sends its head a line at a time holds a thread for as long as
// it likes (slowloris), and it parses whatever follows an answered request as the next request,
// read or not (request smuggling after an early answer such as 413). This layer replaces the
// library's connection loop (Server::process_and_close_socket) and keeps its request handling:
//  - per client address, at most `max_connections_per_client` connections are served at once;
//    the ones beyond are refused at once (a 503 on plain HTTP, then closed);
//  - a request's line and headers must arrive whole within `header_timeout` of its first byte
//    (else 408 and close), and may be at most kMaxHeadBytes (else 431 and close);
//  - the library sees one request at a time: reads past the end of its body (as framed by its
//    Content-Length; none without one) return end-of-stream;
//  - a connection is reused only when its request was read exactly to its end; otherwise the
//    answer carries "Connection: close" and the connection is closed after it. Chunked request
//    bodies and invalid framing (api/http_framing.h) always close the connection.
// Keep-alive (timeout, at most N requests), read and write timeouts stay as configured on the
// server. Responses are written with one send for head and body where they fit.
#ifndef EXPORTD_API_EDGE_SERVER_H_
#define EXPORTD_API_EDGE_SERVER_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace httplib {
class Server;
}

namespace exportd::api {

// The head of a request may be at most this long (request line and headers, 64 KiB).
inline constexpr size_t kMaxHeadBytes = 64 * 1024;

struct EdgeOptions {
  std::chrono::seconds header_timeout{10};
  int max_connections_per_client = 0;  // 0: no cap
  // PEM files; when tls_cert_file is set the server speaks HTTPS only.
  std::string tls_cert_file;
  std::string tls_key_file;
};

// A server with the connection layer above. Configure it like any httplib::Server (timeouts,
// keep-alive, thread pool, handlers) except for set_post_routing_handler, which this layer uses
// to mark answers that end their connection. With TLS it is an httplib::SSLServer (check
// is_valid()).
std::unique_ptr<httplib::Server> MakeEdgeServer(const EdgeOptions& options);

}  // namespace exportd::api

#endif  // EXPORTD_API_EDGE_SERVER_H_
