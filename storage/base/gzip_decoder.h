// Streaming gzip decompression (zlib inflate, windowBits 15 + 16), the counterpart of
// GzipEncoder: for reading back what exportd stored compressed (exportd verify, the tests).
#ifndef EXPORTD_STORAGE_BASE_GZIP_DECODER_H_
#define EXPORTD_STORAGE_BASE_GZIP_DECODER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace exportd {

// Pull-style, so that a reader holds at most one block of each side: give it input when it
// needs some, take plain bytes into a buffer of your size. Errors are kDataLoss (not a gzip
// stream, damaged, or bytes after its end); a stream cut short is the caller's to report, by
// finished() being false when the input ends. Not thread-safe.
class GzipDecoder {
 public:
  // kInternal if zlib cannot start. With `members`, a gzip member may follow the end of
  // another (RFC 1952 allows a file of several); without, bytes after the first are kDataLoss.
  static Result<std::unique_ptr<GzipDecoder>> Create(bool members = false);
  ~GzipDecoder();
  GzipDecoder(const GzipDecoder&) = delete;
  GzipDecoder& operator=(const GzipDecoder&) = delete;

  // Whether nothing more comes out without more input: the last input is consumed and no
  // decoded bytes wait inside zlib.
  bool NeedsInput() const;
  // REQUIRES: NeedsInput(). `compressed` must stay valid until NeedsInput() again.
  void SetInput(std::string_view compressed);
  // Inflates into out[0, size): the number of plain bytes written, 0 when it needs input (or
  // the stream has ended).
  Result<size_t> Inflate(char* out, size_t size);
  // Whether the end of a gzip member has been seen (and nothing has started after it).
  bool finished() const { return finished_; }

 private:
  struct Impl;
  GzipDecoder(std::unique_ptr<Impl> impl, bool members);

  std::unique_ptr<Impl> impl_;
  bool members_;
  bool finished_ = false;
  bool output_pending_ = false;  // the last Inflate filled its buffer
};

// The whole plain text of `compressed`, which must be complete (kDataLoss otherwise).
Result<std::string> GunzipAll(std::string_view compressed, bool members = false);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_BASE_GZIP_DECODER_H_
