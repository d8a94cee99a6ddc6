// The "storage" block of the configuration when storage.type is "s3": parsed, completed from the
// standard AWS_* environment variables and checked here, so config.cc only calls in.
#ifndef EXPORTD_SERVER_S3_CONFIG_H_
#define EXPORTD_SERVER_S3_CONFIG_H_

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace exportd {

struct S3StorageConfig {
  std::string endpoint;  // empty: AWS (https://s3.<region>.amazonaws.com)
  std::string region = "us-east-1";
  std::string bucket;
  std::string prefix;              // keys are prefix + task id + "/" + file name
  std::optional<bool> path_style;  // unset: true for a custom endpoint, false for AWS
  // Optional in the file; when neither key is there, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
  // and AWS_SESSION_TOKEN are used.
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string credentials_source;      // "configuration" or "environment", for the start-up log
  std::string server_side_encryption;  // "", "AES256" or "aws:kms"
  std::string sse_kms_key_id;
  int64_t part_size_bytes = int64_t{16} << 20;
  // How clients download files. "direct": S3 pre-signed URLs, straight from the bucket, which
  // exportd never sees (so it cannot record them in the audit trail). "proxy": exportd's own
  // signed links, served (and recorded) by exportd, which reads the objects from the bucket.
  // With envelope encryption downloads always go through exportd.
  std::string downloads = "direct";

  bool PathStyle() const { return path_style.value_or(!endpoint.empty()); }
};

// Reads the keys of `storage` (an object) other than "type". Keys it does not know are added to
// `ignored` as "storage.<key>". kInvalidArgument for wrong types.
Status ParseS3StorageConfig(const nlohmann::json& storage, S3StorageConfig& out,
                            std::vector<std::string>& ignored);
// Fills the credentials from the environment when the file gave none.
void ApplyAwsEnvironment(S3StorageConfig& s3,
                         const std::function<std::optional<std::string>(const std::string&)>& env);
// Clear messages for what start-up cannot work without (bucket, credentials, part size, ...).
Status ValidateS3StorageConfig(const S3StorageConfig& s3);

}  // namespace exportd

#endif  // EXPORTD_SERVER_S3_CONFIG_H_
