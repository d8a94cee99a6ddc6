// The one translation of errno into Status, and the small POSIX helpers storage/ shares.
#ifndef EXPORTD_STORAGE_BASE_POSIX_ERROR_H_
#define EXPORTD_STORAGE_BASE_POSIX_ERROR_H_

#include <string>
#include <string_view>

#include "core/status.h"

namespace exportd {

// "context: <strerror>" with a code chosen by what the caller should do next:
//   ENOSPC, EDQUOT, EIO, EAGAIN, EINTR, EBUSY, ETIMEDOUT, EMFILE, ENFILE, ENOMEM -> kUnavailable
//   ENOENT -> kNotFound;  EACCES, EPERM -> kPermissionDenied;  EEXIST -> kAlreadyExists
//   anything else -> kInternal
Status PosixError(std::string_view context, int err);

// Owns one file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  // Closes now and reports the error close() returned (which, after writes, may be the first
  // sign of a failed write-back). The descriptor is gone either way.
  Status Close(std::string_view context);

 private:
  int fd_ = -1;
};

// Writes all of `data`, retrying on EINTR and short writes.
Status WriteFully(int fd, std::string_view data, std::string_view context);

// fsync() of a directory, so that a rename or a new entry in it survives a crash.
Status SyncDirectory(const std::string& dir);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_BASE_POSIX_ERROR_H_
