#include "storage/crypto/envelope_cipher.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "storage/base/digest.h"
#include "storage/crypto/wipe_secret.h"

namespace exportd {

// Outside the anonymous namespace: the members of the Impl structs below hold it.
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kNonceSize = 12;
constexpr size_t kDataKeySize = 32;
// magic | version | key id length | chunk size
constexpr size_t kFixedHeaderSize = kEnvelopeMagic.size() + 1 + 1 + 4;
constexpr size_t kWrappedKeySize = kDataKeySize + kEnvelopeTagSize;

// The one translation of OpenSSL's error queue into Status.
Status OpenSslError(std::string_view context) {
  char text[256] = "no detail";
  if (const unsigned long e = ERR_get_error(); e != 0) ERR_error_string_n(e, text, sizeof text);
  ERR_clear_error();
  return Internal("OpenSSL " + std::string(context) + ": " + text);
}

Result<CipherCtx> NewCipherCtx() {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return OpenSslError("EVP_CIPHER_CTX_new");
  return ctx;
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

uint32_t GetU32(std::string_view in) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

std::string ChunkNonce(uint64_t index) {
  std::string nonce(4, '\0');
  PutU64(nonce, index);
  return nonce;
}

std::string ChunkAad(std::string_view header, uint64_t index, bool final) {
  std::string aad(header);
  PutU64(aad, index);
  aad.push_back(final ? '\1' : '\0');
  return aad;
}

// AES-256-GCM: writes the ciphertext of `plain` and its 16-byte tag to `dst` (plain.size() + 16
// bytes).
Status GcmSealTo(EVP_CIPHER_CTX* ctx, std::string_view key, std::string_view nonce,
                 std::string_view aad, std::string_view plain, unsigned char* dst) {
  int len = 0;
  if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce)) != 1) {
    return OpenSslError("AES-256-GCM encrypt init");
  }
  if (EVP_EncryptUpdate(ctx, nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1) {
    return OpenSslError("AES-256-GCM AAD");
  }
  int written = 0;
  if (!plain.empty()) {
    if (EVP_EncryptUpdate(ctx, dst, &written, Bytes(plain), static_cast<int>(plain.size())) != 1) {
      return OpenSslError("AES-256-GCM encrypt");
    }
  }
  if (EVP_EncryptFinal_ex(ctx, dst + written, &len) != 1) return OpenSslError("AES-256-GCM final");
  if (static_cast<size_t>(written + len) != plain.size())
    return Internal("AES-256-GCM: short output");
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kEnvelopeTagSize),
                          dst + plain.size()) != 1) {
    return OpenSslError("AES-256-GCM tag");
  }
  return Status::Ok();
}

// GcmSealTo, appending to `out`.
Status GcmSeal(EVP_CIPHER_CTX* ctx, std::string_view key, std::string_view nonce,
               std::string_view aad, std::string_view plain, std::string& out) {
  const size_t start = out.size();
  out.resize(start + plain.size() + kEnvelopeTagSize);
  return GcmSealTo(ctx, key, nonce, aad, plain,
                   reinterpret_cast<unsigned char*>(out.data() + start));
}

// AES-256-GCM: decrypts `sealed` (ciphertext || tag) into `out` (sealed.size() - 16 bytes).
// false when authentication fails: then `out` holds nothing to use.
Result<bool> GcmOpen(EVP_CIPHER_CTX* ctx, std::string_view key, std::string_view nonce,
                     std::string_view aad, std::string_view sealed, char* out) {
  const std::string_view ciphertext = sealed.substr(0, sealed.size() - kEnvelopeTagSize);
  const std::string_view tag = sealed.substr(ciphertext.size());
  int len = 0;
  if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce)) != 1) {
    return OpenSslError("AES-256-GCM decrypt init");
  }
  if (EVP_DecryptUpdate(ctx, nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1) {
    return OpenSslError("AES-256-GCM AAD");
  }
  auto* dst = reinterpret_cast<unsigned char*>(out);
  int written = 0;
  if (!ciphertext.empty()) {
    if (EVP_DecryptUpdate(ctx, dst, &written, Bytes(ciphertext),
                          static_cast<int>(ciphertext.size())) != 1) {
      return OpenSslError("AES-256-GCM decrypt");
    }
  }
  // OpenSSL reads the expected tag from this buffer and does not modify it.
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kEnvelopeTagSize),
                          const_cast<char*>(tag.data())) != 1) {
    return OpenSslError("AES-256-GCM set tag");
  }
  if (EVP_DecryptFinal_ex(ctx, dst + written, &len) != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

// Reads exactly `n` bytes at `offset` unless the object ends first; returns what was read.
Result<std::string_view> ReadStored(ObjectReader& reader, int64_t offset, size_t n,
                                    std::string& buf) {
  buf.resize(n);
  size_t got = 0;
  while (got < n) {
    ASSIGN_OR_RETURN(const size_t r,
                     reader.ReadAt(offset + static_cast<int64_t>(got), buf.data() + got, n - got));
    if (r == 0) break;
    got += r;
  }
  return std::string_view(buf.data(), got);
}

}  // namespace

int64_t EnvelopeStoredSize(int64_t plain_size, size_t header_size, size_t chunk_size) {
  const int64_t c = static_cast<int64_t>(chunk_size);
  const int64_t chunks = std::max<int64_t>(1, (plain_size + c - 1) / c);
  return static_cast<int64_t>(header_size) + plain_size +
         chunks * static_cast<int64_t>(kEnvelopeTagSize);
}

// ---- EnvelopeEncryptor ----------------------------------------------------------------------

struct EnvelopeEncryptor::Impl {
  ~Impl() { WipeSecret(data_key); }

  CipherCtx ctx;
  Sink sink;
  size_t chunk_size = 0;
  std::string data_key;
  std::string header;
  std::string pending;  // plaintext of the chunk being filled
  // The last sealed chunk: chunk_size + tag bytes, allocated once and never cleared (a sealed
  // chunk is written over it whole), so that sealing costs no pass over memory of its own.
  std::unique_ptr<unsigned char[]> sealed;
  uint64_t index = 0;  // of the chunk being filled
  Status status;       // the first error; every later call returns it
  bool finished = false;
};

EnvelopeEncryptor::EnvelopeEncryptor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EnvelopeEncryptor::~EnvelopeEncryptor() = default;

Result<std::unique_ptr<EnvelopeEncryptor>> EnvelopeEncryptor::Create(const MasterKeyRing& keys,
                                                                     Sink sink, size_t chunk_size) {
  if (chunk_size < kEnvelopeMinChunkSize || chunk_size > kEnvelopeMaxChunkSize) {
    return InvalidArgument("envelope chunk size " + std::to_string(chunk_size) +
                           " is out of range");
  }
  const std::string& id = keys.active_id();
  const std::string* master = keys.Find(id);
  if (master == nullptr) return Internal("the active master key '" + id + "' is missing");
  auto impl = std::make_unique<Impl>();
  ASSIGN_OR_RETURN(impl->ctx, NewCipherCtx());
  impl->sink = std::move(sink);
  impl->chunk_size = chunk_size;
  impl->data_key = RandomBytes(kDataKeySize);
  impl->pending.reserve(chunk_size);
  impl->sealed = std::make_unique_for_overwrite<unsigned char[]>(chunk_size + kEnvelopeTagSize);
  std::string& header = impl->header;
  header.append(kEnvelopeMagic);
  header.push_back(static_cast<char>(kVersion));
  header.push_back(static_cast<char>(id.size()));
  PutU32(header, static_cast<uint32_t>(chunk_size));
  header.append(id);
  const std::string wrap_aad = header;
  const std::string wrap_nonce = RandomBytes(kNonceSize);
  header.append(wrap_nonce);
  RETURN_IF_ERROR(GcmSeal(impl->ctx.get(), *master, wrap_nonce, wrap_aad, impl->data_key, header));
  RETURN_IF_ERROR(impl->sink(header));
  return std::unique_ptr<EnvelopeEncryptor>(new EnvelopeEncryptor(std::move(impl)));
}

Status EnvelopeEncryptor::Write(std::string_view plain) {
  Impl& s = *impl_;
  RETURN_IF_ERROR(s.status);
  if (s.finished) return FailedPrecondition("envelope: write after finish");
  while (!plain.empty()) {
    // A full chunk is sealed only once more bytes follow: the last chunk is sealed as final.
    if (s.pending.size() == s.chunk_size) {
      s.status = Seal(s.pending, /*final=*/false);
      s.pending.clear();
      RETURN_IF_ERROR(s.status);
    }
    if (s.pending.empty() && plain.size() > s.chunk_size) {
      // A whole chunk with bytes after it is sealed from the caller's buffer, without a copy.
      s.status = Seal(plain.substr(0, s.chunk_size), /*final=*/false);
      RETURN_IF_ERROR(s.status);
      plain.remove_prefix(s.chunk_size);
      continue;
    }
    const size_t take = std::min(s.chunk_size - s.pending.size(), plain.size());
    s.pending.append(plain.substr(0, take));
    plain.remove_prefix(take);
  }
  return Status::Ok();
}

Status EnvelopeEncryptor::Finish() {
  Impl& s = *impl_;
  RETURN_IF_ERROR(s.status);
  if (s.finished) return FailedPrecondition("envelope: finished twice");
  s.finished = true;
  s.status = Seal(s.pending, /*final=*/true);
  s.pending.clear();
  return s.status;
}

Status EnvelopeEncryptor::Seal(std::string_view plain, bool final) {
  Impl& s = *impl_;
  RETURN_IF_ERROR(GcmSealTo(s.ctx.get(), s.data_key, ChunkNonce(s.index),
                            ChunkAad(s.header, s.index, final), plain, s.sealed.get()));
  ++s.index;
  return s.sink(std::string_view(reinterpret_cast<const char*>(s.sealed.get()),
                                 plain.size() + kEnvelopeTagSize));
}

// ---- EnvelopeReader -------------------------------------------------------------------------

struct EnvelopeReader::Impl {
  ~Impl() {
    WipeSecret(data_key);
    WipeSecret(plain);
  }

  // Decrypts and authenticates chunk `i` into `plain`.
  Status LoadChunk(int64_t i) {
    const bool final = i == chunks - 1;
    const size_t plain_len = final ? last_chunk_size : chunk_size;
    const int64_t offset = static_cast<int64_t>(header.size()) +
                           i * static_cast<int64_t>(chunk_size + kEnvelopeTagSize);
    cached = -1;
    ASSIGN_OR_RETURN(const std::string_view sealed,
                     ReadStored(*stored, offset, plain_len + kEnvelopeTagSize, sealed_buf));
    if (sealed.size() != plain_len + kEnvelopeTagSize) {
      return DataLoss("encrypted file " + label + " is truncated in chunk " +
                      std::to_string(i + 1) + " of " + std::to_string(chunks));
    }
    plain.resize(plain_len);
    ASSIGN_OR_RETURN(
        const bool authentic,
        GcmOpen(ctx.get(), data_key, ChunkNonce(static_cast<uint64_t>(i)),
                ChunkAad(header, static_cast<uint64_t>(i), final), sealed, plain.data()));
    if (!authentic) {
      WipeSecret(plain);
      return DataLoss("encrypted file " + label + ": chunk " + std::to_string(i + 1) + " of " +
                      std::to_string(chunks) +
                      " failed authentication (the file was tampered with or is corrupt)");
    }
    cached = i;
    return Status::Ok();
  }

  std::unique_ptr<ObjectReader> stored;
  std::string label;
  std::string key_id;
  std::string header;
  std::string data_key;
  CipherCtx ctx;
  size_t chunk_size = 0;
  size_t last_chunk_size = 0;
  int64_t chunks = 0;
  int64_t plain_size = 0;
  int64_t cached = -1;  // the chunk held in `plain`; -1: none
  std::string plain;
  std::string sealed_buf;
};

EnvelopeReader::EnvelopeReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EnvelopeReader::~EnvelopeReader() = default;

Result<std::unique_ptr<EnvelopeReader>> EnvelopeReader::Open(const MasterKeyRing& keys,
                                                             std::unique_ptr<ObjectReader> stored,
                                                             std::string label) {
  auto impl = std::make_unique<Impl>();
  Impl& s = *impl;
  s.stored = std::move(stored);
  s.label = std::move(label);
  ASSIGN_OR_RETURN(s.ctx, NewCipherCtx());
  std::string buf;
  ASSIGN_OR_RETURN(std::string_view fixed, ReadStored(*s.stored, 0, kFixedHeaderSize, buf));
  if (fixed.size() < kFixedHeaderSize || fixed.substr(0, kEnvelopeMagic.size()) != kEnvelopeMagic) {
    return DataLoss("export file " + s.label + " is not encrypted (no envelope header)");
  }
  const auto version = static_cast<unsigned char>(fixed[8]);
  const size_t id_size = static_cast<unsigned char>(fixed[9]);
  s.chunk_size = GetU32(fixed.substr(10, 4));
  if (version != kVersion) {
    return DataLoss("encrypted file " + s.label + " has envelope version " +
                    std::to_string(version) + "; this exportd reads version 1");
  }
  s.header.assign(fixed);
  ASSIGN_OR_RETURN(
      const std::string_view rest,
      ReadStored(*s.stored, kFixedHeaderSize, id_size + kNonceSize + kWrappedKeySize, buf));
  if (rest.size() != id_size + kNonceSize + kWrappedKeySize) {
    return DataLoss("encrypted file " + s.label + " is truncated in its header");
  }
  s.header.append(rest);
  s.key_id.assign(rest.substr(0, id_size));
  if (!ValidateMasterKeyId(s.key_id).ok()) {
    return DataLoss("encrypted file " + s.label + " has a damaged header (master key id)");
  }
  const std::string* master = keys.Find(s.key_id);
  if (master == nullptr) {
    std::string known;
    for (const std::string& id : keys.ids()) known += (known.empty() ? "" : ", ") + id;
    return Internal("encrypted file " + s.label + " needs master key '" + s.key_id +
                    "', which is not configured (the key ring holds " + known +
                    "): add it back to read the file");
  }
  const std::string_view wrap_aad =
      std::string_view(s.header).substr(0, kFixedHeaderSize + id_size);
  const std::string_view wrap_nonce = rest.substr(id_size, kNonceSize);
  const std::string_view wrapped = rest.substr(id_size + kNonceSize);
  s.data_key.resize(kDataKeySize);
  ASSIGN_OR_RETURN(const bool unwrapped,
                   GcmOpen(s.ctx.get(), *master, wrap_nonce, wrap_aad, wrapped, s.data_key.data()));
  if (!unwrapped) {
    return DataLoss("encrypted file " + s.label +
                    ": its data key failed authentication under "
                    "master key '" +
                    s.key_id +
                    "' (the header was tampered with, or a different key now has this id)");
  }
  if (s.chunk_size < kEnvelopeMinChunkSize || s.chunk_size > kEnvelopeMaxChunkSize) {
    return DataLoss("encrypted file " + s.label + " has an unsupported chunk size");
  }
  const int64_t body = s.stored->size() - static_cast<int64_t>(s.header.size());
  const auto sealed_chunk = static_cast<int64_t>(s.chunk_size + kEnvelopeTagSize);
  const int64_t full = body / sealed_chunk;
  const int64_t rest_bytes = body % sealed_chunk;
  if (body < static_cast<int64_t>(kEnvelopeTagSize) ||
      (rest_bytes > 0 && rest_bytes < static_cast<int64_t>(kEnvelopeTagSize))) {
    return DataLoss("encrypted file " + s.label + " is " + std::to_string(s.stored->size()) +
                    " bytes, which fits no envelope: truncated or extended");
  }
  s.chunks = rest_bytes == 0 ? full : full + 1;
  s.last_chunk_size =
      rest_bytes == 0 ? s.chunk_size : static_cast<size_t>(rest_bytes) - kEnvelopeTagSize;
  s.plain_size = body - s.chunks * static_cast<int64_t>(kEnvelopeTagSize);
  // The final flag of the last chunk proves nothing was cut off or added at the end.
  RETURN_IF_ERROR(s.LoadChunk(s.chunks - 1));
  return std::unique_ptr<EnvelopeReader>(new EnvelopeReader(std::move(impl)));
}

int64_t EnvelopeReader::size() const { return impl_->plain_size; }

const std::string& EnvelopeReader::key_id() const { return impl_->key_id; }

Result<size_t> EnvelopeReader::ReadAt(int64_t offset, char* buf, size_t len) {
  Impl& s = *impl_;
  if (offset < 0) return InvalidArgument("negative read offset");
  const auto chunk = static_cast<int64_t>(s.chunk_size);
  size_t total = 0;
  while (total < len && offset < s.plain_size) {
    const int64_t i = offset / chunk;
    if (s.cached != i) RETURN_IF_ERROR(s.LoadChunk(i));
    const auto within = static_cast<size_t>(offset - i * chunk);
    const size_t n = std::min(len - total, s.plain.size() - within);
    std::memcpy(buf + total, s.plain.data() + within, n);
    total += n;
    offset += static_cast<int64_t>(n);
  }
  return total;
}

}  // namespace exportd
