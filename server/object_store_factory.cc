#include "server/object_store_factory.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>

#include "server/data_dir.h"
#include "storage/crypto/encrypting_object_store.h"
#include "storage/fs/local_object_store.h"

namespace exportd {
namespace {

using DownloadUrlFn = std::function<Result<std::string>(
    std::string_view task_id, std::string_view name, TimePoint expires_at)>;

// exportd's own signed download links (GET /v1/exports/{id}/files/{name}), for stores whose
// downloads come back through exportd.
DownloadUrlFn ExportdLinks(const Config& config, std::shared_ptr<const UrlSigner> signer) {
  return [signer, base_url = config.PublicUrl()](std::string_view task_id, std::string_view name,
                                                 TimePoint expires_at) -> Result<std::string> {
    RETURN_IF_ERROR(ValidateTaskId(task_id));
    RETURN_IF_ERROR(ValidateObjectName(name));
    std::string_view url = base_url;
    while (!url.empty() && url.back() == '/') url.remove_suffix(1);
    return SignedDownloadUrl(*signer, url, task_id, name, expires_at);
  };
}

// A store whose download links are exportd's own: "downloads": "proxy" on S3 without
// encryption (with encryption the EncryptingObjectStore does the same). Everything else is the
// inner store's.
class ProxiedDownloadsStore final : public ObjectStore {
 public:
  ProxiedDownloadsStore(std::unique_ptr<ObjectStore> inner, DownloadUrlFn links)
      : inner_(std::move(inner)), links_(std::move(links)) {}
  Result<std::unique_ptr<ObjectWriter>> Create(std::string_view task_id, std::string_view name,
                                               const ObjectOptions& options) override {
    return inner_->Create(task_id, name, options);
  }
  Result<std::unique_ptr<ObjectReader>> Open(std::string_view task_id,
                                             std::string_view name) override {
    return inner_->Open(task_id, name);
  }
  Status DeleteAll(std::string_view task_id) override { return inner_->DeleteAll(task_id); }
  Status DeleteExcept(std::string_view task_id, const std::vector<std::string>& keep) override {
    return inner_->DeleteExcept(task_id, keep);
  }
  Result<ObjectPage> List(std::string_view prefix, std::string_view page_token,
                          size_t max_objects) override {
    return inner_->List(prefix, page_token, max_objects);
  }
  Result<std::string> DownloadUrl(std::string_view task_id, std::string_view name,
                                  TimePoint expires_at) override {
    return links_(task_id, name, expires_at);
  }

 private:
  std::unique_ptr<ObjectStore> inner_;
  DownloadUrlFn links_;
};

Status EncryptionError(const Status& status) {
  return Status(status.code(), "encryption: " + status.message());
}

// Wraps `base` in the encrypting decorator when there are master keys. With S3 and encryption
// on, download links are exportd's own (signed by `signer`), so downloads come back through the
// store to be decrypted; otherwise they are the inner store's.
Result<std::unique_ptr<ObjectStore>> WithEncryption(const Config& config,
                                                    std::unique_ptr<ObjectStore> base,
                                                    std::shared_ptr<const UrlSigner> signer,
                                                    bool for_server) {
  const bool enabled = config.encryption.Enabled(config.storage_type);
  ASSIGN_OR_RETURN(std::shared_ptr<const MasterKeyRing> keys,
                   LoadMasterKeys(config, /*create_default=*/for_server));
  const bool proxy = config.storage_type == "s3" && config.s3.downloads == "proxy";
  if (keys == nullptr) {
    if (!proxy) return base;
    if (for_server) spdlog::info("storage.downloads is \"proxy\": downloads go through exportd");
    return std::unique_ptr<ObjectStore>(
        std::make_unique<ProxiedDownloadsStore>(std::move(base), ExportdLinks(config, signer)));
  }
  EncryptionOptions options;
  options.encrypt_new_objects = enabled;
  options.read_plaintext = config.encryption.allow_plaintext || !enabled;
  if ((enabled && config.storage_type == "s3") || proxy) {
    options.download_url = ExportdLinks(config, signer);
  }
  if (for_server) {
    if (enabled) {
      spdlog::info(
          "export files are encrypted at rest (AES-256-GCM envelope); new files use "
          "master key '{}', {} key(s) can read{}",
          keys->active_id(), keys->ids().size(),
          config.storage_type == "s3" ? "; downloads go through exportd" : "");
    } else {
      spdlog::warn(
          "encryption is off: new export files are stored in plaintext (files already "
          "encrypted stay readable)");
    }
  }
  return std::unique_ptr<ObjectStore>(std::make_unique<EncryptingObjectStore>(
      std::move(base), std::move(keys), std::move(options)));
}

}  // namespace

bool DirectS3Downloads(const Config& config) {
  return config.storage_type == "s3" && config.s3.downloads != "proxy" &&
         !config.encryption.Enabled(config.storage_type);
}

std::string DefaultMasterKeyFile(const Config& config) {
  return (std::filesystem::path(config.data_dir) / "master_keys").string();
}

Result<std::shared_ptr<const MasterKeyRing>> LoadMasterKeys(const Config& config,
                                                            bool create_default) {
  const EncryptionConfig& e = config.encryption;
  const bool enabled = e.Enabled(config.storage_type);
  Result<MasterKeyRing> ring = InvalidArgument("no key source");
  if (!e.env_keys.empty()) {
    ring = MasterKeyRing::Parse(e.env_keys, e.active_key_id, "EXPORTD_MASTER_KEY");
  } else if (!e.key_file.empty()) {
    ring = MasterKeyRing::LoadFile(e.key_file, e.active_key_id);
  } else {
    const std::string path = DefaultMasterKeyFile(config);
    struct stat st {};
    const bool exists = ::stat(path.c_str(), &st) == 0;
    if (!exists && !enabled) return std::shared_ptr<const MasterKeyRing>();
    if (!exists && !create_default) {
      return FailedPrecondition("encryption: encryption is on but there is no master key: " + path +
                                " does not exist (exportd serve creates it on first "
                                "start); set encryption.key_file or EXPORTD_MASTER_KEY");
    }
    bool created = false;
    ring = MasterKeyRing::LoadOrCreateFile(path, e.active_key_id, &created);
    if (ring.ok() && created) {
      spdlog::warn(
          "created master key file {} (mode 0600) to encrypt export files; anyone "
          "holding the data dir holds the key: in production keep the key outside the "
          "data dir (encryption.key_file or EXPORTD_MASTER_KEY), and back it up: "
          "without it the files cannot be read",
          path);
    }
  }
  if (!ring.ok()) return EncryptionError(ring.status());
  return std::shared_ptr<const MasterKeyRing>(
      std::make_shared<MasterKeyRing>(std::move(ring).value()));
}

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
                                                     const Clock& clock, bool check_bucket,
                                                     bool for_server) {
  if (config.storage_type != "s3") {
    return WithEncryption(
        config, std::make_unique<LocalObjectStore>(ExportsRoot(config), signer, config.PublicUrl()),
        signer, for_server);
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
        message += " (check the credentials, taken from the " + config.s3.credentials_source + ")";
      }
      const StatusCode code =
          IsTransient(reachable.code()) ? StatusCode::kFailedPrecondition : reachable.code();
      return Status(code, std::move(message));
    }
  }
  return WithEncryption(config, std::move(store), std::move(signer), for_server);
}

}  // namespace exportd
