#include "tests/integration/stored_files.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "storage/crypto/encrypting_object_store.h"
#include "storage/crypto/envelope_cipher.h"
#include "storage/crypto/master_keys.h"
#include "storage/fs/local_object_store.h"
#include "storage/fs/url_signer.h"

namespace exportd::itest {

std::string ReadStoredExportFile(const std::string& data_dir, const std::string& id,
                                 const std::string& name) {
  std::shared_ptr<const MasterKeyRing> keys;
  Result<MasterKeyRing> ring = MasterKeyRing::LoadFile(data_dir + "/master_keys", "");
  if (ring.ok()) keys = std::make_shared<const MasterKeyRing>(std::move(ring).value());
  EncryptingObjectStore store(
      std::make_unique<LocalObjectStore>(data_dir + "/exports",
                                         std::make_shared<const UrlSigner>(std::string()), ""),
      keys, {.encrypt_new_objects = false, .read_plaintext = true});
  Result<std::unique_ptr<ObjectReader>> reader = store.Open(id, name);
  if (!reader.ok()) {
    ADD_FAILURE() << "cannot open stored " << id << "/" << name << ": "
                  << reader.status().ToString();
    return "";
  }
  std::string out(static_cast<size_t>((*reader)->size()), '\0');
  size_t got = 0;
  while (got < out.size()) {
    Result<size_t> n =
        (*reader)->ReadAt(static_cast<int64_t>(got), out.data() + got, out.size() - got);
    if (!n.ok()) {
      ADD_FAILURE() << "cannot read stored " << id << "/" << name << ": " << n.status().ToString();
      return "";
    }
    if (*n == 0) break;
    got += *n;
  }
  out.resize(got);
  return out;
}

std::string StoredKeyId(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  if (bytes.size() < 14 || bytes.compare(0, kEnvelopeMagic.size(), kEnvelopeMagic) != 0) return "";
  return bytes.substr(14, static_cast<unsigned char>(bytes[9]));
}

}  // namespace exportd::itest
