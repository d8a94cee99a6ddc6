// One running exportd per data dir when the task store is the data dir's SQLite file.
#ifndef EXPORTD_STORAGE_BASE_DATA_DIR_LOCK_H_
#define EXPORTD_STORAGE_BASE_DATA_DIR_LOCK_H_

#include <string>
#include <utility>

#include "core/status.h"
#include "storage/base/posix_error.h"

namespace exportd {

// An exclusive flock on DIR/exportd.lock, held until the object is destroyed (or the process
// ends, however it ends: the kernel drops the lock with the descriptor, so a kill -9 leaves
// nothing to clean up). A second server on the same data dir would share its instance id and
// "recover" the first one's running tasks; it is refused instead.
class DataDirLock {
 public:
  // kFailedPrecondition naming the holder's pid (as it wrote it into the file) when another
  // process holds the lock; a PosixError when the file cannot be opened.
  static Result<DataDirLock> Acquire(const std::string& dir);

  DataDirLock(DataDirLock&&) noexcept = default;
  DataDirLock& operator=(DataDirLock&&) noexcept = default;

 private:
  explicit DataDirLock(UniqueFd fd) : fd_(std::move(fd)) {}

  UniqueFd fd_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_BASE_DATA_DIR_LOCK_H_
