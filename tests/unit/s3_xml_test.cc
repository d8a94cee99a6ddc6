// S3's XML as exportd reads it (storage/s3_xml.h) and S3 answers as Status
// (S3ResponseStatus): which are transient, which permanent, and S3's code in the message.
#include "storage/s3_xml.h"

#include <gtest/gtest.h>

#include "storage/s3_client.h"

namespace exportd {
namespace {

TEST(S3XmlTest, ElementsByTagUnescapedAndNotConfusedWithLongerTags) {
  const std::string xml =
      "<ListBucketResult><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
      "<Contents><Key>a&amp;b/1.csv</Key><Size>3</Size></Contents>"
      "<Contents><Key>x&#x20;&#233;.csv</Key></Contents><Prefix/>"
      "<NextContinuationToken>tok&lt;1&gt;</NextContinuationToken></ListBucketResult>";
  EXPECT_EQ(XmlElements(xml, "Key"), (std::vector<std::string>{"a&b/1.csv", "x \xc3\xa9.csv"}));
  EXPECT_EQ(XmlElement(xml, "KeyCount"), "2");
  EXPECT_EQ(XmlElement(xml, "Prefix"), "");
  EXPECT_EQ(XmlElement(xml, "NextContinuationToken"), "tok<1>");
  EXPECT_EQ(XmlElement(xml, "Missing"), std::nullopt);
  EXPECT_EQ(XmlUnescape(XmlEscape("<a href=\"x\">&'</a>")), "<a href=\"x\">&'</a>");
}

TEST(S3XmlTest, ErrorDocument) {
  const S3ErrorBody e = ParseS3Error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
      "<Message>The specified key does not exist.</Message><Key>k</Key></Error>");
  EXPECT_EQ(e.code, "NoSuchKey");
  EXPECT_EQ(e.message, "The specified key does not exist.");
  EXPECT_EQ(ParseS3Error("plain text").code, "");
}

std::string ErrorBody(const std::string& code) {
  return "<Error><Code>" + code + "</Code><Message>m</Message></Error>";
}

TEST(S3ResponseStatusTest, TransientOrPermanentByStatusAndCode) {
  auto code = [](long status, const std::string& s3_code) {
    return S3ResponseStatus(status, ErrorBody(s3_code), "PutObject b/k").code();
  };
  EXPECT_EQ(code(503, "SlowDown"), StatusCode::kUnavailable);
  EXPECT_EQ(code(500, "InternalError"), StatusCode::kUnavailable);
  EXPECT_EQ(code(429, "TooManyRequests"), StatusCode::kUnavailable);
  EXPECT_EQ(code(400, "RequestTimeout"), StatusCode::kUnavailable);
  EXPECT_EQ(code(403, "SignatureDoesNotMatch"), StatusCode::kPermissionDenied);
  EXPECT_EQ(code(403, "InvalidAccessKeyId"), StatusCode::kPermissionDenied);
  EXPECT_EQ(code(400, "ExpiredToken"), StatusCode::kPermissionDenied);
  EXPECT_EQ(code(404, "NoSuchBucket"), StatusCode::kFailedPrecondition);
  EXPECT_EQ(code(404, "NoSuchKey"), StatusCode::kNotFound);
  EXPECT_EQ(code(400, "InvalidArgument"), StatusCode::kInvalidArgument);

  const Status s = S3ResponseStatus(403, ErrorBody("SignatureDoesNotMatch"), "PutObject b/k");
  EXPECT_EQ(s.message(), "PutObject b/k: HTTP 403: SignatureDoesNotMatch: m");
}

TEST(S3ResponseStatusTest, ErrorInA200OnlyWhereS3PutsOne) {
  // CompleteMultipartUpload can fail after its 200 has started.
  EXPECT_EQ(S3ResponseStatus(200, ErrorBody("InternalError"), "Complete", true).code(),
            StatusCode::kUnavailable);
  EXPECT_TRUE(S3ResponseStatus(200, "<CompleteMultipartUploadResult/>", "Complete", true).ok());
  // Object data that happens to look like an error document is data.
  EXPECT_TRUE(S3ResponseStatus(200, ErrorBody("InternalError"), "GetObject").ok());
}

}  // namespace
}  // namespace exportd
