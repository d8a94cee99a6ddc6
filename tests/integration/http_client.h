// A small HTTP client for the integration tests: one call per request, the whole response kept
// (status, headers, body, parsed JSON). No httplib types leak out of here, so test files compile
// quickly.
#ifndef EXPORTD_TESTS_INTEGRATION_HTTP_CLIENT_H_
#define EXPORTD_TESTS_INTEGRATION_HTTP_CLIENT_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace exportd::itest {

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;  // 0: the request did not complete (see transport_error)
  std::string transport_error;
  std::multimap<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;
  nlohmann::json json;  // the parsed body; discarded (is_discarded()) when not JSON

  bool HasHeader(const std::string& name) const { return headers.count(name) > 0; }
  std::string Header(const std::string& name) const;  // "" if absent
  // "GET /path -> 400 application/problem+json {...}" for assertion messages.
  std::string Describe() const;
  std::string request_line;  // "GET /path"
};

class HttpClient {
 public:
  HttpClient(std::string host, int port, std::string bearer_token = "");

  void set_token(std::string token) { token_ = std::move(token); }
  // Speak HTTPS, trusting only the PEM certificate(s) in `ca_file` (empty: plain HTTP).
  void set_tls_ca(std::string ca_file) { tls_ca_ = std::move(ca_file); }
  const std::string& token() const { return token_; }

  HttpResponse Get(const std::string& path, const HeaderList& headers = {}) const;
  HttpResponse Delete(const std::string& path, const HeaderList& headers = {}) const;
  HttpResponse PostJson(const std::string& path, const nlohmann::json& body,
                        const HeaderList& headers = {}) const;
  // Any method, any body; `content_type` empty: no Content-Type header.
  HttpResponse Send(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& content_type, const HeaderList& headers = {},
                    bool with_auth = true) const;
  // GET of an absolute URL (a pre-signed link) without the Authorization header. The URL must
  // point at this client's host:port.
  HttpResponse GetUrl(const std::string& url, const HeaderList& headers = {}) const;

  // Writes `head` (request line and headers, ending with an empty line) on a fresh connection,
  // gives the server up to a second to answer before any body is sent (a server may refuse an
  // announced oversize body at once and close), then writes `body` ignoring write errors and
  // reads the response. For requests an ordinary client cannot finish sending.
  HttpResponse SendRaw(const std::string& head, const std::string& body) const;

  // Path and query of an absolute URL ("http://h:p/a?b" -> "/a?b"); "" if it is not http://.
  static std::string PathOf(const std::string& url);

 private:
  std::string host_;
  int port_;
  std::string token_;
  std::string tls_ca_;
};

}  // namespace exportd::itest

#endif  // EXPORTD_TESTS_INTEGRATION_HTTP_CLIENT_H_
