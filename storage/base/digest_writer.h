// DigestWriter: the SHA-256 of an object, taken as its bytes pass on to the writer below.
// A layer of storage/base/object_writer_pipeline.h.
#ifndef EXPORTD_STORAGE_BASE_DIGEST_WRITER_H_
#define EXPORTD_STORAGE_BASE_DIGEST_WRITER_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include "core/object_store.h"
#include "storage/base/digest.h"

namespace exportd {

// Hashes and counts every byte it hands on, without copying it. Commit() commits the writer
// below and reports {bytes, sha256} of exactly what passed through here, whatever that writer
// reports: below a compressor the compressed stream, above an encryptor the plaintext.
// REQUIRES: the calling rules of GuardedWriter. Not thread-safe.
class DigestWriter final : public ObjectWriterWrapper {
 public:
  using ObjectWriterWrapper::ObjectWriterWrapper;

  Status Write(std::string_view data) override;
  Result<ObjectInfo> Commit() override;

 private:
  Sha256 sha256_;
  int64_t bytes_ = 0;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_BASE_DIGEST_WRITER_H_
