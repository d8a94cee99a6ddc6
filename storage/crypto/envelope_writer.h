// EnvelopeWriter: encryption at rest (storage/crypto/envelope_cipher.h) as a layer of the
// object-writer pipeline (storage/base/object_writer_pipeline.h): plaintext in, the stored
// envelope out to the writer below.
#ifndef EXPORTD_STORAGE_CRYPTO_ENVELOPE_WRITER_H_
#define EXPORTD_STORAGE_CRYPTO_ENVELOPE_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "core/object_store.h"
#include "storage/crypto/envelope_cipher.h"
#include "storage/crypto/master_keys.h"

namespace exportd {

// Create() writes the envelope header to the writer below at once; Write() hands on each sealed
// chunk as soon as it is known not to be the last; Commit() seals the last chunk, commits the
// writer below and reports the plaintext's size (what EnvelopeReader serves) and no sha256 (a
// DigestWriter above hashes the plaintext). An error of the writer below is returned by the call
// that produced the bytes. REQUIRES: the calling rules of GuardedWriter. Not thread-safe.
class EnvelopeWriter final : public ObjectWriterWrapper {
 public:
  // A fresh data key wrapped under `keys`' active key (`keys` is not kept). `chunk_size` within
  // [kEnvelopeMinChunkSize, kEnvelopeMaxChunkSize].
  static Result<std::unique_ptr<ObjectWriter>> Create(std::unique_ptr<ObjectWriter> target,
                                                      const MasterKeyRing& keys,
                                                      size_t chunk_size = kEnvelopeChunkSize);

  Status Write(std::string_view plain) override;
  Result<ObjectInfo> Commit() override;

 private:
  explicit EnvelopeWriter(std::unique_ptr<ObjectWriter> target)
      : ObjectWriterWrapper(std::move(target)) {}

  std::unique_ptr<EnvelopeEncryptor> encryptor_;  // writes into target()
  int64_t plain_bytes_ = 0;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_CRYPTO_ENVELOPE_WRITER_H_
