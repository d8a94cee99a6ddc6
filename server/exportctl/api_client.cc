#include "server/exportctl/api_client.h"

#include <cctype>
#include <cstdio>
#include <utility>

#include "storage/base/curl_util.h"

namespace exportd::ctl {
namespace {

using Json = nlohmann::json;

std::string Origin(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

}  // namespace

std::string ProblemLine(const ApiResponse& response) {
  const Json& j = response.json;
  if (!j.is_object() || !j.contains("title")) {
    std::string body = response.body.substr(0, 200);
    for (char& c : body) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return "HTTP " + std::to_string(response.status) + (body.empty() ? "" : ": " + body);
  }
  auto text = [](const Json& v) { return v.is_string() ? v.get<std::string>() : std::string(); };
  std::string line = text(j["title"]);
  const std::string detail = j.contains("detail") ? text(j["detail"]) : "";
  if (!detail.empty()) line += ": " + detail;
  if (j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
    std::string pointers;
    for (const Json& e : j["errors"]) {
      if (!e.is_object()) continue;
      if (!pointers.empty()) pointers += "; ";
      pointers += e.contains("pointer") ? text(e["pointer"]) : "";
      if (e.contains("detail") && text(e["detail"]) != detail) pointers += ": " + text(e["detail"]);
    }
    if (!pointers.empty()) line += " (" + pointers + ")";
  }
  return line + " [HTTP " + std::to_string(response.status) + "]";
}

Status ResponseStatus(const ApiResponse& response, std::string_view what) {
  if (response.status >= 200 && response.status < 300) return Status::Ok();
  // The HTTP statuses a client can act on; anything else is kInternal.
  static constexpr std::pair<long, StatusCode> kCodes[] = {
      {400, StatusCode::kInvalidArgument},
      {422, StatusCode::kInvalidArgument},
      {401, StatusCode::kUnauthenticated},
      {403, StatusCode::kPermissionDenied},
      {404, StatusCode::kNotFound},
      {409, StatusCode::kFailedPrecondition},
      {410, StatusCode::kGone},
      {429, StatusCode::kResourceExhausted},
  };
  StatusCode code = StatusCode::kInternal;
  for (const auto& [http, mapped] : kCodes) {
    if (http == response.status) code = mapped;
  }
  return Status(code, std::string(what) + ": " + ProblemLine(response));
}

Status TransportStatus(const Status& curl_status, const std::string& url) {
  if (curl_status.code() == StatusCode::kInvalidArgument) {
    return InvalidArgument("bad URL " + url + ": " + curl_status.message());
  }
  return Unavailable("cannot reach " + Origin(url) + ": " + curl_status.message());
}

ApiClient::ApiClient(Connection connection) : connection_(std::move(connection)) {}

std::string ApiClient::Absolute(const std::string& link) const {
  if (link.find("://") != std::string::npos) return link;
  if (!link.empty() && link.front() == '/') return Origin(connection_.url) + link;
  return connection_.url + "/" + link;
}

Result<ApiResponse> ApiClient::Call(std::string_view method, const std::string& path,
                                    const Json* body) const {
  HttpRequest request;
  request.method = std::string(method);
  request.url = connection_.url + path;
  request.follow_redirects = true;
  request.connect_timeout = std::chrono::seconds(10);
  request.timeout = std::chrono::seconds(60);
  request.headers.emplace_back("Accept", "application/json");
  if (!connection_.token.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + connection_.token);
  }
  if (body != nullptr) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body->dump();
  }
  auto performed = PerformHttp(request);
  if (!performed.ok()) return TransportStatus(performed.status(), request.url);
  ApiResponse out;
  out.status = performed->status;
  out.body = std::move(performed->body);
  out.json = Json::parse(out.body, nullptr, /*allow_exceptions=*/false);
  const std::string retry_after = performed->Header("retry-after");
  if (!retry_after.empty() && retry_after.size() < 6 &&
      std::isdigit(static_cast<unsigned char>(retry_after[0]))) {
    out.retry_after_seconds = std::stoi(retry_after);
  }
  return out;
}

Result<ApiResponse> ApiClient::Expect(std::string_view method, const std::string& path,
                                      const Json* body) const {
  ASSIGN_OR_RETURN(ApiResponse response, Call(method, path, body));
  RETURN_IF_ERROR(ResponseStatus(response, std::string(method) + " " + path));
  return response;
}

std::string PathSegment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : segment) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace exportd::ctl
