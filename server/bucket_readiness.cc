#include "server/bucket_readiness.h"

#include "server/object_store_factory.h"

namespace exportd {
namespace {

S3StoreOptions ProbeOptions(const S3StorageConfig& s3) {
  S3StoreOptions o = ToS3StoreOptions(s3);
  o.client.max_attempts = 1;
  o.client.connect_timeout = std::chrono::seconds(2);
  o.client.request_timeout = std::chrono::seconds(3);
  return o;
}

}  // namespace

BucketReadiness::BucketReadiness(const S3StorageConfig& s3, const Clock& clock)
    : where_("S3 bucket '" + s3.bucket + "' at " + (s3.endpoint.empty() ? "AWS" : s3.endpoint)),
      probe_(ProbeOptions(s3), clock),
      cached_([this] { return probe_.CheckBucket(); }, kTtl, clock) {}

Status BucketReadiness::Check() {
  Status status = cached_.Get();
  if (status.ok()) return status;
  return Status(status.code(), where_ + ": " + status.message());
}

}  // namespace exportd
