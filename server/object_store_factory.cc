#include "server/object_store_factory.h"

#include "server/app.h"
#include "storage/local_object_store.h"

namespace exportd {

S3StoreOptions ToS3StoreOptions(const S3StorageConfig& s3) {
  S3StoreOptions o;
  o.client.endpoint = s3.endpoint;
  o.client.region = s3.region;
  o.client.bucket = s3.bucket;
  o.client.path_style = s3.PathStyle();
  o.client.credentials = {s3.access_key_id, s3.secret_access_key, s3.session_token};
  o.client.server_side_encryption = s3.server_side_encryption;
  o.client.sse_kms_key_id = s3.sse_kms_key_id;
  o.prefix = s3.prefix;
  o.part_size_bytes = s3.part_size_bytes;
  return o;
}

Result<std::unique_ptr<ObjectStore>> MakeObjectStore(const Config& config,
                                                     std::shared_ptr<const UrlSigner> signer,
                                                     const Clock& clock, bool check_bucket) {
  if (config.storage_type != "s3") {
    return std::unique_ptr<ObjectStore>(
        std::make_unique<LocalObjectStore>(ExportsRoot(config), std::move(signer),
                                           config.PublicUrl()));
  }
  auto store = std::make_unique<S3ObjectStore>(ToS3StoreOptions(config.s3), clock);
  if (check_bucket) {
    Status reachable = store->CheckBucket();
    if (!reachable.ok()) {
      const std::string endpoint =
          config.s3.endpoint.empty() ? "AWS (region " + config.s3.region + ")" : config.s3.endpoint;
      std::string message = "S3 bucket '" + config.s3.bucket + "' at " + endpoint +
                            " is not usable: " + reachable.message();
      if (reachable.code() == StatusCode::kPermissionDenied) {
        message += " (check the credentials, taken from the " + config.s3.credentials_source +
                   ")";
      }
      const StatusCode code = IsTransient(reachable.code()) ? StatusCode::kFailedPrecondition
                                                            : reachable.code();
      return Status(code, std::move(message));
    }
  }
  return std::unique_ptr<ObjectStore>(std::move(store));
}

}  // namespace exportd
