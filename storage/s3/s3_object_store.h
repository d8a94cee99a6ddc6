// ObjectStore on S3 (or any S3-compatible server): objects at <prefix><task_id>/<name> in one
// bucket; downloads go straight to the bucket through pre-signed GET URLs.
#ifndef EXPORTD_STORAGE_S3_S3_OBJECT_STORE_H_
#define EXPORTD_STORAGE_S3_S3_OBJECT_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/object_store.h"
#include "storage/s3/s3_client.h"

namespace exportd {

// S3's minimum size of every part but the last.
inline constexpr int64_t kS3MinPartSize = int64_t{5} << 20;
inline constexpr int64_t kS3MaxPartSize = int64_t{5} << 30;

struct S3StoreOptions {
  S3ClientOptions client;
  std::string prefix;  // "exportd/": keys are prefix + task_id + "/" + name
  int64_t part_size_bytes = int64_t{16} << 20;  // kS3MinPartSize .. kS3MaxPartSize
  int gzip_level = 6;
};

// Thread-safe (the client is immutable; each writer and reader is used by one thread).
//
// Writers are the pipeline of storage/base/object_writer_pipeline.h (gzip, digest) over an
// upload that gathers the stored bytes into a buffer of part_size_bytes. A writer committed
// before its first part fills makes one PutObject; otherwise it starts a multipart upload,
// uploads each part as it fills (so memory stays at one part) and Commit() uploads the rest and
// completes it. Both publish atomically.
// A writer destroyed without Commit() aborts its multipart upload. Uploads left pending by a
// crash are invisible to readers and listings; a bucket lifecycle rule
// (AbortIncompleteMultipartUpload) reclaims them.
class S3ObjectStore final : public ObjectStore {
 public:
  // `clock` must outlive the store (pre-signed URLs are signed at its Now()).
  S3ObjectStore(S3StoreOptions options, const Clock& clock);

  Result<std::unique_ptr<ObjectWriter>> Create(std::string_view task_id, std::string_view name,
                                               const ObjectOptions& options) override;
  // Ranged GETs, size from a HEAD; reads ahead in blocks so sequential reads make few requests.
  Result<std::unique_ptr<ObjectReader>> Open(std::string_view task_id,
                                             std::string_view name) override;
  Status DeleteAll(std::string_view task_id) override;
  Status DeleteExcept(std::string_view task_id, const std::vector<std::string>& keep) override;
  // One ListObjectsV2 call under <prefix> + `prefix` (max-keys `max_objects`); the page token
  // is S3's continuation token. Keys that are not "<task_id>/<name>" of valid names are left
  // out, so a page may be short (or empty) and still have a next token. S3 lists keys in UTF-8
  // binary order, which is the byte order of the paths.
  Result<ObjectPage> List(std::string_view prefix, std::string_view page_token,
                          size_t max_objects) override;
  // A pre-signed S3 GET URL valid until `expires_at` (S3 caps the lifetime at 7 days; a later
  // expiry gives a URL valid for 7 days from now). S3 serves it as an attachment named `name`.
  Result<std::string> DownloadUrl(std::string_view task_id, std::string_view name,
                                  TimePoint expires_at) override;

  // HEAD of the bucket, for start-up and readiness checks. A HEAD answer has no body, so when it
  // fails for good a listing of the prefix is asked too, for S3's error code
  // ("SignatureDoesNotMatch", "NoSuchBucket", ...) in the message.
  Status CheckBucket() const;
  std::string Key(std::string_view task_id, std::string_view name) const;
  const S3Client& client() const { return client_; }

 private:
  // Every key under <prefix><task_id>/.
  Result<std::vector<std::string>> ListTask(std::string_view task_id) const;
  Status DeleteKeys(const std::vector<std::string>& keys) const;

  const S3Client client_;
  const std::string prefix_;
  const int64_t part_size_;
  const int gzip_level_;
  const Clock& clock_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_S3_S3_OBJECT_STORE_H_
