// Streaming gzip compression (zlib deflate with a gzip header and trailer, windowBits 15 + 16)
// for object writers: bytes go in as they are written, compressed bytes come out through a sink.
#ifndef EXPORTD_STORAGE_BASE_GZIP_ENCODER_H_
#define EXPORTD_STORAGE_BASE_GZIP_ENCODER_H_

#include <functional>
#include <memory>
#include <string_view>

#include "core/status.h"

namespace exportd {

// Not thread-safe. Finish() at most once; no Write() after it.
class GzipEncoder {
 public:
  // Receives compressed output; an error stops the encoder and is returned by the caller's call.
  using Sink = std::function<Status(std::string_view compressed)>;

  // `level` 0..9 (zlib's meaning; -1 = zlib's default). kInternal if zlib cannot start.
  static Result<std::unique_ptr<GzipEncoder>> Create(int level, Sink sink);
  ~GzipEncoder();
  GzipEncoder(const GzipEncoder&) = delete;
  GzipEncoder& operator=(const GzipEncoder&) = delete;

  Status Write(std::string_view data);
  // Drains the stream and emits the gzip trailer.
  Status Finish();

 private:
  struct Impl;
  explicit GzipEncoder(std::unique_ptr<Impl> impl);
  Status Deflate(std::string_view data, int flush);

  std::unique_ptr<Impl> impl_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_BASE_GZIP_ENCODER_H_
