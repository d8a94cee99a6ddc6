#include "storage/base/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string_view>

namespace exportd {
namespace {

// The pid the holder wrote, for the message; empty when the file says nothing useful.
std::string HolderPid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return "";
  std::string_view text(buf, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  for (char c : text) {
    if (c < '0' || c > '9') return "";
  }
  return std::string(text);
}

}  // namespace

Result<DataDirLock> DataDirLock::Acquire(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "exportd.lock").string();
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return PosixError("opening " + path, errno);
  int rc;
  do {
    rc = ::flock(fd.get(), LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno != EWOULDBLOCK) return PosixError("locking " + path, errno);
    const std::string pid = HolderPid(fd.get());
    return FailedPrecondition(
        std::string("data dir ")
            .append(dir)
            .append(" is in use by another exportd")
            .append(pid.empty() ? "" : " (pid " + pid + ")")
            .append(": on the SQLite task store one server runs per data dir; several instances "
                    "share a PostgreSQL task store, each with a data dir of its own"));
  }
  // The pid is only for the message above; the lock itself is what counts.
  const std::string text = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0) return PosixError("truncating " + path, errno);
  RETURN_IF_ERROR(WriteFully(fd.get(), text, path));
  return DataDirLock(std::move(fd));
}

}  // namespace exportd
