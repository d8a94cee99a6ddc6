#include "tests/integration/http_client.h"

#include <strings.h>

#include <httplib.h>

namespace exportd::itest {

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
  httplib::Client cli(host_, port_);
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
