#include "storage/base/curl_util.h"

#include <algorithm>
#include <cctype>
#include <mutex>

namespace exportd {

void EnsureCurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Status CurlStatus(CURLcode code, std::string_view context) {
  StatusCode mapped = StatusCode::kInternal;
  switch (code) {
    case CURLE_OK:
      return Status::Ok();
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      mapped = StatusCode::kUnavailable;
      break;
    case CURLE_OPERATION_TIMEDOUT:
      mapped = StatusCode::kDeadlineExceeded;
      break;
    case CURLE_LOGIN_DENIED:
    case CURLE_REMOTE_ACCESS_DENIED:
    case CURLE_PEER_FAILED_VERIFICATION:
      mapped = StatusCode::kPermissionDenied;
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      mapped = StatusCode::kInvalidArgument;
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      mapped = StatusCode::kCancelled;
      break;
    default:
      break;
  }
  std::string message(context);
  message += ": ";
  message += curl_easy_strerror(code);
  return Status(mapped, std::move(message));
}

Status RemoteHttpStatus(long http_code, std::string_view context, std::string_view detail) {
  if (http_code >= 200 && http_code < 300) return Status::Ok();
  StatusCode mapped = StatusCode::kInvalidArgument;
  if (http_code == 408 || http_code == 429 || http_code >= 500) {
    mapped = StatusCode::kUnavailable;
  } else if (http_code == 401 || http_code == 403) {
    mapped = StatusCode::kPermissionDenied;
  } else if (http_code == 404) {
    mapped = StatusCode::kNotFound;
  } else if (http_code == 409 || http_code == 412) {
    mapped = StatusCode::kFailedPrecondition;
  } else if (http_code < 200) {
    mapped = StatusCode::kInternal;
  }
  std::string message(context);
  message += ": HTTP " + std::to_string(http_code);
  if (!detail.empty()) {
    message += ": ";
    message += detail;
  }
  return Status(mapped, std::move(message));
}

Result<CurlEasy> NewCurlEasy() {
  EnsureCurlGlobalInit();
  CurlEasy handle(curl_easy_init());
  if (!handle) return Status(StatusCode::kInternal, "curl_easy_init failed");
  return handle;
}

CurlSlist& CurlSlist::operator=(CurlSlist&& other) noexcept {
  if (this != &other) {
    curl_slist_free_all(list_);
    list_ = std::exchange(other.list_, nullptr);
  }
  return *this;
}

CurlSlist::~CurlSlist() { curl_slist_free_all(list_); }

Status CurlSlist::Append(const std::string& item) {
  curl_slist* next = curl_slist_append(list_, item.c_str());
  if (next == nullptr) return Status(StatusCode::kInternal, "curl_slist_append: out of memory");
  list_ = next;
  return Status::Ok();
}

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

namespace {

size_t AppendBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Collects "Name: value" lines of the final response (a 100 Continue or a redirect starts a
// new header block, which resets the list).
size_t AppendHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  headers->emplace_back(std::move(name), std::string(value));
  return size * count;
}

}  // namespace

Result<HttpResponse> PerformHttp(const HttpRequest& request) {
  Result<CurlEasy> easy = NewCurlEasy();
  if (!easy.ok()) return easy.status();
  CURL* curl = easy->get();
  HttpResponse response;
  CurlSlist headers;
  for (const auto& [name, value] : request.headers) {
    RETURN_IF_ERROR(headers.Append(name + ": " + value));
  }
  // libcurl adds "Expect: 100-continue" to large bodies; servers answer faster without it.
  RETURN_IF_ERROR(headers.Append("Expect:"));

  CurlSlist resolve;
  for (const std::string& entry : request.resolve) RETURN_IF_ERROR(resolve.Append(entry));
  if (resolve.get() != nullptr) curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &AppendHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) return CurlStatus(code, request.method + " " + request.url);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace exportd
