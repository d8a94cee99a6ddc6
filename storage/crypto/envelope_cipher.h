// Envelope encryption of export files at rest: AES-256-GCM (OpenSSL EVP) in chunks, with a
// fresh random 256-bit data key per file, wrapped by a master key (storage/crypto/master_keys.h).
//
// Format, version 1 (integers big-endian):
//   header   magic "\x89XENV\r\n\x1a" (8) | version = 1 (1) | key id length n (1)
//            | plaintext chunk size C (4) | master key id (n)
//            | wrap nonce (12) | wrapped data key (32) | wrap tag (16)          = 74 + n bytes
//   chunks   for i = 0 .. N-1: ciphertext of plaintext bytes [i*C, min((i+1)*C, P)) | tag (16)
//
// The data key is sealed with AES-256-GCM under the master key, with the header bytes before
// the wrap nonce as AAD (so magic, version, chunk size and key id cannot be changed). Chunk i
// is sealed under the data key with nonce 0x00000000 || i (64 bits) -- safe because the data
// key is unique to the file -- and AAD = the whole header || i (64 bits) || final flag (1 byte,
// 1 for the last chunk only). So a flipped bit anywhere, chunks swapped, reordered, dropped
// from the end or appended, and headers exchanged between files all fail authentication.
// Every file has at least one chunk: an empty file is one empty final chunk. Only the last
// chunk may be shorter than C, so the plaintext size follows from the stored size, and a read
// at any offset decrypts only the chunks it covers.
#ifndef EXPORTD_STORAGE_CRYPTO_ENVELOPE_CIPHER_H_
#define EXPORTD_STORAGE_CRYPTO_ENVELOPE_CIPHER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/object_store.h"
#include "core/status.h"
#include "storage/crypto/master_keys.h"

namespace exportd {

inline constexpr std::string_view kEnvelopeMagic{"\x89XENV\r\n\x1a", 8};
inline constexpr size_t kEnvelopeChunkSize = size_t{64} << 10;
inline constexpr size_t kEnvelopeTagSize = 16;
// Chunk sizes a reader accepts (a writer may choose any of them).
inline constexpr size_t kEnvelopeMinChunkSize = 16;
inline constexpr size_t kEnvelopeMaxChunkSize = size_t{16} << 20;

// The stored size of a file of `plain_size` bytes whose header is `header_size` bytes.
int64_t EnvelopeStoredSize(int64_t plain_size, size_t header_size, size_t chunk_size);

// Encrypts one file as it is written: the header goes to the sink at once, then each chunk as
// soon as it is known not to be the last one; Finish() seals the last. Not thread-safe.
class EnvelopeEncryptor {
 public:
  // Receives stored bytes, valid only during the call; an error stops the encryptor and is
  // returned by the caller's call.
  using Sink = std::function<Status(std::string_view stored)>;

  // Draws a fresh data key and wraps it under `keys`' active key. `chunk_size` within
  // [kEnvelopeMinChunkSize, kEnvelopeMaxChunkSize].
  static Result<std::unique_ptr<EnvelopeEncryptor>> Create(const MasterKeyRing& keys, Sink sink,
                                                           size_t chunk_size = kEnvelopeChunkSize);
  ~EnvelopeEncryptor();
  EnvelopeEncryptor(const EnvelopeEncryptor&) = delete;
  EnvelopeEncryptor& operator=(const EnvelopeEncryptor&) = delete;

  Status Write(std::string_view plain);
  // Seals the last chunk. At most once; no Write() after it.
  Status Finish();

 private:
  struct Impl;
  explicit EnvelopeEncryptor(std::unique_ptr<Impl> impl);
  // Seals `plain` (at most one chunk) as the next chunk and hands it to the sink.
  Status Seal(std::string_view plain, bool final);

  std::unique_ptr<Impl> impl_;
};

// Random-access decryption of one stored envelope; serves the plaintext as an ObjectReader.
// Never returns bytes whose chunk failed authentication. Thread-compatible (keeps the last
// decrypted chunk, so sequential small reads decrypt each chunk once).
class EnvelopeReader final : public ObjectReader {
 public:
  // Authenticates the header (unwrapping the data key) and the last chunk, so a truncated or
  // extended file is refused here and size() can be trusted. `label` names the file in
  // messages ("<task id>/<name>"). Errors: kDataLoss for a damaged or tampered file (not an
  // envelope, failed authentication, a size that fits no envelope); kInternal when the file's
  // master key id is not in `keys` (the message names the id and the ring's ids); the stored
  // reader's own errors as they are.
  static Result<std::unique_ptr<EnvelopeReader>> Open(const MasterKeyRing& keys,
                                                      std::unique_ptr<ObjectReader> stored,
                                                      std::string label);
  ~EnvelopeReader() override;

  int64_t size() const override;
  // kDataLoss naming the file and the chunk when a chunk fails authentication.
  Result<size_t> ReadAt(int64_t offset, char* buf, size_t len) override;

  // The id of the master key that wraps this file's data key.
  const std::string& key_id() const;

 private:
  struct Impl;
  explicit EnvelopeReader(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_CRYPTO_ENVELOPE_CIPHER_H_
