// exportctl's HTTP calls to exportd (libcurl through storage/base/curl_util): one blocking call
// per request, answers turned into Status with the problem+json made one readable line.
#ifndef EXPORTD_SERVER_EXPORTCTL_API_CLIENT_H_
#define EXPORTD_SERVER_EXPORTCTL_API_CLIENT_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "server/exportctl/connection.h"

namespace exportd::ctl {

struct ApiResponse {
  long status = 0;
  std::string body;
  nlohmann::json json;  // discarded when the body is not JSON
  std::optional<int> retry_after_seconds;
};

// "title: detail (/pointer: detail; ...)" of a problem+json body, or "HTTP <status>" plus
// the start of the body for anything else.
std::string ProblemLine(const ApiResponse& response);

// A non-2xx answer as a Status whose code decides exportctl's exit code: 400/422
// kInvalidArgument, 401 kUnauthenticated, 403 kPermissionDenied, 404 kNotFound, 410 kGone,
// 409 kFailedPrecondition, 429 kResourceExhausted, others kInternal. OK for 2xx.
Status ResponseStatus(const ApiResponse& response, std::string_view what);

class ApiClient {
 public:
  explicit ApiClient(Connection connection);

  // `path` is relative to the base URL ("/v1/exports"). Transport failures (nothing listening,
  // DNS, TLS, timeouts) are kUnavailable; a malformed --url is kInvalidArgument. Any HTTP status
  // is a response.
  Result<ApiResponse> Call(std::string_view method, const std::string& path,
                           const nlohmann::json* body = nullptr) const;

  // Call() that also fails (ResponseStatus) on a non-2xx answer.
  Result<ApiResponse> Expect(std::string_view method, const std::string& path,
                             const nlohmann::json* body = nullptr) const;

  // An absolute URL for a link the server gave ("/v1/..." is joined to the base URL).
  std::string Absolute(const std::string& link) const;
  const Connection& connection() const { return connection_; }

 private:
  Connection connection_;
};

// `segment` percent-encoded for one URL path segment (RFC 3986 unreserved characters stay).
std::string PathSegment(std::string_view segment);

// Status for a failure of the transport to `url` (kUnavailable unless the URL is malformed).
Status TransportStatus(const Status& curl_status, const std::string& url);

}  // namespace exportd::ctl

#endif  // EXPORTD_SERVER_EXPORTCTL_API_CLIENT_H_
