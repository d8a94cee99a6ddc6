#include "api/edge_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "api/http_framing.h"
#include "api/http_status.h"

namespace exportd::api {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Waits that may last seconds (keep-alive, request heads) look this often whether the server is
// stopping, as cpp-httplib's own loop does, so that stop() does not wait for idle clients.
constexpr auto kStopCheckInterval = std::chrono::milliseconds(100);
// A response head this small is held back and sent together with the start of the body.
constexpr size_t kHoldBytes = 4096;
// After an answer that left part of a request unread: how long, and how much, is read and
// dropped before the socket is closed, so that the client sees the answer rather than a reset.
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr size_t kLingerBytes = 1 << 20;
// Over-cap refusals are logged at most this often (an attack would flood the log).
constexpr auto kRefusalLogInterval = std::chrono::seconds(10);
constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

// A complete answer for the cases this layer answers itself (before cpp-httplib has a request).
std::string CannedProblem(int status, const std::string& detail, const std::string& headers = "") {
  const std::string title(HttpTitle(status));
  std::string slug;
  for (char c : title) {
    slug += c == ' ' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const std::string body = nlohmann::json{
      {"type", "https://exportd.dev/problems/" + slug},
      {"title", title},
      {"status", status},
      {"detail", detail}}.dump();
  return "HTTP/1.1 " + std::to_string(status) + " " + title +
         "\r\nContent-Type: application/problem+json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n" + headers + "\r\n" + body;
}

struct Peer {
  std::string ip;
  int port = 0;
};

Peer AddressOf(const sockaddr_storage& addr) {
  Peer peer;
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(addr);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    peer.port = ntohs(in.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(addr);
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
    peer.port = ntohs(in6.sin6_port);
  }
  peer.ip = text;
  return peer;
}

Peer RemoteOf(int sock) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return {};
  return AddressOf(addr);
}

Peer LocalOf(int sock) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return {};
  return AddressOf(addr);
}

// Waits until `fd` is ready for `events` or `deadline` passes. With `stop_watch`, also gives up
// when the listening socket it points to has been closed (the server is stopping).
bool WaitReady(int fd, short events, SteadyClock::time_point deadline,
               const std::atomic<socket_t>* stop_watch = nullptr) {
  for (;;) {
    const auto now = SteadyClock::now();
    if (now >= deadline) return false;
    auto left = deadline - now;
    if (stop_watch != nullptr) left = std::min<SteadyClock::duration>(left, kStopCheckInterval);
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, ms)));
    if (r > 0) return true;  // POLLHUP and POLLERR too: the next read or write reports them
    if (r < 0 && errno != EINTR) return false;
    if (stop_watch != nullptr && stop_watch->load() == INVALID_SOCKET) return false;
  }
}

// ---- Transports: a plain socket or a TLS session, never blocking -------------------------------

// Results besides a byte count (> 0), 0 (end of stream) and -1 (error).
constexpr ssize_t kWantRead = -2;
constexpr ssize_t kWantWrite = -3;

class Transport {
 public:
  virtual ~Transport() = default;
  virtual ssize_t Read(char* data, size_t size) = 0;
  // Writes from `a`, then from `b`, as much as one call takes; returns the bytes written.
  virtual ssize_t Write(const char* a, size_t a_size, const char* b, size_t b_size) = 0;
  // Whether data was received that Read will return without the socket becoming readable.
  virtual bool Buffered() const = 0;
};

class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(int sock) : sock_(sock) {}

  ssize_t Read(char* data, size_t size) override {
    for (;;) {
      const ssize_t n = ::recv(sock_, data, size, MSG_DONTWAIT);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? kWantRead : -1;
    }
  }

  ssize_t Write(const char* a, size_t a_size, const char* b, size_t b_size) override {
    iovec iov[2] = {{const_cast<char*>(a), a_size}, {const_cast<char*>(b), b_size}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = b_size > 0 ? 2 : 1;
    for (;;) {
      const ssize_t n = ::sendmsg(sock_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? kWantWrite : -1;
    }
  }

  bool Buffered() const override { return false; }

 private:
  int sock_;
};

// REQUIRES: the socket is non-blocking and the handshake is done.
class TlsTransport final : public Transport {
 public:
  explicit TlsTransport(SSL* ssl) : ssl_(ssl) {}

  ssize_t Read(char* data, size_t size) override {
    ERR_clear_error();
    const int n = SSL_read(ssl_, data, static_cast<int>(std::min<size_t>(size, INT_MAX)));
    return n > 0 ? n : Failure(n);
  }

  // TLS has no gather write: `b` waits for the next call.
  ssize_t Write(const char* a, size_t a_size, const char*, size_t) override {
    ERR_clear_error();
    const int n = SSL_write(ssl_, a, static_cast<int>(std::min<size_t>(a_size, INT_MAX)));
    return n > 0 ? n : Failure(n);
  }

  bool Buffered() const override { return SSL_pending(ssl_) > 0 || SSL_has_pending(ssl_) == 1; }

 private:
  ssize_t Failure(int result) {
    switch (SSL_get_error(ssl_, result)) {
      case SSL_ERROR_WANT_READ:
        return kWantRead;
      case SSL_ERROR_WANT_WRITE:
        return kWantWrite;
      case SSL_ERROR_ZERO_RETURN:
        return 0;
      default:
        return -1;
    }
  }

  SSL* ssl_;
};

// ---- The stream cpp-httplib reads one request from and writes its answer to ---------------------

class EdgeStream final : public httplib::Stream {
 public:
  enum class Head { kReady, kClosed, kTimeout, kTooLarge };

  EdgeStream(int sock, Transport& transport, Peer remote, Peer local,
             std::chrono::microseconds read_timeout, std::chrono::microseconds write_timeout)
      : sock_(sock),
        transport_(transport),
        remote_(std::move(remote)),
        local_(std::move(local)),
        read_timeout_(read_timeout),
        write_timeout_(write_timeout),
        in_(new char[kMaxHeadBytes]) {}

  // Waits up to `idle` for the first byte of the next request (none when bytes are left over
  // from the previous one), then up to `head_time` for the rest of its head, and sets the
  // request up for the library. REQUIRES: the previous request is complete.
  Head NextRequest(std::chrono::seconds idle, std::chrono::seconds head_time,
                   const std::atomic<socket_t>& listener) {
    if (in_begin_ == in_end_) {
      in_begin_ = in_end_ = 0;
    } else if (in_begin_ > 0) {
      std::memmove(in_.get(), in_.get() + in_begin_, in_end_ - in_begin_);
      in_end_ -= in_begin_;
      in_begin_ = 0;
    }
    if (in_end_ == 0 && !transport_.Buffered()) {
      if (!Flush()) return Head::kClosed;
      if (!WaitReady(sock_, POLLIN, SteadyClock::now() + idle, &listener)) return Head::kClosed;
    }
    const auto deadline = SteadyClock::now() + head_time;
    size_t searched = 0;
    size_t head_end = std::string_view::npos;
    while ((head_end = FindHeadEnd(std::string_view(in_.get(), in_end_), searched)) ==
           std::string_view::npos) {
      searched = in_end_;
      if (in_end_ == kMaxHeadBytes) return Head::kTooLarge;
      const ssize_t n = transport_.Read(in_.get() + in_end_, kMaxHeadBytes - in_end_);
      if (n > 0) {
        in_end_ += static_cast<size_t>(n);
      } else if (n == kWantRead || n == kWantWrite) {
        // The client may wait for an answer still held back before it sends more.
        if (!Flush()) return Head::kClosed;
        // Each wait is also bounded by the read timeout, as every other read is.
        const auto wait_until = std::min(deadline, SteadyClock::now() + read_timeout_);
        if (!WaitReady(sock_, n == kWantRead ? POLLIN : POLLOUT, wait_until, &listener)) {
          return listener.load() == INVALID_SOCKET || in_end_ == 0 ? Head::kClosed : Head::kTimeout;
        }
      } else {
        return Head::kClosed;
      }
    }
    const std::string_view head(in_.get(), head_end);
    framing_ = FrameHead(head);
    empty_fields_.clear();
    for (const auto& [name, value] : HeadFields(head)) {
      if (value.empty()) empty_fields_.emplace_back(name);
    }
    switch (framing_.kind) {
      case BodyFraming::Kind::kLength:
        allowed_ = head_end + framing_.length;
        break;
      case BodyFraming::Kind::kChunked:
        allowed_ = kUnlimited;
        break;
      default:
        allowed_ = head_end;
        break;
    }
    return Head::kReady;
  }

  // Whether the current request was read exactly to its end, so that the connection may carry
  // another one. Never for a chunked body (its end is the library's to find) or invalid framing.
  bool RequestComplete() const {
    return allowed_ == 0 && (framing_.kind == BodyFraming::Kind::kNone ||
                             framing_.kind == BodyFraming::Kind::kLength);
  }
  bool KeepAlivePossible() const {
    return framing_.kind == BodyFraming::Kind::kNone || framing_.kind == BodyFraming::Kind::kLength;
  }
  // Header fields of the current request whose value is empty (cpp-httplib drops them).
  const std::vector<std::string>& empty_fields() const { return empty_fields_; }
  bool unread_input() const { return in_begin_ < in_end_ || transport_.Buffered(); }

  // Sends what is held back. False when the connection failed.
  bool Flush() {
    while (!failed_ && out_sent_ < out_.size()) {
      const ssize_t n = Send(out_.data() + out_sent_, out_.size() - out_sent_, nullptr, 0);
      if (n < 0) {
        failed_ = true;
      } else {
        out_sent_ += static_cast<size_t>(n);
      }
    }
    out_.clear();
    out_sent_ = 0;
    return !failed_;
  }

  // Writes `data` whole (within the write timeout), after what is held back.
  bool WriteAll(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = write(data.data() + done, data.size() - done);
      if (n < 0) return false;
      done += static_cast<size_t>(n);
    }
    return Flush();
  }

  // httplib::Stream
  bool is_readable() const override { return !failed_; }
  bool is_writable() const override { return !failed_; }

  ssize_t read(char* ptr, size_t size) override {
    if (failed_) return -1;
    if (allowed_ != kUnlimited) size = static_cast<size_t>(std::min<uint64_t>(size, allowed_));
    if (size == 0) return 0;  // the end of this request: the next one is not the library's yet
    if (in_begin_ == in_end_) {
      in_begin_ = in_end_ = 0;
      const auto deadline = SteadyClock::now() + read_timeout_;
      for (;;) {
        // Large reads go straight to the caller; small ones fill the buffer.
        const bool direct = size >= kMaxHeadBytes / 2;
        const ssize_t n =
            direct ? transport_.Read(ptr, size) : transport_.Read(in_.get(), kMaxHeadBytes);
        if (n > 0) {
          if (direct) return Consumed(n);
          in_end_ = static_cast<size_t>(n);
          break;
        }
        if (n == 0) return 0;
        if (n != kWantRead && n != kWantWrite) return Fail();
        // Whatever was held back may be what the client waits for (100 Continue).
        if (!Flush()) return -1;
        if (!WaitReady(sock_, n == kWantRead ? POLLIN : POLLOUT, deadline)) return Fail();
      }
    }
    const size_t n = std::min(size, in_end_ - in_begin_);
    std::memcpy(ptr, in_.get() + in_begin_, n);
    in_begin_ += n;
    return Consumed(static_cast<ssize_t>(n));
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (failed_) return -1;
    if (out_.empty() && size <= kHoldBytes) {  // most likely a response head
      out_.assign(ptr, size);
      return static_cast<ssize_t>(size);
    }
    while (out_sent_ < out_.size()) {
      const size_t held = out_.size() - out_sent_;
      const ssize_t n = Send(out_.data() + out_sent_, held, ptr, size);
      if (n < 0) return Fail();
      if (static_cast<size_t>(n) < held) {
        out_sent_ += static_cast<size_t>(n);
        continue;
      }
      out_.clear();
      out_sent_ = 0;
      if (static_cast<size_t>(n) > held) return n - static_cast<ssize_t>(held);
    }
    const ssize_t n = Send(ptr, size, nullptr, 0);
    return n < 0 ? Fail() : n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = remote_.ip;
    port = remote_.port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = local_.ip;
    port = local_.port;
  }
  socket_t socket() const override { return sock_; }

 private:
  ssize_t Consumed(ssize_t n) {
    if (allowed_ != kUnlimited) allowed_ -= static_cast<uint64_t>(n);
    return n;
  }
  ssize_t Fail() {
    failed_ = true;
    return -1;
  }
  // One write of at least one byte within the write timeout; -1 on failure.
  ssize_t Send(const char* a, size_t a_size, const char* b, size_t b_size) {
    const auto deadline = SteadyClock::now() + write_timeout_;
    for (;;) {
      const ssize_t n = transport_.Write(a, a_size, b, b_size);
      if (n > 0) return n;
      if (n != kWantRead && n != kWantWrite) return -1;
      if (!WaitReady(sock_, n == kWantRead ? POLLIN : POLLOUT, deadline)) return -1;
    }
  }

  const int sock_;
  Transport& transport_;
  const Peer remote_;
  const Peer local_;
  const std::chrono::microseconds read_timeout_;
  const std::chrono::microseconds write_timeout_;
  // Received bytes not yet read by the library: [in_begin_, in_end_).
  std::unique_ptr<char[]> in_;
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  BodyFraming framing_;
  // Bytes of the current request the library has yet to read (kUnlimited: chunked).
  uint64_t allowed_ = 0;
  std::vector<std::string> empty_fields_;
  // Held back for the next write: [out_sent_, out_.size()) is unsent.
  std::string out_;
  size_t out_sent_ = 0;
  bool failed_ = false;
};

// The stream of the request this thread is serving (for the post-routing handler).
thread_local EdgeStream* t_stream = nullptr;

// ---- Shared state: connections per client ------------------------------------------------------

class ClientSlots {
 public:
  explicit ClientSlots(int cap) : cap_(cap) {}

  bool Acquire(const std::string& client) {
    if (cap_ <= 0) return true;
    std::lock_guard<std::mutex> lock(mu_);
    int& open = open_[client];
    if (open >= cap_) return false;
    ++open;
    return true;
  }

  void Release(const std::string& client) {
    if (cap_ <= 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = open_.find(client);
    if (it != open_.end() && --it->second <= 0) open_.erase(it);
  }

  // Logs a refusal, at most once per kRefusalLogInterval (with the count since the last line).
  void NoteRefusal(const std::string& client) {
    std::lock_guard<std::mutex> lock(mu_);
    ++refused_;
    const auto now = SteadyClock::now();
    if (now - last_log_ < kRefusalLogInterval) return;
    spdlog::warn("refused {} connection(s) over max_connections_per_client ({}); latest from {}",
                 refused_, cap_, client);
    refused_ = 0;
    last_log_ = now;
  }

  int cap() const { return cap_; }

 private:
  const int cap_;
  std::mutex mu_;
  std::unordered_map<std::string, int> open_;  // guarded by mu_
  int64_t refused_ = 0;                        // guarded by mu_
  SteadyClock::time_point last_log_{};         // guarded by mu_
};

struct EdgeShared {
  explicit EdgeShared(const EdgeOptions& o)
      : header_timeout(o.header_timeout), slots(o.max_connections_per_client) {}
  const std::chrono::seconds header_timeout;
  ClientSlots slots;
};

// What a connection needs of the server (its protected members, read by the subclass).
struct ServerSettings {
  size_t keep_alive_max_count;
  std::chrono::seconds keep_alive_timeout;
  std::chrono::microseconds read_timeout;
  std::chrono::microseconds write_timeout;
  const std::atomic<socket_t>* listener;
};

using ProcessRequest =
    std::function<bool(httplib::Stream&, bool close_connection, bool& connection_closed,
                       const std::function<void(httplib::Request&)>&)>;

// Reads and drops what the client still sends, for a moment, after our side is shut for
// writing: closing a socket with unread input makes the kernel send a reset, which can destroy
// the answer before the client has read it.
void Linger(int sock) {
  ::shutdown(sock, SHUT_WR);
  const auto deadline = SteadyClock::now() + kLingerTime;
  char buf[16 * 1024];
  size_t dropped = 0;
  while (dropped < kLingerBytes && WaitReady(sock, POLLIN, deadline)) {
    const ssize_t n = ::recv(sock, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
    if (n > 0) dropped += static_cast<size_t>(n);
  }
}

// The keep-alive loop of one connection (cpp-httplib's process_server_socket_core, with the
// rules of edge_server.h). Returns what the last process_request returned.
bool ServeRequests(EdgeStream& strm, const ServerSettings& s, EdgeShared& shared, SSL* ssl,
                   const ProcessRequest& process_request, bool* complete) {
  bool ret = false;
  *complete = true;
  const std::function<void(httplib::Request&)> setup = [&strm, ssl](httplib::Request& req) {
    for (const std::string& name : strm.empty_fields()) {
      if (!req.has_header(name)) req.headers.emplace(name, "");
    }
    req.ssl = ssl;
  };
  for (size_t left = s.keep_alive_max_count; left > 0 && s.listener->load() != INVALID_SOCKET;
       --left) {
    const EdgeStream::Head head =
        strm.NextRequest(s.keep_alive_timeout, shared.header_timeout, *s.listener);
    if (head == EdgeStream::Head::kTimeout) {
      *complete = false;
      strm.WriteAll(CannedProblem(408, "the request line and headers did not arrive within " +
                                           std::to_string(shared.header_timeout.count()) +
                                           " s (header_timeout_seconds)"));
      return false;
    }
    if (head == EdgeStream::Head::kTooLarge) {
      *complete = false;
      strm.WriteAll(CannedProblem(431, "the request line and headers are longer than " +
                                           std::to_string(kMaxHeadBytes) + " bytes"));
      return false;
    }
    if (head != EdgeStream::Head::kReady) return ret;
    const bool close_connection = left == 1 || !strm.KeepAlivePossible();
    bool connection_closed = false;
    t_stream = &strm;
    ret = process_request(strm, close_connection, connection_closed, setup);
    t_stream = nullptr;
    *complete = strm.RequestComplete();
    if (!ret || connection_closed || close_connection || !*complete) break;
  }
  return ret;
}

// The whole life of an accepted socket; closes it.
bool ServeConnection(int sock, const ServerSettings& s, EdgeShared& shared, SSL_CTX* tls,
                     const ProcessRequest& process_request) {
  Peer remote = RemoteOf(sock);
  if (!shared.slots.Acquire(remote.ip)) {
    shared.slots.NoteRefusal(remote.ip);
    if (tls == nullptr) {
      const std::string answer =
          CannedProblem(503,
                        "this client address already has " + std::to_string(shared.slots.cap()) +
                            " connections open (max_connections_per_client)",
                        "Retry-After: 1\r\n");
      (void)::send(sock, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return false;
  }
  bool ret = false;
  bool complete = true;
  SSL* ssl = nullptr;
  std::unique_ptr<Transport> transport;
  if (tls == nullptr) {
    transport = std::make_unique<PlainTransport>(sock);
  } else {
    ssl = SSL_new(tls);
    bool ready = false;
    if (ssl != nullptr && SSL_set_fd(ssl, sock) == 1) {
      const int flags = ::fcntl(sock, F_GETFL, 0);
      ::fcntl(sock, F_SETFL, flags | O_NONBLOCK);
      SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
      // The handshake is part of the first request's head: the same deadline applies.
      const auto deadline = SteadyClock::now() + shared.header_timeout;
      for (;;) {
        ERR_clear_error();
        const int r = SSL_accept(ssl);
        if (r == 1) {
          ready = true;
          break;
        }
        const int err = SSL_get_error(ssl, r);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) break;
        if (!WaitReady(sock, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, s.listener)) {
          break;
        }
      }
    }
    if (ready) transport = std::make_unique<TlsTransport>(ssl);
  }
  if (transport != nullptr) {
    EdgeStream strm(sock, *transport, remote, LocalOf(sock), s.read_timeout, s.write_timeout);
    ret = ServeRequests(strm, s, shared, ssl, process_request, &complete);
    const bool flushed = strm.Flush();
    if (ssl != nullptr && flushed && ret) {
      ERR_clear_error();
      SSL_shutdown(ssl);  // close_notify; the peer's is not waited for
    }
    if (flushed && (!complete || strm.unread_input())) Linger(sock);
  }
  if (ssl != nullptr) SSL_free(ssl);
  shared.slots.Release(remote.ip);
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ret;
}

// Marks an answer that leaves part of its request unread: its connection ends after it.
void MarkConnectionEnd(const httplib::Request&, httplib::Response& res) {
  if (t_stream == nullptr || t_stream->RequestComplete()) return;
  res.headers.erase("Keep-Alive");
  if (res.get_header_value("Connection") != "close") {
    res.headers.erase("Connection");
    res.set_header("Connection", "close");
  }
}

template <class Base>
class EdgeServer final : public Base {
 public:
  template <class... Args>
  explicit EdgeServer(const EdgeOptions& options, Args&&... args)
      : Base(std::forward<Args>(args)...), shared_(options) {
    this->set_post_routing_handler(MarkConnectionEnd);
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    const ServerSettings settings{this->keep_alive_max_count_,
                                  std::chrono::seconds(this->keep_alive_timeout_sec_),
                                  std::chrono::seconds(this->read_timeout_sec_) +
                                      std::chrono::microseconds(this->read_timeout_usec_),
                                  std::chrono::seconds(this->write_timeout_sec_) +
                                      std::chrono::microseconds(this->write_timeout_usec_),
                                  &this->svr_sock_};
    SSL_CTX* tls = nullptr;
    if constexpr (std::is_same_v<Base, httplib::SSLServer>) tls = this->ssl_context();
    return ServeConnection(
        sock, settings, shared_, tls,
        [this](httplib::Stream& strm, bool close_connection, bool& connection_closed,
               const std::function<void(httplib::Request&)>& setup) {
          return this->process_request(strm, close_connection, connection_closed, setup);
        });
  }

  EdgeShared shared_;
};

}  // namespace

std::unique_ptr<httplib::Server> MakeEdgeServer(const EdgeOptions& options) {
  if (options.tls_cert_file.empty()) return std::make_unique<EdgeServer<httplib::Server>>(options);
  return std::make_unique<EdgeServer<httplib::SSLServer>>(options, options.tls_cert_file.c_str(),
                                                          options.tls_key_file.c_str());
}

}  // namespace exportd::api
