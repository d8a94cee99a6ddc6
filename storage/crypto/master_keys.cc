#include "storage/crypto/master_keys.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "storage/base/base64.h"
#include "storage/base/digest.h"
#include "storage/base/small_file.h"
#include "storage/crypto/wipe_secret.h"

namespace exportd {
namespace {

constexpr size_t kMaxKeyFileBytes = 1 << 20;

// A string wiped before it is freed (file text holding keys).
struct WipedString {
  std::string text;
  ~WipedString() { WipeSecret(text); }
};

bool IsSeparator(char c) { return c == '\n' || c == '\r' || c == ',' || c == ' ' || c == '\t'; }

Result<std::string> ReadKeyFile(const std::string& path) {
  return ReadSmallFile(path, "master key file",
                       {.max_bytes = kMaxKeyFileBytes, .owner_only = true, .wipe = true});
}

// Two processes starting at once end up with the same key: CreateFileOnce never replaces.
Status CreateKeyFile(const std::string& path) {
  WipedString content{
      "# exportd master keys: \"id:base64(32 bytes)\" per line; the last one (or active_key_id)\n"
      "# wraps new files, every one listed can read. Keep a copy: files cannot be read without "
      "it.\n" +
      MasterKeyRing::NewEntry("auto-" + ToHex(RandomBytes(4))) + "\n"};
  return CreateFileOnce(path, content.text, "master key file");
}

}  // namespace

Status ValidateMasterKeyId(std::string_view id) {
  const auto allowed = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  };
  if (id.empty() || id.size() > 64 || !std::all_of(id.begin(), id.end(), allowed)) {
    return InvalidArgument("master key id '" + std::string(id.substr(0, 64)) +
                           "' must be 1 to 64 of [A-Za-z0-9._-]");
  }
  return Status::Ok();
}

MasterKeyRing::~MasterKeyRing() {
  for (auto& [id, key] : keys_) WipeSecret(key);
}

Result<MasterKeyRing> MasterKeyRing::Parse(std::string_view text, std::string_view active_id,
                                           std::string_view source) {
  MasterKeyRing ring;
  std::string last_id;
  int line_number = 0;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_number;
    const size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string_view::npos || line[start] == '#') continue;
    line.remove_prefix(start);
    while (!line.empty()) {
      const auto end = std::find_if(line.begin(), line.end(), IsSeparator);
      const std::string_view entry(line.data(), static_cast<size_t>(end - line.begin()));
      line.remove_prefix(entry.size());
      while (!line.empty() && IsSeparator(line.front())) line.remove_prefix(1);
      if (entry.empty()) continue;
      const std::string where = std::string(source) + " line " + std::to_string(line_number);
      const size_t colon = entry.find(':');
      if (colon == std::string_view::npos) {
        return InvalidArgument(where + ": an entry must be \"id:base64 key\"");
      }
      const std::string_view id = entry.substr(0, colon);
      if (Status valid = ValidateMasterKeyId(id); !valid.ok()) {
        return InvalidArgument(where + ": " + valid.message());
      }
      Result<std::string> decoded = Base64Decode(entry.substr(colon + 1));
      if (!decoded.ok()) {
        return InvalidArgument(where + ": the key of '" + std::string(id) +
                               "' is not valid base64");
      }
      std::string key = std::move(*decoded);
      if (key.size() != kMasterKeyBytes) {
        const size_t size = key.size();
        WipeSecret(key);
        return InvalidArgument(where + ": the key of '" + std::string(id) + "' is " +
                               std::to_string(size) + " bytes; AES-256 needs 32 (e.g. " +
                               "openssl rand -base64 32)");
      }
      if (ring.keys_.count(id) != 0) {
        WipeSecret(key);
        return InvalidArgument(where + ": master key id '" + std::string(id) + "' is listed twice");
      }
      ring.keys_.emplace(std::string(id), std::move(key));
      last_id = std::string(id);
    }
  }
  if (ring.keys_.empty()) return InvalidArgument(std::string(source) + " holds no master key");
  ring.active_id_ = active_id.empty() ? last_id : std::string(active_id);
  if (ring.keys_.count(ring.active_id_) == 0) {
    std::string known;
    for (const std::string& id : ring.ids()) known += (known.empty() ? "" : ", ") + id;
    return InvalidArgument("active master key id '" + ring.active_id_ + "' is not in " +
                           std::string(source) + " (it holds " + known + ")");
  }
  return ring;
}

Result<MasterKeyRing> MasterKeyRing::LoadFile(const std::string& path, std::string_view active_id) {
  ASSIGN_OR_RETURN(std::string text, ReadKeyFile(path));
  WipedString wiped{std::move(text)};
  return Parse(wiped.text, active_id, "master key file " + path);
}

Result<MasterKeyRing> MasterKeyRing::LoadOrCreateFile(const std::string& path,
                                                      std::string_view active_id, bool* created) {
  *created = false;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    Status made = CreateKeyFile(path);
    // kAlreadyExists: another process created it first; use theirs.
    if (!made.ok() && made.code() != StatusCode::kAlreadyExists) return made;
    *created = made.ok();
  }
  return LoadFile(path, active_id);
}

std::string MasterKeyRing::NewEntry(std::string_view id) {
  WipedString key{RandomBytes(kMasterKeyBytes)};
  return std::string(id) + ":" + Base64Encode(key.text);
}

const std::string* MasterKeyRing::Find(std::string_view id) const {
  const auto it = keys_.find(id);
  return it == keys_.end() ? nullptr : &it->second;
}

std::vector<std::string> MasterKeyRing::ids() const {
  std::vector<std::string> out;
  for (const auto& [id, key] : keys_) out.push_back(id);
  return out;
}

}  // namespace exportd
