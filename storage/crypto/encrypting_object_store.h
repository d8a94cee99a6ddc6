// An ObjectStore decorator that encrypts export files at rest with the envelope of
// storage/crypto/envelope_cipher.h, over any ObjectStore (local disk, S3).
//
// What goes in and what comes out are the plaintext a user downloads: Commit()'s ObjectInfo
// (bytes, sha256) describes it (the gzip stream when the object is gzipped: gzip first, then
// encrypt), and Open() serves it, decrypting the chunks each read covers. The inner store only
// ever sees ciphertext. Writers are the pipeline of storage/base/object_writer_pipeline.h with
// an EnvelopeWriter (envelope_writer.h) over the inner store's writer: gzip -> digest ->
// envelope -> inner.
#ifndef EXPORTD_STORAGE_CRYPTO_ENCRYPTING_OBJECT_STORE_H_
#define EXPORTD_STORAGE_CRYPTO_ENCRYPTING_OBJECT_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/object_store.h"
#include "storage/crypto/master_keys.h"

namespace exportd {

struct EncryptionOptions {
  // false: new objects are stored as they are (encryption switched off); objects already
  // stored encrypted are still decrypted on Open.
  bool encrypt_new_objects = true;
  // Open() serves an object without the envelope header as it is stored. Otherwise such an
  // object is refused with kDataLoss, so that a file replaced on disk by plaintext is not served.
  bool read_plaintext = false;
  // Builds download links (e.g. exportd's own signed links, so that downloads come back through
  // this store to be decrypted). Empty: the inner store's DownloadUrl.
  std::function<Result<std::string>(std::string_view task_id, std::string_view name,
                                    TimePoint expires_at)>
      download_url;
  size_t chunk_size = 0;  // 0: kEnvelopeChunkSize
  int gzip_level = 6;
};

// Thread-safe like the inner store: holds immutable state only; each writer and reader is
// used by one thread at a time.
class EncryptingObjectStore final : public ObjectStore {
 public:
  // `keys` may be null only when !options.encrypt_new_objects (then encrypted objects cannot
  // be read: Open says which key they need).
  EncryptingObjectStore(std::unique_ptr<ObjectStore> inner,
                        std::shared_ptr<const MasterKeyRing> keys, EncryptionOptions options);

  Result<std::unique_ptr<ObjectWriter>> Create(std::string_view task_id, std::string_view name,
                                               const ObjectOptions& options) override;
  // kDataLoss for a tampered or damaged file, or a plaintext one unless read_plaintext; the
  // message names the file ("<task id>/<name>"), never a key.
  Result<std::unique_ptr<ObjectReader>> Open(std::string_view task_id,
                                             std::string_view name) override;
  Status DeleteAll(std::string_view task_id) override;
  Status DeleteExcept(std::string_view task_id, const std::vector<std::string>& keep) override;
  // The inner store's listing: the sizes are those of the stored (encrypted) objects. Open()
  // decrypts what it lists, so imports can read encrypted exports.
  Result<ObjectPage> List(std::string_view prefix, std::string_view page_token,
                          size_t max_objects) override {
    return inner_->List(prefix, page_token, max_objects);
  }
  Result<std::string> DownloadUrl(std::string_view task_id, std::string_view name,
                                  TimePoint expires_at) override;

 private:
  const std::unique_ptr<ObjectStore> inner_;
  const std::shared_ptr<const MasterKeyRing> keys_;
  const EncryptionOptions options_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_CRYPTO_ENCRYPTING_OBJECT_STORE_H_
