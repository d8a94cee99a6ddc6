#include "storage/crypto/encrypting_object_store.h"

#include <utility>

#include "storage/base/digest.h"
#include "storage/crypto/envelope_cipher.h"
#include "storage/base/gzip_encoder.h"

namespace exportd {
namespace {

std::string Label(std::string_view task_id, std::string_view name) {
  return std::string(task_id) + "/" + std::string(name);
}

// Plaintext in (gzipped first when asked), ciphertext to the inner writer. Counts and hashes
// the plaintext, which is what Commit() reports. Not thread-safe.
class EncryptingObjectWriter final : public ObjectWriter {
 public:
  explicit EncryptingObjectWriter(std::unique_ptr<ObjectWriter> inner) : inner_(std::move(inner)) {}

  Status Start(const MasterKeyRing& keys, size_t chunk_size, bool gzip, int gzip_level) {
    ASSIGN_OR_RETURN(
        encryptor_,
        EnvelopeEncryptor::Create(
            keys, [this](std::string_view stored) { return inner_->Write(stored); }, chunk_size));
    if (gzip) {
      ASSIGN_OR_RETURN(gzip_, GzipEncoder::Create(gzip_level, [this](std::string_view compressed) {
                         return Encrypt(compressed);
                       }));
    }
    return Status::Ok();
  }

  Status Write(std::string_view data) override {
    RETURN_IF_ERROR(status_);
    if (commit_started_) return FailedPrecondition("write after commit");
    status_ = gzip_ ? gzip_->Write(data) : Encrypt(data);
    return status_;
  }

  Result<ObjectInfo> Commit() override {
    RETURN_IF_ERROR(status_);
    if (commit_started_) return FailedPrecondition("object already committed");
    commit_started_ = true;
    if (gzip_) status_ = gzip_->Finish();
    if (status_.ok()) status_ = encryptor_->Finish();
    RETURN_IF_ERROR(status_);
    Result<ObjectInfo> stored = inner_->Commit();
    if (!stored.ok()) {
      status_ = stored.status();
      return status_;
    }
    return ObjectInfo{.bytes = bytes_, .sha256 = sha256_.FinishHex()};
  }

 private:
  Status Encrypt(std::string_view plain) {
    sha256_.Update(plain);
    bytes_ += static_cast<int64_t>(plain.size());
    return encryptor_->Write(plain);
  }

  std::unique_ptr<ObjectWriter> inner_;
  std::unique_ptr<EnvelopeEncryptor> encryptor_;  // writes into inner_
  std::unique_ptr<GzipEncoder> gzip_;             // set when gzipped; writes into encryptor_
  Sha256 sha256_;
  int64_t bytes_ = 0;
  Status status_;  // the first error; every later call returns it
  bool commit_started_ = false;
};

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
  stored_options.gzip = false;  // gzip happens before encryption: ciphertext does not compress
  stored_options.digest = false;  // what is reported is the digest of the plaintext, taken here
  ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> inner,
                   inner_->Create(task_id, name, stored_options));
  auto writer = std::make_unique<EncryptingObjectWriter>(std::move(inner));
  RETURN_IF_ERROR(writer->Start(*keys_,
                                options_.chunk_size == 0 ? kEnvelopeChunkSize : options_.chunk_size,
                                options.gzip, options_.gzip_level));
  return std::unique_ptr<ObjectWriter>(std::move(writer));
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
