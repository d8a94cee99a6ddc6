// libcurl for storage/: the one translation of CURLcode (and of an outbound HTTP response
// status) into Status, RAII owners for curl handles, and a small blocking HTTP call used by the
// S3 object store and the webhook notifier.
#ifndef EXPORTD_STORAGE_BASE_CURL_UTIL_H_
#define EXPORTD_STORAGE_BASE_CURL_UTIL_H_

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace exportd {

// curl_global_init, once per process. Thread-safe (std::call_once); call it early in main too,
// before any thread exists, as libcurl asks.
void EnsureCurlGlobalInit();

// "context: <curl's text>" with a code chosen by what the caller should do next:
//   could not resolve/connect, send/receive errors, empty reply, partial transfer,
//   TLS handshake failure                         -> kUnavailable (transient)
//   timeout                                        -> kDeadlineExceeded (transient)
//   login denied, remote access denied,
//   peer certificate rejected                      -> kPermissionDenied
//   malformed URL, unsupported protocol           -> kInvalidArgument
//   aborted by a callback                          -> kCancelled
//   anything else                                  -> kInternal
Status CurlStatus(CURLcode code, std::string_view context);

// A remote server's HTTP answer as a Status: 2xx OK; 408, 429 and 5xx kUnavailable (retry);
// 401/403 kPermissionDenied; 404 kNotFound; 409/412 kFailedPrecondition; other 4xx
// kInvalidArgument. The message is "context: HTTP <code>" plus `detail` when given.
Status RemoteHttpStatus(long http_code, std::string_view context, std::string_view detail = {});

struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
// Owns one easy handle.
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
// A new easy handle (after EnsureCurlGlobalInit); kInternal if libcurl cannot make one.
Result<CurlEasy> NewCurlEasy();

// Owns a curl_slist (header lists, mail recipients). Move-only.
class CurlSlist {
 public:
  CurlSlist() = default;
  CurlSlist(CurlSlist&& other) noexcept : list_(std::exchange(other.list_, nullptr)) {}
  CurlSlist& operator=(CurlSlist&& other) noexcept;
  CurlSlist(const CurlSlist&) = delete;
  CurlSlist& operator=(const CurlSlist&) = delete;
  ~CurlSlist();

  // Appends a copy of `item`; kInternal if libcurl is out of memory.
  Status Append(const std::string& item);
  curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

struct HttpRequest {
  std::string method = "GET";  // any verb; "HEAD" sends no body and reads none
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent as is (with Content-Length) unless method is GET/HEAD
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{60000};  // the whole exchange
  bool follow_redirects = false;
  // CURLOPT_RESOLVE entries ("host:port:address"): connect only to the address checked by an
  // OutboundPolicy, whatever DNS says at connect time.
  std::vector<std::string> resolve;
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased, in order
  std::string body;

  // The first header named `name` (lowercase), or empty.
  std::string Header(std::string_view name) const;
};

// Performs one HTTP exchange and returns whatever status the server answered (a 500 is a
// response, not an error). Errors only for transport failures (CurlStatus). Blocking;
// thread-safe (one easy handle per call).
Result<HttpResponse> PerformHttp(const HttpRequest& request);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_BASE_CURL_UTIL_H_
