// /readyz's check of the S3 bucket.
#ifndef EXPORTD_SERVER_BUCKET_READINESS_H_
#define EXPORTD_SERVER_BUCKET_READINESS_H_

#include <chrono>
#include <string>

#include "core/cached_check.h"
#include "core/clock.h"
#include "core/status.h"
#include "server/s3_config.h"
#include "storage/s3/s3_object_store.h"

namespace exportd {

// A HEAD of the bucket with one quick attempt (a probe must answer fast; the next probe is the
// retry), at most every kTtl, the last answer in between. `clock` outlives it.
class BucketReadiness {
 public:
  static constexpr std::chrono::seconds kTtl{5};

  BucketReadiness(const S3StorageConfig& s3, const Clock& clock);

  // OK, or the probe's error prefixed with the bucket and endpoint.
  Status Check();

 private:
  const std::string where_;
  const S3ObjectStore probe_;
  CachedCheck cached_;
};

}  // namespace exportd

#endif  // EXPORTD_SERVER_BUCKET_READINESS_H_
