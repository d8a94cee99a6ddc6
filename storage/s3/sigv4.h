// AWS Signature Version 4 for S3, written once: signed headers (the Authorization header) and
// pre-signed query strings. Pure functions of their inputs (the time is a parameter), so the
// worked examples of AWS's S3 documentation are exact unit-test vectors.
//
// Encoding follows S3's rules, which differ from the other AWS services: the path is encoded
// once (never normalised, never double-encoded), '/' kept; query names and values are encoded
// with '/' as %2F and sorted by name. Callers pass paths and query parameters UNENCODED and use
// the returned `encoded_path` / query text in the URL they send, so what is sent is what was
// signed.
#ifndef EXPORTD_STORAGE_S3_SIGV4_H_
#define EXPORTD_STORAGE_S3_SIGV4_H_

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace exportd {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only; empty otherwise
};

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

struct SigV4Request {
  std::string method = "GET";
  std::string host;        // the Host header as sent: "bucket.s3.amazonaws.com", "127.0.0.1:4569"
  std::string path = "/";  // unencoded, starting with '/': "/bucket/some key.csv"
  HeaderPairs query;       // unencoded names and values; order does not matter
  // Headers to sign besides host, x-amz-date, x-amz-content-sha256 and x-amz-security-token
  // (range, content-type, x-amz-server-side-encryption, ...). Names in any case.
  HeaderPairs headers;
  // Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_sha256 = "UNSIGNED-PAYLOAD";
};

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of the empty string: the payload hash of a request without a body.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// RFC 3986 percent-encoding as S3 wants it: A-Z a-z 0-9 - . _ ~ stay, every other byte is %XX
// (uppercase); '/' stays only when `keep_slash`.
std::string AwsUriEncode(std::string_view text, bool keep_slash);

// "20130524T000000Z"
std::string AmzDate(TimePoint t);

// The intermediate texts, exposed for tests and for debugging a SignatureDoesNotMatch.
struct SigV4Parts {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;       // lowercase hex
  std::string signed_headers;  // "host;range;x-amz-content-sha256;x-amz-date"
  std::string credential;      // "AKID/20130524/us-east-1/s3/aws4_request"
};

struct SignedHeaders {
  // To send with the request: Authorization, x-amz-date, x-amz-content-sha256 and
  // x-amz-security-token when a session token is set (request.headers are not repeated).
  HeaderPairs headers;
  std::string encoded_path;  // the path to put in the URL
  std::string query;         // canonical query text to put after '?' (may be empty)
  SigV4Parts parts;
};

// Signs `request` for the Authorization header.
SignedHeaders SignRequest(const SigV4Request& request, const AwsCredentials& credentials,
                          std::string_view region, TimePoint now, std::string_view service = "s3");

struct PresignedQuery {
  std::string encoded_path;
  // Every query parameter of the URL, X-Amz-Signature last: append after '?'.
  std::string query;
  SigV4Parts parts;
};

// A pre-signed request valid for `expires` from `now` (S3 accepts 1 s .. 7 days). Signs host
// and request.headers; the payload is UNSIGNED-PAYLOAD whatever request.payload_sha256 says.
PresignedQuery PresignRequest(const SigV4Request& request, const AwsCredentials& credentials,
                              std::string_view region, TimePoint now, std::chrono::seconds expires,
                              std::string_view service = "s3");

}  // namespace exportd

#endif  // EXPORTD_STORAGE_S3_SIGV4_H_
