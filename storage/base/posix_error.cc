#include "storage/base/posix_error.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace exportd {

Status PosixError(std::string_view context, int err) {
  StatusCode code = StatusCode::kInternal;
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EIO:
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINTR:
    case EBUSY:
    case ETIMEDOUT:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      code = StatusCode::kUnavailable;
      break;
    case ENOENT:
      code = StatusCode::kNotFound;
      break;
    case EACCES:
    case EPERM:
      code = StatusCode::kPermissionDenied;
      break;
    case EEXIST:
      code = StatusCode::kAlreadyExists;
      break;
    default:
      break;
  }
  std::string message(context);
  message += ": ";
  message += std::system_category().message(err);
  return Status(code, std::move(message));
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.Release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::Release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

Status UniqueFd::Close(std::string_view context) {
  if (fd_ < 0) return Status::Ok();
  // Linux releases the descriptor even when close() fails, so it is never retried.
  const int rc = ::close(Release());
  if (rc != 0 && errno != EINTR) return PosixError(context, errno);
  return Status::Ok();
}

Status WriteFully(int fd, std::string_view data, std::string_view context) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError(context, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status SyncDirectory(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open directory " + dir, errno);
  if (::fsync(fd.get()) != 0) return PosixError("fsync directory " + dir, errno);
  return fd.Close("close directory " + dir);
}

}  // namespace exportd
