// GzipWriter: compresses an object (GzipEncoder) into the writer below.
// A layer of storage/base/object_writer_pipeline.h.
#ifndef EXPORTD_STORAGE_BASE_GZIP_WRITER_H_
#define EXPORTD_STORAGE_BASE_GZIP_WRITER_H_

#include <memory>
#include <string_view>
#include <utility>

#include "core/object_store.h"
#include "storage/base/gzip_encoder.h"

namespace exportd {

// Write() compresses and hands the compressed bytes on in blocks of up to 256 KB; Commit()
// finishes the gzip stream (trailer included), then commits the writer below and reports what
// it reports: the compressed object. An error of the writer below is returned by the call that
// produced the bytes. REQUIRES: the calling rules of GuardedWriter. Not thread-safe.
class GzipWriter final : public ObjectWriterWrapper {
 public:
  // `level` 0..9 (zlib's meaning; -1 = zlib's default). kInternal if zlib cannot start.
  static Result<std::unique_ptr<ObjectWriter>> Create(std::unique_ptr<ObjectWriter> target,
                                                      int level);

  Status Write(std::string_view data) override;
  Result<ObjectInfo> Commit() override;

 private:
  explicit GzipWriter(std::unique_ptr<ObjectWriter> target)
      : ObjectWriterWrapper(std::move(target)) {}

  std::unique_ptr<GzipEncoder> encoder_;  // writes into target()
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_BASE_GZIP_WRITER_H_
