// Builds the configured ObjectStore (storage.type "local" or "s3") for the server and for the
// operator commands (exportd verify).
#ifndef EXPORTD_SERVER_OBJECT_STORE_FACTORY_H_
#define EXPORTD_SERVER_OBJECT_STORE_FACTORY_H_

#include <chrono>
#include <memory>

#include "core/clock.h"
#include "core/object_store.h"
#include "core/status.h"
#include "server/config.h"
#include "storage/crypto/master_keys.h"
#include "storage/fs/url_signer.h"
#include "storage/s3/s3_object_store.h"

namespace exportd {

S3StoreOptions ToS3StoreOptions(const S3StorageConfig& s3);

// The store of `config`. `signer` signs exportd's download links (may hold an empty secret
// when no link is issued); `clock` must outlive the store. For S3, when `check_bucket`, a HEAD
// of the bucket must succeed: otherwise kFailedPrecondition (or the S3 error's own code) with
// a message naming the endpoint, the bucket and S3's answer, so start-up fails clearly.
// With encryption (config.encryption, or any master key configured) the store is wrapped in an
// EncryptingObjectStore. `for_server`: exportd serve, which creates DATA_DIR/master_keys on
// first start and logs the encryption set-up; operator commands never create a key.
Result<std::unique_ptr<ObjectStore>> MakeObjectStore(const Config& config,
                                                     std::shared_ptr<const UrlSigner> signer,
                                                     const Clock& clock, bool check_bucket,
                                                     bool for_server = false);

// Whether clients download files straight from the S3 bucket through pre-signed URLs (storage
// "s3" without envelope encryption and without "downloads": "proxy"): exportd then neither
// serves nor records those downloads, and links live at most kMaxDirectLinkTtl.
bool DirectS3Downloads(const Config& config);
// The longest lifetime S3 allows a pre-signed URL.
inline constexpr std::chrono::seconds kMaxDirectLinkTtl{7 * 24 * 3600};

// DATA_DIR/master_keys: where the master key file is created when none is configured.
std::string DefaultMasterKeyFile(const Config& config);

// The master keys of `config` (EXPORTD_MASTER_KEY, else encryption.key_file, else
// DATA_DIR/master_keys, created when `create_default` and encryption is on), or null when
// encryption is off and no key is configured. Errors name the key's source, never key bytes.
Result<std::shared_ptr<const MasterKeyRing>> LoadMasterKeys(const Config& config,
                                                            bool create_default);

}  // namespace exportd

#endif  // EXPORTD_SERVER_OBJECT_STORE_FACTORY_H_
