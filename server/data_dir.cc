#include "server/data_dir.h"

#include <sys/stat.h>

#include <filesystem>
#include <system_error>

namespace exportd {
namespace {

namespace fs = std::filesystem;

}  // namespace

std::string TaskDbPath(const Config& c) { return (fs::path(c.data_dir) / "exportd.db").string(); }
std::string ExportsRoot(const Config& c) { return (fs::path(c.data_dir) / "exports").string(); }

Status PrepareDataDir(const Config& config) {
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec) return Unavailable("cannot create data_dir " + config.data_dir + ": " + ec.message());
  if (::chmod(config.data_dir.c_str(), 0700) != 0) {
    return PermissionDenied("cannot restrict data_dir " + config.data_dir + " to mode 0700");
  }
  fs::create_directories(fs::path(config.data_dir) / "exports", ec);
  if (ec) return Unavailable("cannot create " + config.data_dir + "/exports: " + ec.message());
  return Status::Ok();
}

}  // namespace exportd
