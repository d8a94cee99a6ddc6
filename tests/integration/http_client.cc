#include "tests/integration/http_client.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace exportd::itest {
namespace {

// A server may close a connection while the client still writes (e.g. 413 on an announced
// oversize body): that must be an error return, not a SIGPIPE that kills the test process.
const bool kSigpipeIgnored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

}  // namespace

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  return ::strcasecmp(a.c_str(), b.c_str()) < 0;
}

std::string HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string HttpResponse::Describe() const {
  std::string s = request_line + " -> ";
  if (status == 0) return s + "no response (" + transport_error + ")";
  s += std::to_string(status) + " [" + Header("Content-Type") + "] ";
  s += body.size() > 1500 ? body.substr(0, 1500) + "...(" + std::to_string(body.size()) + " bytes)"
                          : body;
  return s;
}

HttpClient::HttpClient(std::string host, int port, std::string bearer_token)
    : host_(std::move(host)), port_(port), token_(std::move(bearer_token)) {}

HttpResponse HttpClient::Send(const std::string& method, const std::string& path,
                              const std::string& body, const std::string& content_type,
                              const HeaderList& headers, bool with_auth) const {
  httplib::Client cli = tls_ca_.empty()
                            ? httplib::Client(host_, port_)
                            : httplib::Client("https://" + host_ + ":" + std::to_string(port_));
  if (!tls_ca_.empty()) {
    cli.set_ca_cert_path(tls_ca_.c_str());
    cli.enable_server_certificate_verification(true);
  }
  cli.set_connection_timeout(2, 0);
  cli.set_read_timeout(30, 0);
  cli.set_write_timeout(30, 0);
  cli.set_decompress(false);  // downloads are compared byte for byte
  cli.set_keep_alive(false);

  httplib::Request req;
  req.method = method;
  req.path = path;
  if (with_auth && !token_.empty()) req.headers.emplace("Authorization", "Bearer " + token_);
  for (const auto& [k, v] : headers) req.headers.emplace(k, v);
  if (!content_type.empty()) req.headers.emplace("Content-Type", content_type);
  req.body = body;

  HttpResponse out;
  out.request_line = method + " " + path;
  (void)kSigpipeIgnored;
  auto res = cli.send(req);
  if (!res) {
    out.transport_error = httplib::to_string(res.error());
    out.json = nlohmann::json(nlohmann::json::value_t::discarded);
    return out;
  }
  out.status = res->status;
  for (const auto& [k, v] : res->headers) out.headers.emplace(k, v);
  out.body = res->body;
  out.json = nlohmann::json::parse(out.body, nullptr, /*allow_exceptions=*/false);
  return out;
}

HttpResponse HttpClient::SendRaw(const std::string& head, const std::string& body) const {
  (void)kSigpipeIgnored;
  HttpResponse out;
  out.request_line = head.substr(0, head.find("\r\n"));
  out.json = nlohmann::json(nlohmann::json::value_t::discarded);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  ::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    out.transport_error = std::string("connect: ") + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return out;
  }
  auto write_all = [&](const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  };
  pollfd pfd{fd, POLLIN, 0};
  if (write_all(head) && ::poll(&pfd, 1, 1000) == 0) write_all(body);
  ::shutdown(fd, SHUT_WR);
  std::string raw;
  char buf[65536];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) {
    out.transport_error = "no complete response (" + std::to_string(raw.size()) + " bytes read)";
    return out;
  }
  out.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  size_t pos = raw.find("\r\n") + 2;
  while (pos < end) {
    size_t eol = raw.find("\r\n", pos);
    std::string line = raw.substr(pos, eol - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      size_t v = line.find_first_not_of(' ', colon + 1);
      out.headers.emplace(line.substr(0, colon), v == std::string::npos ? "" : line.substr(v));
    }
    pos = eol + 2;
  }
  out.body = raw.substr(end + 4);
  out.json = nlohmann::json::parse(out.body, nullptr, /*allow_exceptions=*/false);
  return out;
}

HttpResponse HttpClient::Get(const std::string& path, const HeaderList& headers) const {
  return Send("GET", path, "", "", headers);
}

HttpResponse HttpClient::Delete(const std::string& path, const HeaderList& headers) const {
  return Send("DELETE", path, "", "", headers);
}

HttpResponse HttpClient::PostJson(const std::string& path, const nlohmann::json& body,
                                  const HeaderList& headers) const {
  return Send("POST", path, body.dump(), "application/json", headers);
}

std::string HttpClient::PathOf(const std::string& url) {
  static constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return "";
  auto slash = url.find('/', kScheme.size());
  return slash == std::string::npos ? "/" : url.substr(slash);
}

HttpResponse HttpClient::GetUrl(const std::string& url, const HeaderList& headers) const {
  std::string path = PathOf(url);
  if (path.empty()) path = url;  // a relative link
  return Send("GET", path, "", "", headers, /*with_auth=*/false);
}

}  // namespace exportd::itest
