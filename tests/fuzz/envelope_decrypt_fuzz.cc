// Decryption of export files at rest (storage/crypto/envelope_cipher.h) through the
// EncryptingObjectStore (encrypting_object_store.h) over an inner store in memory, with a fixed
// test key ring. Two properties on every input:
//
// 1. The whole input, as a stored object, is refused cleanly or read authentically: Open fails
//    with kDataLoss (kInternal only when the header names a key id the ring lacks), or reading
//    it fails with kDataLoss, or it reads back size() bytes, the same at any offset. A stored
//    object read back in full must be an authentic envelope, so then every single-byte change
//    to it is refused too (nothing in the file escapes authentication). The seed corpus holds
//    real envelopes under the test keys, so that mutations reach the chunks.
//
// 2. Round trip: input[3, end) as plaintext is written through the store (gzip -> digest ->
//    envelope writer), read back unchanged and described by Commit()'s ObjectInfo; then one
//    byte of the stored envelope is flipped (at an offset the input chooses, and at a few fixed
//    places of the header and the last tag) and the object must be refused, the bytes served
//    before the refusal being the plaintext's own. input[0] chooses the chunk size, gzip, the
//    size of the writes and the flip mask; input[1, 3) the flipped offset.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/object_store.h"
#include "core/status.h"
#include "storage/base/digest.h"
#include "storage/base/gzip_decoder.h"
#include "storage/crypto/encrypting_object_store.h"
#include "storage/crypto/envelope_cipher.h"
#include "storage/crypto/master_keys.h"
#include "tests/fakes/memory_object.h"
#include "tests/fuzz/fuzz_fail.h"

namespace {

using exportd::ObjectInfo;
using exportd::ObjectOptions;
using exportd::ObjectReader;
using exportd::ObjectWriter;
using exportd::Result;
using exportd::Status;
using exportd::StatusCode;

using exportd::fuzz::Fail;

constexpr char kTask[] = "01FUZZ";
constexpr char kName[] = "part-0001.csv";

// The fixed test ring: an old key and the active one. The seed corpus was encrypted under them.
const exportd::MasterKeyRing& Keys() {
  static const auto* keys = [] {
    Result<exportd::MasterKeyRing> ring = exportd::MasterKeyRing::Parse(
        "fuzz-old:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        "fuzz-k1:QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=\n",
        "fuzz-k1", "the fuzzer's test keys");
    if (!ring.ok()) Fail("the test ring parses", ring.status().ToString());
    return new exportd::MasterKeyRing(std::move(ring).value());
  }();
  return *keys;
}

std::shared_ptr<const exportd::MasterKeyRing> SharedKeys() {
  // The ring lives as long as the process; the store only borrows it.
  return std::shared_ptr<const exportd::MasterKeyRing>(&Keys(),
                                                       [](const exportd::MasterKeyRing*) {});
}

// The inner store: objects in memory, visible once committed.
class MemoryStore final : public exportd::ObjectStore {
 public:
  Result<std::unique_ptr<ObjectWriter>> Create(std::string_view task_id, std::string_view name,
                                               const ObjectOptions& options) override {
    if (options.gzip) Fail("the inner store is never asked to gzip ciphertext", kName);
    auto [writer, object] = exportd::fakes::NewRecording();
    objects_[Key(task_id, name)] = std::move(object);
    return std::move(writer);
  }

  Result<std::unique_ptr<ObjectReader>> Open(std::string_view task_id,
                                             std::string_view name) override {
    const auto it = objects_.find(Key(task_id, name));
    if (it == objects_.end() || !it->second->published) return exportd::NotFound("no object");
    return std::unique_ptr<ObjectReader>(
        std::make_unique<exportd::fakes::StringReader>(it->second->data));
  }

  Status DeleteAll(std::string_view task_id) override {
    std::erase_if(objects_, [prefix = Key(task_id, "")](const auto& entry) {
      return entry.first.starts_with(prefix);
    });
    return Status::Ok();
  }

  Result<std::string> DownloadUrl(std::string_view task_id, std::string_view name,
                                  exportd::TimePoint expires_at) override {
    (void)expires_at;
    return "memory://" + Key(task_id, name);
  }

  // Stores `bytes` as a committed object, as a disk or a bucket would hold them.
  void Put(std::string_view name, std::string bytes) {
    auto object = std::make_shared<exportd::fakes::RecordedObject>();
    object->data = std::move(bytes);
    object->published = true;
    objects_[Key(kTask, name)] = std::move(object);
  }

  // The stored bytes of a committed object, or nullptr.
  const std::string* Stored(std::string_view name) const {
    const auto it = objects_.find(Key(kTask, name));
    return it == objects_.end() || !it->second->published ? nullptr : &it->second->data;
  }

 private:
  static std::string Key(std::string_view task_id, std::string_view name) {
    return std::string(task_id) + "/" + std::string(name);
  }

  std::map<std::string, std::shared_ptr<exportd::fakes::RecordedObject>> objects_;
};

// An EncryptingObjectStore over a MemoryStore, with a handle on the inner one.
struct Stores {
  explicit Stores(size_t chunk_size) {
    auto memory_store = std::make_unique<MemoryStore>();
    memory = memory_store.get();
    exportd::EncryptionOptions options;
    options.chunk_size = chunk_size;
    encrypting = std::make_unique<exportd::EncryptingObjectStore>(std::move(memory_store),
                                                                  SharedKeys(), options);
  }

  MemoryStore* memory;  // owned by `encrypting`
  std::unique_ptr<exportd::EncryptingObjectStore> encrypting;
};

// Whether `stored` is an envelope header naming a well-formed key id that the ring lacks: the
// one refusal that is kInternal (the operator must add the key back), not kDataLoss.
bool NamesUnknownKey(std::string_view stored) {
  if (stored.substr(0, exportd::kEnvelopeMagic.size()) != exportd::kEnvelopeMagic) return false;
  if (stored.size() < 14) return false;
  const std::string_view id = stored.substr(14, static_cast<unsigned char>(stored[9]));
  if (id.size() != static_cast<unsigned char>(stored[9])) return false;
  return exportd::ValidateMasterKeyId(id).ok() && Keys().Find(id) == nullptr;
}

void CheckRefusal(const Status& status, std::string_view stored, const std::string& context) {
  if (status.code() == StatusCode::kDataLoss) return;
  if (status.code() == StatusCode::kInternal && NamesUnknownKey(stored)) return;
  Fail("a damaged envelope is kDataLoss (kInternal for an unknown key id)",
       context + "\n" + status.ToString());
}

// What reading a stored object gave: the plaintext served before the first error, and the error.
struct Served {
  std::string bytes;
  Status status;
};

// Opens `kName` and reads it from the start in reads of `piece` bytes up to its end.
Served ReadAll(exportd::ObjectStore& store, size_t piece) {
  Served out;
  Result<std::unique_ptr<ObjectReader>> reader = store.Open(kTask, kName);
  if (!reader.ok()) {
    out.status = reader.status();
    return out;
  }
  const int64_t size = (*reader)->size();
  if (size < 0) Fail("size() is not negative", std::to_string(size));
  std::string buf(piece, '\0');
  for (;;) {
    Result<size_t> n =
        (*reader)->ReadAt(static_cast<int64_t>(out.bytes.size()), buf.data(), buf.size());
    if (!n.ok()) {
      out.status = n.status();
      return out;
    }
    if (*n == 0) break;
    if (*n > piece) Fail("a read returns at most what was asked", std::to_string(*n));
    out.bytes.append(buf.data(), *n);
  }
  if (out.bytes.size() != static_cast<size_t>(size)) {
    Fail("a reader serves size() bytes",
         std::to_string(out.bytes.size()) + " of " + std::to_string(size));
  }
  return out;
}

// Reads `len` bytes at `offset` of `kName` with a fresh reader (so no chunk is cached).
std::string ReadRange(exportd::ObjectStore& store, int64_t offset, size_t len) {
  Result<std::unique_ptr<ObjectReader>> reader = store.Open(kTask, kName);
  if (!reader.ok()) Fail("an object that opened once opens again", reader.status().ToString());
  std::string out(len, '\0');
  size_t got = 0;
  while (got < len) {
    Result<size_t> n =
        (*reader)->ReadAt(offset + static_cast<int64_t>(got), out.data() + got, len - got);
    if (!n.ok()) Fail("an object that read once reads again", n.status().ToString());
    if (*n == 0) break;
    got += *n;
  }
  out.resize(got);
  return out;
}

// `stored` with the byte at `at` XORed with `mask` (not 0) must be refused, serving before the
// refusal nothing but a prefix of `served` (the plaintext of the intact object).
void ExpectFlipRefused(Stores& stores, const std::string& stored, size_t at, unsigned char mask,
                       const std::string& served) {
  std::string flipped = stored;
  flipped[at] = static_cast<char>(static_cast<unsigned char>(flipped[at]) ^ mask);
  stores.memory->Put(kName, flipped);
  const Served got = ReadAll(*stores.encrypting, 4096);
  const std::string context = "byte " + std::to_string(at) + " of " +
                              std::to_string(stored.size()) + " flipped with " +
                              std::to_string(mask);
  if (got.status.ok()) Fail("a flipped byte is refused", context);
  CheckRefusal(got.status, flipped, context);
  if (served.compare(0, got.bytes.size(), got.bytes) != 0) {
    Fail("only authenticated plaintext is served", context);
  }
}

// Property 1.
void ReadStoredInput(std::string_view input) {
  Stores stores(0);
  stores.memory->Put(kName, std::string(input));
  const Served got = ReadAll(*stores.encrypting, 13);
  if (!got.status.ok()) {
    CheckRefusal(got.status, input, "the input as a stored object");
    return;
  }
  // An authentic envelope (the ring's keys made it): the same bytes at any offset, and not a
  // byte of it unauthenticated.
  const size_t size = got.bytes.size();
  if (ReadRange(*stores.encrypting, static_cast<int64_t>(size / 3), 21) !=
      got.bytes.substr(size / 3, 21)) {
    Fail("a read at an offset serves the same bytes", std::to_string(size / 3));
  }
  if (ReadRange(*stores.encrypting, static_cast<int64_t>(size) + 5, 8) != "") {
    Fail("a read past the end serves nothing", std::to_string(size));
  }
  const std::string stored(input);
  for (size_t at = 0; at < stored.size(); ++at) {
    ExpectFlipRefused(stores, stored, at, 0x01, got.bytes);
  }
}

// Property 2.
void RoundTrip(const uint8_t* data, size_t size) {
  if (size < 3) return;
  const uint8_t control = data[0];
  static constexpr size_t kChunkSizes[] = {
      exportd::kEnvelopeMinChunkSize, 17, 31, 64, 100, 256, 1000, exportd::kEnvelopeChunkSize};
  static constexpr size_t kPieces[] = {1, 7, 64, SIZE_MAX};
  static constexpr unsigned char kMasks[] = {0x01, 0x80, 0xFF, 0x10};
  const size_t chunk_size = kChunkSizes[control & 7];
  const bool gzip = (control & 8) != 0;
  const size_t piece = kPieces[(control >> 4) & 3];
  const unsigned char mask = kMasks[control >> 6];
  const size_t flip_at = size_t{data[1]} << 8 | data[2];
  const std::string_view plain(reinterpret_cast<const char*>(data + 3), size - 3);

  Stores stores(chunk_size);
  Result<std::unique_ptr<ObjectWriter>> writer =
      stores.encrypting->Create(kTask, kName, {.content_type = "text/csv", .gzip = gzip});
  if (!writer.ok()) Fail("the store creates a writer", writer.status().ToString());
  for (size_t i = 0; i < plain.size(); i += piece) {
    if (Status s = (*writer)->Write(plain.substr(i, piece)); !s.ok()) {
      Fail("the writer takes plaintext", s.ToString());
    }
  }
  Result<ObjectInfo> info = (*writer)->Commit();
  if (!info.ok()) Fail("the writer commits", info.status().ToString());
  writer->reset();

  const Served got = ReadAll(*stores.encrypting, 1 + plain.size() % 97);
  if (!got.status.ok()) Fail("what was written reads back", got.status.ToString());
  if (gzip) {
    Result<std::string> inflated = exportd::GunzipAll(got.bytes);
    if (!inflated.ok()) Fail("a gzipped object is one gzip stream", inflated.status().ToString());
    if (*inflated != plain) Fail("the plaintext comes back unchanged (gzipped)", "");
  } else if (got.bytes != plain) {
    Fail("the plaintext comes back unchanged", "");
  }
  if (info->bytes != static_cast<int64_t>(got.bytes.size()) ||
      info->sha256 != exportd::Sha256Hex(got.bytes)) {
    Fail("Commit() describes what Open serves", std::to_string(info->bytes));
  }

  const std::string* stored_ptr = stores.memory->Stored(kName);
  if (stored_ptr == nullptr) Fail("the inner store holds the committed object", kName);
  const std::string stored = *stored_ptr;
  const size_t header_size = 74 + Keys().active_id().size();
  if (static_cast<int64_t>(stored.size()) !=
      exportd::EnvelopeStoredSize(static_cast<int64_t>(got.bytes.size()), header_size,
                                  chunk_size)) {
    Fail("the stored size follows from the plaintext size", std::to_string(stored.size()));
  }
  if (got.bytes.size() >= 16 && stored.find(got.bytes) != std::string::npos) {
    Fail("the inner store never sees the plaintext", "");
  }

  for (const size_t at : {flip_at % stored.size(), size_t{0}, size_t{9}, size_t{13},
                          header_size - 1, header_size, stored.size() - 1}) {
    ExpectFlipRefused(stores, stored, at, mask, got.bytes);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ReadStoredInput(std::string_view(reinterpret_cast<const char*>(data), size));
  RoundTrip(data, size);
  return 0;
}
