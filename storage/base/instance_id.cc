#include "storage/base/instance_id.h"

#include "storage/base/digest.h"
#include "storage/base/small_file.h"

namespace exportd {
namespace {

constexpr std::string_view kPrefix = "inst_";
constexpr size_t kRandomBytes = 8;

bool IsInstanceId(std::string_view s) {
  if (s.size() <= kPrefix.size() || s.size() > 64 || s.substr(0, kPrefix.size()) != kPrefix) {
    return false;
  }
  for (char c : s.substr(kPrefix.size())) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!ok) return false;
  }
  return true;
}

// kNotFound when the file does not exist.
Result<std::string> ReadId(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, "instance id file", {.max_bytes = 256}));
  if (!IsInstanceId(text)) {
    return FailedPrecondition("instance id file " + path + " does not hold an instance id");
  }
  return text;
}

}  // namespace

std::string NewInstanceId() { return std::string(kPrefix) + ToHex(RandomBytes(kRandomBytes)); }

Result<std::string> LoadOrCreateInstanceId(const std::string& path) {
  Result<std::string> existing = ReadId(path);
  if (existing.ok() || existing.status().code() != StatusCode::kNotFound) return existing;
  Status created = CreateFileOnce(path, NewInstanceId() + "\n", "instance id");
  // kAlreadyExists: another process created it first; use theirs.
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
  return ReadId(path);
}

}  // namespace exportd
