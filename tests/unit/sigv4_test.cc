// AWS Signature Version 4: the worked examples of AWS's S3 documentation, with their published
// signatures ("Signature Calculations for the Authorization Header: Transferring Payload in a
// Single Chunk" and "Authenticating Requests: Using Query Parameters").
#include "storage/s3/sigv4.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "storage/base/digest.h"

namespace exportd {
namespace {

const AwsCredentials kExampleCredentials{"AKIAIOSFODNN7EXAMPLE",
                                         "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr char kHost[] = "examplebucket.s3.amazonaws.com";

TimePoint ExampleTime() { return *ParseRfc3339("2013-05-24T00:00:00Z"); }

std::string HeaderValue(const HeaderPairs& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "<absent>";
}

TEST(SigV4Test, GetObjectWithRange) {
  SigV4Request r;
  r.method = "GET";
  r.host = kHost;
  r.path = "/test.txt";
  r.headers = {{"Range", "bytes=0-9"}};
  r.payload_sha256 = std::string(kEmptyPayloadSha256);
  SignedHeaders s = SignRequest(r, kExampleCredentials, "us-east-1", ExampleTime());
  EXPECT_EQ(
      s.parts.canonical_request,
      "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.parts.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.parts.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(HeaderValue(s.headers, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(HeaderValue(s.headers, "x-amz-date"), "20130524T000000Z");
  EXPECT_EQ(HeaderValue(s.headers, "x-amz-content-sha256"), kEmptyPayloadSha256);
  EXPECT_EQ(HeaderValue(s.headers, "x-amz-security-token"), "<absent>");
}

TEST(SigV4Test, PutObjectEncodesThePathOnce) {
  const std::string payload = "Welcome to Amazon S3.";
  SigV4Request r;
  r.method = "PUT";
  r.host = kHost;
  r.path = "/test$file.text";
  r.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  r.payload_sha256 = Sha256Hex(payload);
  EXPECT_EQ(r.payload_sha256, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SignedHeaders s = SignRequest(r, kExampleCredentials, "us-east-1", ExampleTime());
  EXPECT_EQ(s.encoded_path, "/test%24file.text");
  EXPECT_EQ(s.parts.signed_headers,
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(s.parts.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, GetBucketLifecycleSignsAnEmptyQueryValue) {
  SigV4Request r;
  r.host = kHost;
  r.path = "/";
  r.query = {{"lifecycle", ""}};
  r.payload_sha256 = std::string(kEmptyPayloadSha256);
  SignedHeaders s = SignRequest(r, kExampleCredentials, "us-east-1", ExampleTime());
  EXPECT_EQ(s.query, "lifecycle=");
  EXPECT_EQ(s.parts.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, ListObjectsSortsTheQuery) {
  SigV4Request r;
  r.host = kHost;
  r.path = "/";
  r.query = {{"prefix", "J"}, {"max-keys", "2"}};  // deliberately unsorted
  r.payload_sha256 = std::string(kEmptyPayloadSha256);
  SignedHeaders s = SignRequest(r, kExampleCredentials, "us-east-1", ExampleTime());
  EXPECT_EQ(s.query, "max-keys=2&prefix=J");
  EXPECT_EQ(s.parts.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, PresignedGetObject) {
  SigV4Request r;
  r.host = kHost;
  r.path = "/test.txt";
  PresignedQuery p = PresignRequest(r, kExampleCredentials, "us-east-1", ExampleTime(),
                                    std::chrono::seconds(86400));
  EXPECT_EQ(p.parts.canonical_request,
            "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
            "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&"
            "X-Amz-Expires=86400&X-Amz-SignedHeaders=host\nhost:examplebucket.s3.amazonaws.com\n\n"
            "host\nUNSIGNED-PAYLOAD");
  EXPECT_EQ(p.parts.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_EQ(p.query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
            "X-Amz-SignedHeaders=host&X-Amz-Signature="
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4Test, SessionTokenIsSentAndSigned) {
  AwsCredentials with_token = kExampleCredentials;
  with_token.session_token = "token/with+chars=";
  SigV4Request r;
  r.host = kHost;
  r.path = "/test.txt";
  SignedHeaders s = SignRequest(r, with_token, "us-east-1", ExampleTime());
  EXPECT_EQ(HeaderValue(s.headers, "x-amz-security-token"), "token/with+chars=");
  EXPECT_NE(s.parts.signed_headers.find("x-amz-security-token"), std::string::npos);
  EXPECT_NE(s.parts.signature,
            SignRequest(r, kExampleCredentials, "us-east-1", ExampleTime()).parts.signature);

  PresignedQuery p =
      PresignRequest(r, with_token, "us-east-1", ExampleTime(), std::chrono::seconds(60));
  EXPECT_NE(p.query.find("X-Amz-Security-Token=token%2Fwith%2Bchars%3D&"), std::string::npos)
      << p.query;
  EXPECT_NE(p.parts.canonical_request.find("X-Amz-Security-Token="), std::string::npos);
}

TEST(SigV4Test, UriEncodingFollowsS3Rules) {
  EXPECT_EQ(AwsUriEncode("a b/c~d_e-f.g", true), "a%20b/c~d_e-f.g");
  EXPECT_EQ(AwsUriEncode("a b/c", false), "a%20b%2Fc");
  EXPECT_EQ(AwsUriEncode("%41+=&", true), "%2541%2B%3D%26");  // never decoded first
  EXPECT_EQ(AwsUriEncode("\xc3\xa9", true), "%C3%A9");
  EXPECT_EQ(AmzDate(*ParseRfc3339("2026-01-02T03:04:05Z")), "20260102T030405Z");
}

}  // namespace
}  // namespace exportd
