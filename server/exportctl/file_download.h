// Downloading one file through a (pre-signed) URL into a directory: the bytes go to NAME.part,
// a partial NAME.part is resumed with Range, and NAME appears only once the whole file's
// SHA-256 and size equal what the task says.
#ifndef EXPORTD_SERVER_EXPORTCTL_FILE_DOWNLOAD_H_
#define EXPORTD_SERVER_EXPORTCTL_FILE_DOWNLOAD_H_

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"

namespace exportd::ctl {

struct FileToFetch {
  std::string url;   // absolute
  std::string name;  // relative path under the directory: "part-00001.csv" or "p/part-00001.csv"
  std::optional<std::string> sha256;  // lowercase hex; absent: not verified (the manifest)
  std::optional<int64_t> bytes;
};

struct FetchOutcome {
  bool already_there = false;  // NAME existed and verified: nothing was fetched
  int64_t resumed_from = 0;    // bytes of NAME.part kept and continued with Range (0: none)
  int64_t bytes = 0;           // the file's size
};

// A name the directory may hold: one or two components of [A-Za-z0-9._~-], none "." or "..",
// so that no name from a server writes outside the directory. kInvalidArgument otherwise.
Status CheckFileName(const std::string& name);

// Fetches `file` into `dir` (creating `dir` and the name's sub-directory). A NAME that already
// verifies is kept. On a checksum or size mismatch NAME.part is deleted, NAME is not touched,
// and the result is kDataLoss. Transport failures are kUnavailable (NAME.part is kept for the
// next run); HTTP errors as ResponseStatus.
Result<FetchOutcome> FetchFile(const FileToFetch& file, const std::string& dir);

// SHA-256 (lowercase hex) and size of a local file; nullopt when it cannot be read.
std::optional<std::pair<std::string, int64_t>> HashFile(const std::string& path);

}  // namespace exportd::ctl

#endif  // EXPORTD_SERVER_EXPORTCTL_FILE_DOWNLOAD_H_
