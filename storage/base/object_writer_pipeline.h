// The object-writer pipeline every ObjectStore hands out, built from decorators of
// core/object_store.h's ObjectWriterWrapper, each doing one job and overriding only what it
// changes:
//
//   GuardedWriter -> [GzipWriter] -> [DigestWriter] -> [EnvelopeWriter] -> backend
//
// - GuardedWriter (here): the calling rules of the contract, once for the whole chain.
// - GzipWriter (gzip_writer.h): compresses into the next writer (ObjectOptions::gzip).
// - DigestWriter (digest_writer.h): hashes and counts what passes (ObjectOptions::digest); below
//   GzipWriter, so the sha256 describes the compressed bytes.
// - EnvelopeWriter (storage/crypto/envelope_writer.h): encryption at rest, added by the
//   EncryptingObjectStore below the digest, so the digest describes the plaintext.
// - The backend (a local temporary file, an S3 multipart upload) only streams the bytes it is
//   given and publishes them atomically on Commit(); it counts them for ObjectInfo::bytes.
// Each layer's Commit() reports the object as its store's Open() will serve it.
//
// Fault injection (storage/faults) is one more wrapper around a store's writers.
//
// Why storage/base and not core/: GzipWriter needs zlib and DigestWriter OpenSSL, and core/ is
// std-only. The std-only piece every decorator derives from, ObjectWriterWrapper, is in
// core/object_store.h next to the contract it forwards (as leveldb keeps EnvWrapper in env.h).
//
// Cost: one virtual call per layer per Write() of the caller, which hands over blocks of about
// a megabyte (never a row), and no copy: each layer passes the caller's bytes on as they are,
// except the compressor and the encryptor, which produce new bytes.
#ifndef EXPORTD_STORAGE_BASE_OBJECT_WRITER_PIPELINE_H_
#define EXPORTD_STORAGE_BASE_OBJECT_WRITER_PIPELINE_H_

#include <memory>
#include <string_view>

#include "core/object_store.h"
#include "core/status.h"

namespace exportd {

// Enforces the calling rules of ObjectWriter for the writers below it, so that they need not:
// the first error sticks (every later call returns it without reaching them), no Write() after
// Commit() (kFailedPrecondition), Commit() at most once (kFailedPrecondition). The layers below
// may then assume: REQUIRES no call after an error or after Commit().
class GuardedWriter final : public ObjectWriterWrapper {
 public:
  using ObjectWriterWrapper::ObjectWriterWrapper;

  Status Write(std::string_view data) override;
  Result<ObjectInfo> Commit() override;

 private:
  Status status_;  // the first error
  bool commit_started_ = false;
};

// The pipeline for `options` over `sink` (a backend, or an EnvelopeWriter over one):
// GuardedWriter -> GzipWriter if options.gzip (at `gzip_level`, zlib's 0..9) -> DigestWriter if
// options.digest -> sink. Errors: zlib's, when it cannot start (then `sink` is destroyed
// uncommitted).
Result<std::unique_ptr<ObjectWriter>> ComposeObjectWriter(std::unique_ptr<ObjectWriter> sink,
                                                          const ObjectOptions& options,
                                                          int gzip_level);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_BASE_OBJECT_WRITER_PIPELINE_H_
