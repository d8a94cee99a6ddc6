// The S3 REST calls exportd makes, over libcurl (storage/base/curl_util.h) and signed with SigV4
// (storage/s3/sigv4.h). No SDK. Works with AWS and S3-compatible servers (path-style or
// virtual-hosted addressing).
//
// Errors: every call retries transient failures (5xx, 429/503 SlowDown, 400 RequestTimeout,
// connection errors and timeouts) with exponential backoff and full jitter, up to
// `max_attempts` attempts in all; what is left is one Status whose code says what to do next
// (RemoteHttpStatus / CurlStatus, refined by S3's error code) and whose message names the call,
// the key and S3's <Code>/<Message>:
//   403 SignatureDoesNotMatch, InvalidAccessKeyId, AccessDenied  kPermissionDenied (permanent)
//   404 NoSuchBucket                                             kFailedPrecondition
//   404 NoSuchKey / NoSuchUpload                                 kNotFound
//   transient, after the last attempt                            kUnavailable / kDeadlineExceeded
#ifndef EXPORTD_STORAGE_S3_S3_CLIENT_H_
#define EXPORTD_STORAGE_S3_S3_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "storage/base/curl_util.h"
#include "storage/s3/s3_xml.h"
#include "storage/s3/sigv4.h"

namespace exportd {

struct S3ClientOptions {
  // Scheme, host and optional port: "http://127.0.0.1:4569", "https://s3.eu-west-1.amazonaws.com".
  // Empty: AWS, "https://s3.<region>.amazonaws.com".
  std::string endpoint;
  std::string region = "us-east-1";
  std::string bucket;
  // true: <endpoint>/<bucket>/<key>; false: <scheme>://<bucket>.<host>/<key>.
  bool path_style = false;
  AwsCredentials credentials;
  // "" (none), "AES256" or "aws:kms" (then sse_kms_key_id, optional: the bucket's default key).
  std::string server_side_encryption;
  std::string sse_kms_key_id;
  int max_attempts = 4;
  std::chrono::milliseconds retry_base_delay{200};
  std::chrono::milliseconds retry_max_delay{5000};
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{300000};  // one exchange, e.g. a 16 MiB part
};

struct S3ObjectHead {
  int64_t size = 0;
  std::string etag;
};

// Thread-safe: immutable after construction; every call uses its own curl handle.
class S3Client {
 public:
  explicit S3Client(S3ClientOptions options);

  const S3ClientOptions& options() const { return options_; }

  // HEAD of the bucket: OK when it exists and the credentials may use it.
  Status HeadBucket() const;
  Result<S3ObjectHead> HeadObject(const std::string& key) const;
  Status PutObject(const std::string& key, std::string body, const std::string& content_type) const;
  // Returns the upload id.
  Result<std::string> CreateMultipartUpload(const std::string& key,
                                            const std::string& content_type) const;
  // `part_number` 1..10000; every part but the last must be >= 5 MiB. Returns the part's ETag.
  Result<std::string> UploadPart(const std::string& key, const std::string& upload_id,
                                 int part_number, std::string body) const;
  // `etags[i]` is part i + 1's.
  Status CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                 const std::vector<std::string>& etags) const;
  Status AbortMultipartUpload(const std::string& key, const std::string& upload_id) const;
  // The whole object, or `length` bytes from `offset` (fewer at the end).
  Result<std::string> GetObject(const std::string& key, std::optional<int64_t> offset = {},
                                int64_t length = 0) const;
  // One page (up to `max_keys`, at most 1000) of keys under `prefix`.
  Result<S3ListPage> ListObjectsV2(const std::string& prefix,
                                   const std::string& continuation_token = {},
                                   int max_keys = 1000) const;
  Status DeleteObject(const std::string& key) const;
  // Up to 1000 keys in one request (DeleteObjects); keys that do not exist are not an error.
  Status DeleteObjects(const std::vector<std::string>& keys) const;

  // A URL anyone may GET the object from for `expires` (clamped to S3's 1 s .. 7 days). With an
  // `attachment_name` (a plain file name), S3 answers with
  // `Content-Disposition: attachment; filename="<name>"` (a signed response-content-disposition).
  std::string PresignedGetUrl(const std::string& key, TimePoint now, std::chrono::seconds expires,
                              const std::string& attachment_name = {}) const;

 private:
  struct Call;
  // `call.body` is lent to each attempt and given back.
  Result<HttpResponse> Perform(Call& call) const;
  Result<HttpResponse> PerformOnce(Call& call) const;

  std::string HostFor() const;
  std::string PathFor(const std::string& key) const;

  S3ClientOptions options_;
  std::string scheme_;  // "http" or "https"
  std::string host_;    // endpoint host[:port]
};

// An S3 answer as a Status (see the table at the top of this file). A 2xx is OK, unless
// `error_in_2xx_body` and the body is an S3 error document (CompleteMultipartUpload's way of
// failing late): then kUnavailable, as S3 asks callers to retry.
Status S3ResponseStatus(long http_status, std::string_view body, std::string_view context,
                        bool error_in_2xx_body = false);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_S3_S3_CLIENT_H_
