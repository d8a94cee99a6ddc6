// The web dashboard's static files, compiled into the binary from api/dashboard/ (see
// cmake/embed_dashboard.cmake). Served without credentials: they hold no data, the page asks for
// an API key and calls /v1 with it.
#ifndef EXPORTD_API_STATIC_FILES_H_
#define EXPORTD_API_STATIC_FILES_H_

#include <span>
#include <string_view>

namespace exportd::api {

struct StaticFile {
  std::string_view path;          // relative to api/dashboard/, e.g. "index.html", "ui/app.js"
  std::string_view content_type;  // with charset for text
  std::string_view body;
  std::string_view etag;  // strong, quoted: "\"0123456789abcdef\""
};

// Every embedded file, sorted by path; static storage, valid for the life of the program.
std::span<const StaticFile> DashboardFiles();

// The file at `path` (relative, as in StaticFile::path), or nullptr.
const StaticFile* FindDashboardFile(std::string_view path);

}  // namespace exportd::api

#endif  // EXPORTD_API_STATIC_FILES_H_
