// Builds the configured ObjectStore (storage.type "local" or "s3") for the server and for the
// operator commands (exportd verify).
#ifndef EXPORTD_SERVER_OBJECT_STORE_FACTORY_H_
#define EXPORTD_SERVER_OBJECT_STORE_FACTORY_H_

#include <memory>

#include "core/clock.h"
#include "core/object_store.h"
#include "core/status.h"
#include "server/config.h"
#include "storage/s3_object_store.h"
#include "storage/url_signer.h"

namespace exportd {

S3StoreOptions ToS3StoreOptions(const S3StorageConfig& s3);

// The store of `config`. `signer` signs the local store's download links (may hold an empty
// secret when no link is issued); `clock` must outlive the store. For S3, when `check_bucket`,
// a HEAD of the bucket must succeed: otherwise kFailedPrecondition (or the S3 error's own code)
// with a message naming the endpoint, the bucket and S3's answer, so start-up fails clearly.
Result<std::unique_ptr<ObjectStore>> MakeObjectStore(const Config& config,
                                                     std::shared_ptr<const UrlSigner> signer,
                                                     const Clock& clock, bool check_bucket);

}  // namespace exportd

#endif  // EXPORTD_SERVER_OBJECT_STORE_FACTORY_H_
