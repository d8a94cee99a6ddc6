// S3's XML as exportd reads and writes it (storage/s3/s3_xml.h) and S3 answers as Status
// (S3ResponseStatus): which are transient, which permanent, and S3's code in the message.
#include "storage/s3/s3_xml.h"

#include <gtest/gtest.h>

#include "storage/s3/s3_client.h"

namespace exportd {
namespace {

TEST(S3XmlTest, ListingKeysDecodedOnceAndOnlyFromContents) {
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<KeyCount>3</KeyCount><IsTruncated>false</IsTruncated><Prefix/>"
      "<Contents><Key>a&amp;b/1.csv</Key><Size>3</Size></Contents>"
      "<Contents><Key>x&#x20;&#233;.csv</Key></Contents>"
      // A key whose name is itself an entity: decoded once, it stays "&amp;".
      "<Contents><Key>lit&amp;amp;.csv</Key></Contents>"
      "<CommonPrefixes><Prefix>p/</Prefix><Key>not-an-object</Key></CommonPrefixes>"
      "</ListBucketResult>";
  Result<S3ListPage> page = ParseListObjectsV2(xml);
  ASSERT_TRUE(page.ok()) << page.status().message();
  EXPECT_EQ(page->keys, (std::vector<std::string>{"a&b/1.csv", "x \xc3\xa9.csv", "lit&amp;.csv"}));
  EXPECT_EQ(page->next_continuation_token, "");
}

// Found by s3_xml_fuzz (corpus: whitespace_key.txt): pugixml drops an element's text when it is
// all whitespace, unless told otherwise.
TEST(S3XmlTest, KeysOfWhitespaceOnlyAreKept) {
  const std::string xml =
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key> </Key></Contents><Contents><Key>\t \t</Key></Contents>"
      "<Contents>\n  <Key> a </Key>\n</Contents></ListBucketResult>";
  Result<S3ListPage> page = ParseListObjectsV2(xml);
  ASSERT_TRUE(page.ok()) << page.status().message();
  EXPECT_EQ(page->keys, (std::vector<std::string>{" ", "\t \t", " a "}));
}

TEST(S3XmlTest, TruncatedListingNeedsAToken) {
  Result<S3ListPage> page = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>tok&lt;1&gt;</NextContinuationToken></ListBucketResult>");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->next_continuation_token, "tok<1>");
  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                               "</ListBucketResult>")
                .status()
                .code(),
            StatusCode::kInternal);
}

TEST(S3XmlTest, UnreadableOrUnexpectedAnswersAreErrors) {
  EXPECT_FALSE(ParseListObjectsV2("<html><body>proxy error</body></html>").ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents>").ok());
  EXPECT_FALSE(ParseUploadId("").ok());
  EXPECT_FALSE(ParseUploadId("<InitiateMultipartUploadResult><UploadId/>"
                             "</InitiateMultipartUploadResult>")
                   .ok());
  EXPECT_FALSE(ParseDeleteResult("not xml <").ok());
}

TEST(S3XmlTest, UploadId) {
  Result<std::string> id = ParseUploadId(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
      "<UploadId>VXBsb2Fk&amp;1</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "VXBsb2Fk&1");
}

TEST(S3XmlTest, DeleteResultErrorsNotDeletedKeys) {
  Result<std::vector<S3DeleteError>> errors = ParseDeleteResult(
      "<DeleteResult><Deleted><Key>gone</Key></Deleted>"
      "<Error><Key>a&lt;b</Key><Code>AccessDenied</Code><Message>m</Message></Error>"
      "</DeleteResult>");
  ASSERT_TRUE(errors.ok());
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ(errors->front().key, "a<b");
  EXPECT_EQ(errors->front().code, "AccessDenied");
  Result<std::vector<S3DeleteError>> none = ParseDeleteResult("<DeleteResult/>");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(S3XmlTest, RequestBodiesEscapeWhatTheyCarry) {
  EXPECT_EQ(CompleteMultipartUploadXml({"\"e1\"", "\"e2\""}),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag>"
            "</Part><Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag></Part>"
            "</CompleteMultipartUpload>");
  EXPECT_EQ(DeleteObjectsXml({"a&b", "<c>"}),
            "<Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object>"
            "<Object><Key>&lt;c&gt;</Key></Object></Delete>");
}

TEST(S3XmlTest, ErrorDocument) {
  const S3ErrorBody e = ParseS3Error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
      "<Message>The specified key does not exist.</Message><Key>k</Key></Error>");
  EXPECT_EQ(e.code, "NoSuchKey");
  EXPECT_EQ(e.message, "The specified key does not exist.");
  EXPECT_EQ(ParseS3Error("plain text").code, "");
  // Only a document whose root is <Error> is an error document.
  EXPECT_EQ(
      ParseS3Error("<DeleteResult><Error><Code>AccessDenied</Code></Error></DeleteResult>").code,
      "");
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
