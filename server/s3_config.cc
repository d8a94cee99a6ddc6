#include "server/s3_config.h"

#include <nlohmann/json.hpp>
#include <set>

#include "server/config_json.h"

namespace exportd {
namespace {

template <typename T>
Status ReadStorageKey(const nlohmann::json& obj, const char* key, T& out) {
  return ReadConfigKey(obj, key, out, "storage.");
}

// S3's bounds on the size of every part but the last.
constexpr int64_t kMinPart = int64_t{5} << 20;
constexpr int64_t kMaxPart = int64_t{5} << 30;

}  // namespace

Status ParseS3StorageConfig(const nlohmann::json& storage, S3StorageConfig& out,
                            std::vector<std::string>& ignored) {
  static const std::set<std::string> known = {"type",           "endpoint",
                                              "region",         "bucket",
                                              "prefix",         "path_style",
                                              "access_key_id",  "secret_access_key",
                                              "session_token",  "server_side_encryption",
                                              "sse_kms_key_id", "part_size_bytes",
                                              "downloads"};
  RETURN_IF_ERROR(ReadStorageKey(storage, "endpoint", out.endpoint));
  RETURN_IF_ERROR(ReadStorageKey(storage, "region", out.region));
  RETURN_IF_ERROR(ReadStorageKey(storage, "bucket", out.bucket));
  RETURN_IF_ERROR(ReadStorageKey(storage, "prefix", out.prefix));
  bool path_style = false;
  if (storage.contains("path_style") && !storage["path_style"].is_null()) {
    RETURN_IF_ERROR(ReadStorageKey(storage, "path_style", path_style));
    out.path_style = path_style;
  }
  RETURN_IF_ERROR(ReadStorageKey(storage, "access_key_id", out.access_key_id));
  RETURN_IF_ERROR(ReadStorageKey(storage, "secret_access_key", out.secret_access_key));
  RETURN_IF_ERROR(ReadStorageKey(storage, "session_token", out.session_token));
  RETURN_IF_ERROR(ReadStorageKey(storage, "server_side_encryption", out.server_side_encryption));
  RETURN_IF_ERROR(ReadStorageKey(storage, "sse_kms_key_id", out.sse_kms_key_id));
  RETURN_IF_ERROR(ReadStorageKey(storage, "part_size_bytes", out.part_size_bytes));
  RETURN_IF_ERROR(ReadStorageKey(storage, "downloads", out.downloads));
  if (!out.access_key_id.empty() || !out.secret_access_key.empty()) {
    out.credentials_source = "configuration";
  }
  for (const auto& [key, value] : storage.items()) {
    if (!known.count(key)) ignored.push_back("storage." + key);
  }
  return Status::Ok();
}

void ApplyAwsEnvironment(S3StorageConfig& s3,
                         const std::function<std::optional<std::string>(const std::string&)>& env) {
  // A key pair comes from one place: an environment secret never completes a key id of the file.
  if (!s3.access_key_id.empty() || !s3.secret_access_key.empty()) return;
  s3.access_key_id = env("AWS_ACCESS_KEY_ID").value_or("");
  s3.secret_access_key = env("AWS_SECRET_ACCESS_KEY").value_or("");
  s3.session_token = env("AWS_SESSION_TOKEN").value_or("");
  if (!s3.access_key_id.empty() || !s3.secret_access_key.empty()) {
    s3.credentials_source = "environment";
  }
}

Status ValidateS3StorageConfig(const S3StorageConfig& s3) {
  if (s3.bucket.empty()) return ConfigError("storage.bucket is required with storage.type s3");
  if (!s3.endpoint.empty() && s3.endpoint.rfind("http://", 0) != 0 &&
      s3.endpoint.rfind("https://", 0) != 0) {
    return ConfigError("storage.endpoint must start with http:// or https://, got '" + s3.endpoint +
                       "'");
  }
  if (s3.region.empty()) return ConfigError("storage.region is empty");
  if (s3.access_key_id.empty() || s3.secret_access_key.empty()) {
    return ConfigError(
        "storage.type s3 needs credentials: set storage.access_key_id and "
        "storage.secret_access_key, or the environment variables AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)");
  }
  if (s3.server_side_encryption != "" && s3.server_side_encryption != "AES256" &&
      s3.server_side_encryption != "aws:kms") {
    return ConfigError("storage.server_side_encryption must be \"AES256\" or \"aws:kms\"");
  }
  if (!s3.sse_kms_key_id.empty() && s3.server_side_encryption != "aws:kms") {
    return ConfigError("storage.sse_kms_key_id needs storage.server_side_encryption \"aws:kms\"");
  }
  if (s3.part_size_bytes < kMinPart || s3.part_size_bytes > kMaxPart) {
    return ConfigError("storage.part_size_bytes must be 5 MiB (5242880) .. 5 GiB, as S3 requires");
  }
  if (!s3.prefix.empty() && s3.prefix.front() == '/') {
    return ConfigError("storage.prefix must not start with '/'");
  }
  if (s3.downloads != "direct" && s3.downloads != "proxy") {
    return ConfigError("storage.downloads must be \"direct\" or \"proxy\", got '" + s3.downloads +
                       "'");
  }
  return Status::Ok();
}

}  // namespace exportd
