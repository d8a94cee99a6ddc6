#include "storage/base/instance_id.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "storage/base/digest.h"
#include "storage/base/posix_error.h"

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
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open instance id " + path, errno);
  std::string text;
  char buf[128];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("read instance id " + path, errno);
    }
    if (n == 0 || text.size() > 256) break;
    text.append(buf, static_cast<size_t>(n));
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  if (!IsInstanceId(text)) {
    return FailedPrecondition("instance id file " + path + " does not hold an instance id");
  }
  return text;
}

// Written to a temporary file and linked into place: link() never replaces an existing file,
// and readers never see half an id.
Status CreateId(const std::string& path) {
  const std::string tmp = path + ".tmp-" + ToHex(RandomBytes(8));
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return PosixError("create instance id " + tmp, errno);
  Status status =
      WriteFully(fd.get(), std::string(kPrefix) + ToHex(RandomBytes(kRandomBytes)) + "\n",
                 "write instance id");
  if (status.ok() && ::fsync(fd.get()) != 0) status = PosixError("fsync " + tmp, errno);
  if (status.ok()) status = fd.Close("close " + tmp);
  if (status.ok() && ::link(tmp.c_str(), path.c_str()) != 0) {
    status = PosixError("link instance id " + path, errno);
  }
  ::unlink(tmp.c_str());
  RETURN_IF_ERROR(status);
  std::string dir = std::filesystem::path(path).parent_path().string();
  return SyncDirectory(dir.empty() ? "." : dir);
}

}  // namespace

Result<std::string> LoadOrCreateInstanceId(const std::string& path) {
  Result<std::string> existing = ReadId(path);
  if (existing.ok() || existing.status().code() != StatusCode::kNotFound) return existing;
  Status created = CreateId(path);
  // kAlreadyExists: another process created it first; use theirs.
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
  return ReadId(path);
}

}  // namespace exportd
