#include "storage/s3/s3_client.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <random>
#include <thread>

#include "storage/base/base64.h"
#include "storage/base/digest.h"
#include "storage/s3/s3_xml.h"

namespace exportd {
namespace {

// S3 limits pre-signed URLs to a week.
constexpr std::chrono::seconds kMaxPresignExpiry{604800};

std::string Base64Md5(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

bool IsRetryable(const Status& status) { return IsTransient(status.code()); }

// Full jitter: uniform in [0, min(max, base * 2^attempt)].
std::chrono::milliseconds Backoff(const S3ClientOptions& o, int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const int64_t base = std::max<int64_t>(1, o.retry_base_delay.count());
  const int64_t cap = std::min<int64_t>(o.retry_max_delay.count(), base << std::min(attempt, 20));
  std::uniform_int_distribution<int64_t> pick(0, std::max<int64_t>(0, cap));
  return std::chrono::milliseconds(pick(rng));
}

}  // namespace

Status S3ResponseStatus(long http_status, std::string_view body, std::string_view context,
                        bool error_in_2xx_body) {
  if (http_status >= 200 && http_status < 300) {
    if (!error_in_2xx_body) return Status::Ok();
    S3ErrorBody in_body = ParseS3Error(body);
    if (in_body.code.empty()) return Status::Ok();
    return Unavailable(std::string(context) + ": " + in_body.code + ": " + in_body.message);
  }
  const S3ErrorBody error = ParseS3Error(body);
  std::string detail = error.code;
  if (!error.message.empty()) detail += (detail.empty() ? "" : ": ") + error.message;
  Status status = RemoteHttpStatus(http_status, context, detail);
  // S3 answers 400 RequestTimeout when our upload stalled: worth another try.
  if (error.code == "RequestTimeout" || error.code == "SlowDown" || error.code == "InternalError" ||
      error.code == "ServiceUnavailable") {
    return Status(StatusCode::kUnavailable, status.message());
  }
  if (error.code == "ExpiredToken" || error.code == "InvalidToken" ||
      error.code == "InvalidAccessKeyId" || error.code == "SignatureDoesNotMatch" ||
      error.code == "AccessDenied") {
    return Status(StatusCode::kPermissionDenied, status.message());
  }
  if (error.code == "NoSuchBucket") {
    return Status(StatusCode::kFailedPrecondition, status.message());
  }
  return status;
}

struct S3Client::Call {
  std::string method = "GET";
  std::string key;  // empty: a bucket-level call
  HeaderPairs query;
  HeaderPairs headers;  // signed and sent
  std::string body;
  std::string payload_sha256;  // of body; computed once, on the first attempt
  // CompleteMultipartUpload may answer 200 and report an error in the body (it has started
  // sending before it knows the outcome). Never set where the body is object data.
  bool error_in_2xx_body = false;
  std::string context;  // "PutObject bucket/key"
};

S3Client::S3Client(S3ClientOptions options) : options_(std::move(options)) {
  std::string endpoint = options_.endpoint;
  if (endpoint.empty()) endpoint = "https://s3." + options_.region + ".amazonaws.com";
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  const size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string::npos) {
    scheme_ = "https";
    host_ = endpoint;
  } else {
    scheme_ = endpoint.substr(0, scheme_end);
    host_ = endpoint.substr(scheme_end + 3);
  }
}

std::string S3Client::HostFor() const {
  return options_.path_style ? host_ : options_.bucket + "." + host_;
}

std::string S3Client::PathFor(const std::string& key) const {
  // Path-style bucket calls go to "/bucket" (no trailing slash: some S3-compatible servers
  // canonicalise it away and the signature would not match).
  if (options_.path_style) return "/" + options_.bucket + (key.empty() ? "" : "/" + key);
  return "/" + key;
}

Result<HttpResponse> S3Client::PerformOnce(Call& call) const {
  SigV4Request sig;
  sig.method = call.method;
  sig.host = HostFor();
  sig.path = PathFor(call.key);
  sig.query = call.query;
  sig.headers = call.headers;
  if (call.payload_sha256.empty()) {
    call.payload_sha256 =
        call.body.empty() ? std::string(kEmptyPayloadSha256) : Sha256Hex(call.body);
  }
  sig.payload_sha256 = call.payload_sha256;
  SignedHeaders signed_headers =
      SignRequest(sig, options_.credentials, options_.region, std::chrono::system_clock::now());
  HttpRequest request;
  request.method = call.method;
  request.url = scheme_ + "://" + sig.host + signed_headers.encoded_path;
  if (!signed_headers.query.empty()) request.url += "?" + signed_headers.query;
  request.headers = call.headers;
  request.headers.insert(request.headers.end(), signed_headers.headers.begin(),
                         signed_headers.headers.end());
  if (call.method == "PUT" || call.method == "POST") {
    // PerformHttp sends Content-Length from the body; an explicit empty Content-Type keeps
    // libcurl from adding application/x-www-form-urlencoded to a POST.
    bool has_type = false;
    for (const auto& [name, value] : call.headers) has_type |= (name == "Content-Type");
    if (!has_type) request.headers.emplace_back("Content-Type", "");
  }
  // PerformHttp only reads the body: the request borrows it for the exchange and gives it
  // back for the next attempt, so a part is never held twice.
  request.body = std::move(call.body);
  request.connect_timeout = options_.connect_timeout;
  request.timeout = options_.request_timeout;
  Result<HttpResponse> response = PerformHttp(request);
  call.body = std::move(request.body);
  if (!response.ok()) return response.status();
  RETURN_IF_ERROR(
      S3ResponseStatus(response->status, response->body, call.context, call.error_in_2xx_body));
  return response;
}

Result<HttpResponse> S3Client::Perform(Call& call) const {
  const int attempts = std::max(1, options_.max_attempts);
  for (int attempt = 0;; ++attempt) {
    Result<HttpResponse> response = PerformOnce(call);
    if (response.ok() || !IsRetryable(response.status()) || attempt + 1 >= attempts) {
      if (!response.ok() && attempt > 0) {
        return Status(response.status().code(), response.status().message() + " (after " +
                                                    std::to_string(attempt + 1) + " attempts)");
      }
      return response;
    }
    std::this_thread::sleep_for(Backoff(options_, attempt));
  }
}

Status S3Client::HeadBucket() const {
  Call call;
  call.method = "HEAD";
  call.context = "HeadBucket " + options_.bucket;
  return Perform(call).status();
}

Result<S3ObjectHead> S3Client::HeadObject(const std::string& key) const {
  Call call;
  call.method = "HEAD";
  call.key = key;
  call.context = "HeadObject " + options_.bucket + "/" + key;
  ASSIGN_OR_RETURN(HttpResponse response, Perform(call));
  S3ObjectHead head;
  const std::string length = response.Header("content-length");
  const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), head.size);
  if (length.empty() || ec != std::errc() || end != length.data() + length.size()) {
    return Internal(call.context + ": no valid Content-Length in the answer");
  }
  head.etag = response.Header("etag");
  return head;
}

Status S3Client::PutObject(const std::string& key, std::string body,
                           const std::string& content_type) const {
  Call call;
  call.method = "PUT";
  call.key = key;
  if (!content_type.empty()) call.headers.emplace_back("Content-Type", content_type);
  if (!options_.server_side_encryption.empty()) {
    call.headers.emplace_back("x-amz-server-side-encryption", options_.server_side_encryption);
    if (!options_.sse_kms_key_id.empty()) {
      call.headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id",
                                options_.sse_kms_key_id);
    }
  }
  call.body = std::move(body);
  call.context = "PutObject " + options_.bucket + "/" + key;
  return Perform(call).status();
}

Result<std::string> S3Client::CreateMultipartUpload(const std::string& key,
                                                    const std::string& content_type) const {
  Call call;
  call.method = "POST";
  call.key = key;
  call.query = {{"uploads", ""}};
  if (!content_type.empty()) call.headers.emplace_back("Content-Type", content_type);
  if (!options_.server_side_encryption.empty()) {
    call.headers.emplace_back("x-amz-server-side-encryption", options_.server_side_encryption);
    if (!options_.sse_kms_key_id.empty()) {
      call.headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id",
                                options_.sse_kms_key_id);
    }
  }
  call.context = "CreateMultipartUpload " + options_.bucket + "/" + key;
  ASSIGN_OR_RETURN(HttpResponse response, Perform(call));
  Result<std::string> id = ParseUploadId(response.body);
  if (!id.ok()) return Status(id.status().code(), call.context + ": " + id.status().message());
  return id;
}

Result<std::string> S3Client::UploadPart(const std::string& key, const std::string& upload_id,
                                         int part_number, std::string body) const {
  Call call;
  call.method = "PUT";
  call.key = key;
  call.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
  call.body = std::move(body);
  call.context = "UploadPart " + std::to_string(part_number) + " of " + options_.bucket + "/" + key;
  ASSIGN_OR_RETURN(HttpResponse response, Perform(call));
  std::string etag = response.Header("etag");
  if (etag.empty()) return Internal(call.context + ": no ETag in the answer");
  return etag;
}

Status S3Client::CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                         const std::vector<std::string>& etags) const {
  Call call;
  call.method = "POST";
  call.key = key;
  call.query = {{"uploadId", upload_id}};
  call.headers.emplace_back("Content-Type", "application/xml");
  call.body = CompleteMultipartUploadXml(etags);
  call.error_in_2xx_body = true;
  call.context = "CompleteMultipartUpload " + options_.bucket + "/" + key;
  return Perform(call).status();
}

Status S3Client::AbortMultipartUpload(const std::string& key, const std::string& upload_id) const {
  Call call;
  call.method = "DELETE";
  call.key = key;
  call.query = {{"uploadId", upload_id}};
  call.context = "AbortMultipartUpload " + options_.bucket + "/" + key;
  return Perform(call).status();
}

Result<std::string> S3Client::GetObject(const std::string& key, std::optional<int64_t> offset,
                                        int64_t length) const {
  Call call;
  call.key = key;
  if (offset) {
    if (*offset < 0 || length < 1) return InvalidArgument("GetObject: bad range");
    call.headers.emplace_back(
        "Range", "bytes=" + std::to_string(*offset) + "-" + std::to_string(*offset + length - 1));
  }
  call.context = "GetObject " + options_.bucket + "/" + key;
  ASSIGN_OR_RETURN(HttpResponse response, Perform(call));
  return std::move(response.body);
}

Result<S3ListPage> S3Client::ListObjectsV2(const std::string& prefix,
                                           const std::string& continuation_token,
                                           int max_keys) const {
  Call call;
  call.query = {{"list-type", "2"}, {"prefix", prefix}};
  if (max_keys != 1000) call.query.emplace_back("max-keys", std::to_string(max_keys));
  if (!continuation_token.empty())
    call.query.emplace_back("continuation-token", continuation_token);
  call.context = "ListObjectsV2 " + options_.bucket + "/" + prefix;
  ASSIGN_OR_RETURN(HttpResponse response, Perform(call));
  Result<S3ListPage> page = ParseListObjectsV2(response.body);
  if (!page.ok())
    return Status(page.status().code(), call.context + ": " + page.status().message());
  return page;
}

Status S3Client::DeleteObject(const std::string& key) const {
  Call call;
  call.method = "DELETE";
  call.key = key;
  call.context = "DeleteObject " + options_.bucket + "/" + key;
  Status status = Perform(call).status();
  return status.code() == StatusCode::kNotFound ? Status::Ok() : status;
}

Status S3Client::DeleteObjects(const std::vector<std::string>& keys) const {
  if (keys.empty()) return Status::Ok();
  if (keys.size() > 1000) return InvalidArgument("DeleteObjects: more than 1000 keys");
  Call call;
  call.method = "POST";
  call.query = {{"delete", ""}};
  std::string body = DeleteObjectsXml(keys);
  // S3 requires Content-MD5 on DeleteObjects.
  call.headers = {{"Content-Type", "application/xml"}, {"Content-MD5", Base64Md5(body)}};
  call.body = std::move(body);
  call.context = "DeleteObjects " + options_.bucket + " (" + std::to_string(keys.size()) + " keys)";
  ASSIGN_OR_RETURN(HttpResponse response, Perform(call));
  // Per-key failures come back as <Error> entries inside a 200 <DeleteResult>.
  Result<std::vector<S3DeleteError>> errors = ParseDeleteResult(response.body);
  if (!errors.ok()) {
    return Status(errors.status().code(), call.context + ": " + errors.status().message());
  }
  if (!errors->empty()) {
    const S3DeleteError& first = errors->front();
    Status status = Unavailable(call.context + ": " + std::to_string(errors->size()) +
                                " not deleted, first " + first.key + ": " + first.code);
    if (first.code == "AccessDenied")
      return Status(StatusCode::kPermissionDenied, status.message());
    return status;
  }
  return Status::Ok();
}

std::string S3Client::PresignedGetUrl(const std::string& key, TimePoint now,
                                      std::chrono::seconds expires,
                                      const std::string& attachment_name) const {
  expires = std::clamp(expires, std::chrono::seconds(1), kMaxPresignExpiry);
  SigV4Request sig;
  sig.method = "GET";
  sig.host = HostFor();
  sig.path = PathFor(key);
  if (!attachment_name.empty()) {
    sig.query.emplace_back("response-content-disposition",
                           "attachment; filename=\"" + attachment_name + "\"");
  }
  PresignedQuery q = PresignRequest(sig, options_.credentials, options_.region, now, expires);
  return scheme_ + "://" + sig.host + q.encoded_path + "?" + q.query;
}

}  // namespace exportd
