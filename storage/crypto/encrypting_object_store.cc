#include "storage/crypto/encrypting_object_store.h"

#include <utility>

#include "storage/base/object_writer_pipeline.h"
#include "storage/crypto/envelope_cipher.h"
#include "storage/crypto/envelope_writer.h"

namespace exportd {
namespace {

std::string Label(std::string_view task_id, std::string_view name) {
  return std::string(task_id) + "/" + std::string(name);
}

// Whether the object starts with the envelope magic.
Result<bool> HasEnvelopeMagic(ObjectReader& reader) {
  std::string head(kEnvelopeMagic.size(), '\0');
  size_t got = 0;
  while (got < head.size()) {
    ASSIGN_OR_RETURN(const size_t n, reader.ReadAt(static_cast<int64_t>(got), head.data() + got,
                                                   head.size() - got));
    if (n == 0) break;
    got += n;
  }
  return got == head.size() && head == kEnvelopeMagic;
}

}  // namespace

EncryptingObjectStore::EncryptingObjectStore(std::unique_ptr<ObjectStore> inner,
                                             std::shared_ptr<const MasterKeyRing> keys,
                                             EncryptionOptions options)
    : inner_(std::move(inner)), keys_(std::move(keys)), options_(std::move(options)) {}

Result<std::unique_ptr<ObjectWriter>> EncryptingObjectStore::Create(std::string_view task_id,
                                                                    std::string_view name,
                                                                    const ObjectOptions& options) {
  if (!options_.encrypt_new_objects) return inner_->Create(task_id, name, options);
  if (keys_ == nullptr) return Internal("encryption is on but no master key is configured");
  ObjectOptions stored_options = options;
  stored_options.gzip = false;    // gzip happens before encryption: ciphertext does not compress
  stored_options.digest = false;  // what is reported is the digest of the plaintext, taken above
  ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> inner,
                   inner_->Create(task_id, name, stored_options));
  ASSIGN_OR_RETURN(
      std::unique_ptr<ObjectWriter> envelope,
      EnvelopeWriter::Create(std::move(inner), *keys_,
                             options_.chunk_size == 0 ? kEnvelopeChunkSize : options_.chunk_size));
  // gzip -> digest of the plaintext -> envelope -> the inner store's writer.
  return ComposeObjectWriter(std::move(envelope), options, options_.gzip_level);
}

Result<std::unique_ptr<ObjectReader>> EncryptingObjectStore::Open(std::string_view task_id,
                                                                  std::string_view name) {
  ASSIGN_OR_RETURN(std::unique_ptr<ObjectReader> stored, inner_->Open(task_id, name));
  ASSIGN_OR_RETURN(const bool encrypted, HasEnvelopeMagic(*stored));
  if (!encrypted) {
    if (options_.read_plaintext || !options_.encrypt_new_objects) return stored;
    return DataLoss("export file " + Label(task_id, name) +
                    " is not encrypted although encryption is on (stored before encryption was "
                    "switched on, or replaced)");
  }
  if (keys_ == nullptr) {
    return Internal("export file " + Label(task_id, name) +
                    " is encrypted but no master key is configured");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<EnvelopeReader> plain,
                   EnvelopeReader::Open(*keys_, std::move(stored), Label(task_id, name)));
  return std::unique_ptr<ObjectReader>(std::move(plain));
}

Status EncryptingObjectStore::DeleteAll(std::string_view task_id) {
  return inner_->DeleteAll(task_id);
}

Status EncryptingObjectStore::DeleteExcept(std::string_view task_id,
                                           const std::vector<std::string>& keep) {
  return inner_->DeleteExcept(task_id, keep);
}

Result<std::string> EncryptingObjectStore::DownloadUrl(std::string_view task_id,
                                                       std::string_view name,
                                                       TimePoint expires_at) {
  if (options_.download_url) return options_.download_url(task_id, name, expires_at);
  return inner_->DownloadUrl(task_id, name, expires_at);
}

}  // namespace exportd
