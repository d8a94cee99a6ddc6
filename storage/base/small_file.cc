#include "storage/base/small_file.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "storage/base/digest.h"
#include "storage/base/posix_error.h"

namespace exportd {
namespace {

void Cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

}  // namespace

Result<std::string> ReadSmallFile(const std::string& path, std::string_view what,
                                  const SmallFileReadOptions& options) {
  const std::string name = std::string(what) + " " + path;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open " + name, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return PosixError("stat " + name, errno);
  if (!S_ISREG(st.st_mode)) return FailedPrecondition(name + " is not a file");
  if (options.owner_only && (st.st_mode & 077) != 0) {
    return PermissionDenied(name +
                            " may be read by group or others: make it owner-only (chmod 600)");
  }
  std::string text;
  char buf[4096];
  Status status;
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      status = PosixError("read " + name, errno);
      break;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > options.max_bytes) {
      status =
          InvalidArgument(name + " is larger than " + std::to_string(options.max_bytes) + " bytes");
      break;
    }
  }
  if (options.wipe) OPENSSL_cleanse(buf, sizeof buf);
  if (!status.ok()) {
    if (options.wipe) Cleanse(text);
    return status;
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

Status CreateFileOnce(const std::string& path, std::string_view content, std::string_view what) {
  const std::string tmp = path + ".tmp-" + ToHex(RandomBytes(8));
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return PosixError("create " + std::string(what) + " " + tmp, errno);
  Status status = WriteFully(fd.get(), content, "write " + std::string(what) + " " + tmp);
  if (status.ok() && ::fsync(fd.get()) != 0) status = PosixError("fsync " + tmp, errno);
  if (status.ok()) status = fd.Close("close " + tmp);
  if (status.ok() && ::link(tmp.c_str(), path.c_str()) != 0) {
    status = PosixError("link " + std::string(what) + " " + path, errno);
  }
  ::unlink(tmp.c_str());
  RETURN_IF_ERROR(status);
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return SyncDirectory(dir.empty() ? "." : dir);
}

}  // namespace exportd
