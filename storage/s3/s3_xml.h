// The XML of S3's API, read and written through pugixml: the answers exportd reads
// (errors, CreateMultipartUpload, ListObjectsV2, DeleteObjects) and the bodies it sends
// (CompleteMultipartUpload, DeleteObjects). Elements are found by their path from the root,
// so a <Key> nested in an <Error> is never taken for an object's <Key>, and entities are
// decoded exactly once, by the parser.
#ifndef EXPORTD_STORAGE_S3_S3_XML_H_
#define EXPORTD_STORAGE_S3_S3_XML_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace exportd {

// S3's error document: <Error><Code>NoSuchKey</Code><Message>...</Message>...</Error>.
struct S3ErrorBody {
  std::string code;  // empty when the body is not an S3 error document
  std::string message;
};
// Never fails: a body that is not XML, or whose root is not <Error>, gives an empty code.
S3ErrorBody ParseS3Error(std::string_view body);

// <InitiateMultipartUploadResult><UploadId>. Internal error when absent or empty.
Result<std::string> ParseUploadId(std::string_view body);

struct S3ListPage {
  std::vector<std::string> keys;
  std::vector<int64_t> sizes;           // sizes[i] is keys[i]'s <Size> (0 when absent)
  std::string next_continuation_token;  // empty: this was the last page
};
// <ListBucketResult>: the <Key> of each <Contents>, and <NextContinuationToken> when
// <IsTruncated> is true (Internal error when a truncated page has none).
Result<S3ListPage> ParseListObjectsV2(std::string_view body);

// One <Error> of a <DeleteResult>: a key S3 did not delete.
struct S3DeleteError {
  std::string key;
  std::string code;
  std::string message;
};
Result<std::vector<S3DeleteError>> ParseDeleteResult(std::string_view body);

// Request bodies. Parts are numbered from 1 in the order of `etags`.
std::string CompleteMultipartUploadXml(const std::vector<std::string>& etags);
std::string DeleteObjectsXml(const std::vector<std::string>& keys);  // quiet mode

}  // namespace exportd

#endif  // EXPORTD_STORAGE_S3_S3_XML_H_
