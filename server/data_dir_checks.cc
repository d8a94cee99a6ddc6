#include "server/data_dir_checks.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "core/clock.h"
#include "core/time_format.h"
#include "server/data_dir.h"
#include "server/object_store_factory.h"
#include "storage/crypto/envelope_cipher.h"
#include "storage/fs/local_object_store.h"

namespace exportd {
namespace {

namespace fs = std::filesystem;

// The task directories directly under the local store's root: how many, and the first one seen.
struct TaskDirectories {
  size_t count = 0;
  std::string example;
};

TaskDirectories FindTaskDirectories(const fs::path& root) {
  TaskDirectories found;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_directory(type_ec)) continue;
    const std::string name = it->path().filename().string();
    if (!ValidateTaskId(name).ok()) continue;
    if (found.count++ == 0) found.example = name;
  }
  return found;
}

bool StartsWithEnvelopeMagic(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(kEnvelopeMagic.size(), '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  return in.gcount() == static_cast<std::streamsize>(head.size()) && head == kEnvelopeMagic;
}

// The first file under the task directories of `root` that is encrypted at rest, or "". One file
// per directory is read (a task's files are all written with the setting of their export), so
// a large plaintext store costs one small read per task at start.
std::string FindEncryptedFile(const fs::path& root) {
  std::error_code ec;
  for (fs::directory_iterator dirs(root, ec), end; !ec && dirs != end; dirs.increment(ec)) {
    std::error_code type_ec;
    if (!dirs->is_directory(type_ec) || !ValidateTaskId(dirs->path().filename().string()).ok()) {
      continue;
    }
    std::error_code files_ec;
    for (fs::directory_iterator files(dirs->path(), files_ec); !files_ec && files != end;
         files.increment(files_ec)) {
      if (!files->is_regular_file(type_ec)) continue;
      if (StartsWithEnvelopeMagic(files->path())) return files->path().string();
      break;
    }
  }
  return "";
}

// "20261207T014512Z": sorts by time and is safe in a file name.
std::string CompactUtcNow() {
  std::string t = FormatRfc3339Seconds(SystemClock().Now());  // 2026-12-07T01:45:12Z
  std::string out;
  for (char c : t) {
    if (c != '-' && c != ':') out += c;
  }
  return out;
}

}  // namespace

bool StoreFileIsEmpty(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec || size == 0;  // missing (or unreadable: opening it will say why) or zero bytes
}

Result<bool> StoreHoldsNoTask(TaskRecords& tasks) {
  ASSIGN_OR_RETURN(const auto counts, tasks.CountByState());
  for (const auto& [state, count] : counts) {
    if (count > 0) return false;
  }
  return true;
}

Status CheckStoreAgainstFiles(const Config& config, bool store_empty) {
  if (!store_empty || config.storage_type != "local") return Status::Ok();
  const fs::path root = ExportsRoot(config);
  const TaskDirectories dirs = FindTaskDirectories(root);
  if (dirs.count == 0) return Status::Ok();
  const std::string db = TaskDbPath(config);
  if (!config.accept_empty_store) {
    return FailedPrecondition(
        "the task store " + db + " is empty or missing, but " + root.string() + " holds " +
        std::to_string(dirs.count) + " task director" + (dirs.count == 1 ? "y" : "ies") +
        " (e.g. " + dirs.example +
        "): the store was lost or replaced, and starting would lose every API key and task "
        "record and orphan those files. To recover, stop here and restore the task store from "
        "a backup (exportd backup; see docs/backup.md: copy the backup to " +
        db + " and remove any " + db + "-wal and " + db +
        "-shm). To start with an empty store anyway, run once with `exportd serve "
        "--accept-empty-store`: the files are moved aside to " +
        root.string() + ".orphaned-<time>, not deleted");
  }
  const fs::path aside = root.string() + ".orphaned-" + CompactUtcNow();
  std::error_code ec;
  fs::rename(root, aside, ec);
  if (ec) {
    return Unavailable("--accept-empty-store: cannot move " + root.string() + " to " +
                       aside.string() + ": " + ec.message());
  }
  fs::create_directories(root, ec);
  if (ec) return Unavailable("cannot create " + root.string() + ": " + ec.message());
  spdlog::warn(
      "--accept-empty-store: the task store {} was empty; the {} task directories "
      "of {} were moved to {} (delete them when they are no longer needed)",
      db, dirs.count, root.string(), aside.string());
  return Status::Ok();
}

Status CheckMasterKeyAgainstFiles(const Config& config) {
  const EncryptionConfig& e = config.encryption;
  if (config.storage_type != "local" || !e.env_keys.empty() || !e.key_file.empty()) {
    return Status::Ok();
  }
  const std::string key_file = DefaultMasterKeyFile(config);
  std::error_code ec;
  if (fs::exists(key_file, ec) || ec) return Status::Ok();  // unreadable: loading it says why
  const fs::path root = ExportsRoot(config);
  const std::string encrypted = FindEncryptedFile(root);
  if (encrypted.empty()) return Status::Ok();
  return FailedPrecondition(
      "encryption: the master key file " + key_file + " is missing, but " + root.string() +
      " holds files encrypted at rest (e.g. " + encrypted +
      "): a new key could not read them. Restore the key file from your backup (mode 0600), or "
      "point encryption.key_file or EXPORTD_MASTER_KEY at the key. To give those files up "
      "instead, move " +
      root.string() + " aside (and start with a new key)");
}

}  // namespace exportd
