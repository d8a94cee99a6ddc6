// Small files exportd creates once and reads at every start: the URL-signing secret, the master
// key ring, the instance id. One way to write them (all or nothing, durable, never replacing
// another process's file) and one way to read them.
#ifndef EXPORTD_STORAGE_BASE_SMALL_FILE_H_
#define EXPORTD_STORAGE_BASE_SMALL_FILE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace exportd {

struct SmallFileReadOptions {
  // Past this many bytes the file is refused (kInvalidArgument) rather than read.
  size_t max_bytes = 4096;
  // kPermissionDenied when group or others may read the file (a secret left readable).
  bool owner_only = false;
  // Cleanse every buffer the contents passed through (the result is the caller's to wipe).
  bool wipe = false;
};

// The whole file, its trailing blanks and line ends removed. A missing file is kNotFound (as
// PosixError maps ENOENT); a directory or other non-file is kFailedPrecondition. `what` names
// the file in messages ("secret", "master key file").
Result<std::string> ReadSmallFile(const std::string& path, std::string_view what,
                                  const SmallFileReadOptions& options = {});

// Creates `path` holding `content`, mode 0600: written to a private temporary file, fsynced,
// linked into place, and the directory fsynced. Readers never see half a file, and link() never
// replaces an existing one: kAlreadyExists means another process created it first (read theirs).
Status CreateFileOnce(const std::string& path, std::string_view content, std::string_view what);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_BASE_SMALL_FILE_H_
