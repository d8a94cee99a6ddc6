#include "storage/fs/local_object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <memory>
#include <system_error>

#include "core/partition_name.h"
#include "core/time_format.h"
#include "storage/base/digest.h"
#include "storage/base/object_writer_pipeline.h"
#include "storage/base/posix_error.h"

namespace exportd {
namespace {

// Writes smaller than kDirectWrite are gathered into blocks of up to kWriteBlock bytes; larger
// ones go straight to the file.
constexpr size_t kWriteBlock = size_t{1} << 20;
constexpr size_t kDirectWrite = size_t{64} << 10;
// The kernel is asked to start writing a file's data back every this many bytes, so that the
// fsync of Commit() finds little left to write. Without it an 823 MB file was written back only
// by that fsync: about a second of an export spent waiting on the disk with the CPUs idle.
constexpr int64_t kWritebackChunk = int64_t{8} << 20;

std::string JoinPath(std::string_view a, std::string_view b) {
  std::string out(a);
  out.push_back('/');
  out.append(b);
  return out;
}

// The backend of the pipeline (storage/base/object_writer_pipeline.h): streams the bytes it is
// given into its temporary file and Commit() publishes them. REQUIRES: the calling rules of
// GuardedWriter.
class LocalFileWriter final : public ObjectWriter {
 public:
  LocalFileWriter(std::string dir, std::string final_path, std::string temp_path, UniqueFd fd)
      : dir_(std::move(dir)),
        final_path_(std::move(final_path)),
        temp_path_(std::move(temp_path)),
        fd_(std::move(fd)) {
    buffer_.reserve(kWriteBlock);
  }

  ~LocalFileWriter() override {
    if (!committed_) {
      fd_ = UniqueFd();
      ::unlink(temp_path_.c_str());
    }
  }

  LocalFileWriter(const LocalFileWriter&) = delete;
  LocalFileWriter& operator=(const LocalFileWriter&) = delete;

  // Small pieces are gathered into blocks; a piece of kDirectWrite bytes or more (the part
  // formatter's blocks, the compressor's output, the encryptor's sealed chunks) goes to the
  // file as it is, since copying it would cost more than the system call it saves.
  Status Write(std::string_view data) override {
    bytes_ += static_cast<int64_t>(data.size());
    if (data.size() >= kDirectWrite) {
      RETURN_IF_ERROR(FlushBuffer());
      return WriteOut(data);
    }
    if (buffer_.size() + data.size() > kWriteBlock) RETURN_IF_ERROR(FlushBuffer());
    buffer_.append(data);
    return Status::Ok();
  }

  // Flush, fsync, close, rename over the final name, fsync of the directory. The sha256 is left
  // to a DigestWriter above.
  Result<ObjectInfo> Commit() override {
    RETURN_IF_ERROR(FlushBuffer());
    if (::fsync(fd_.get()) != 0) return PosixError("fsync " + temp_path_, errno);
    RETURN_IF_ERROR(fd_.Close("close " + temp_path_));
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      return PosixError("rename to " + final_path_, errno);
    }
    committed_ = true;
    RETURN_IF_ERROR(SyncDirectory(dir_));
    return ObjectInfo{.bytes = bytes_, .sha256 = std::string()};
  }

 private:
  Status FlushBuffer() {
    if (buffer_.empty()) return Status::Ok();
    RETURN_IF_ERROR(WriteOut(buffer_));
    buffer_.clear();
    return Status::Ok();
  }

  Status WriteOut(std::string_view data) {
    RETURN_IF_ERROR(WriteFully(fd_.get(), data, "write " + temp_path_));
    written_ += static_cast<int64_t>(data.size());
    if (written_ - writeback_from_ >= kWritebackChunk) {
      // Starts the write-back without waiting for it. Advice only: a failure to write shows in
      // the fsync of Commit(), which every object goes through.
      (void)::sync_file_range(fd_.get(), writeback_from_, written_ - writeback_from_,
                              SYNC_FILE_RANGE_WRITE);
      writeback_from_ = written_;
    }
    return Status::Ok();
  }

  const std::string dir_;
  const std::string final_path_;
  const std::string temp_path_;
  UniqueFd fd_;
  std::string buffer_;
  int64_t bytes_ = 0;           // bytes given to Write(), buffered or not
  int64_t written_ = 0;         // bytes handed to the file so far
  int64_t writeback_from_ = 0;  // where the data not yet sent to write-back begins
  bool committed_ = false;      // renamed into place: nothing left to clean up
};

class LocalObjectReader final : public ObjectReader {
 public:
  LocalObjectReader(std::string path, UniqueFd fd, int64_t size)
      : path_(std::move(path)), fd_(std::move(fd)), size_(size) {}

  int64_t size() const override { return size_; }

  Result<size_t> ReadAt(int64_t offset, char* buf, size_t len) override {
    if (offset < 0) return InvalidArgument("negative read offset");
    for (;;) {
      const ssize_t n = ::pread(fd_.get(), buf, len, static_cast<off_t>(offset));
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return PosixError("read " + path_, errno);
    }
  }

 private:
  const std::string path_;
  UniqueFd fd_;
  const int64_t size_;
};

// Adds the entries of `dir` (whose object names start with `prefix`) that DeleteExcept removes.
Status ListDoomed(const std::string& dir, const std::string& prefix,
                  const std::vector<std::string>& keep,
                  std::vector<std::filesystem::path>& doomed) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return Status::Ok();
  if (ec) return PosixError("list " + dir, ec.value());
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = prefix + it->path().filename().string();
    if (std::find(keep.begin(), keep.end(), name) != keep.end()) continue;
    // A partition's sub-directory holding a kept file (only the task's own directory has them):
    // its other entries go, the kept ones stay.
    const std::string sub = name + "/";
    const bool holds_kept =
        prefix.empty() && std::any_of(keep.begin(), keep.end(), [&sub](const std::string& k) {
          return k.compare(0, sub.size(), sub) == 0;
        });
    if (holds_kept && it->is_directory(ec)) {
      RETURN_IF_ERROR(ListDoomed(it->path().string(), sub, keep, doomed));
    } else {
      doomed.push_back(it->path());
    }
  }
  if (ec) return PosixError("list " + dir, ec.value());
  return Status::Ok();
}

}  // namespace

LocalObjectStore::LocalObjectStore(std::string root, std::shared_ptr<const UrlSigner> signer,
                                   std::string public_base_url, int gzip_level)
    : root_(std::move(root)),
      signer_(std::move(signer)),
      base_url_(std::move(public_base_url)),
      gzip_level_(gzip_level) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

Result<std::unique_ptr<ObjectWriter>> LocalObjectStore::Create(std::string_view task_id,
                                                               std::string_view name,
                                                               const ObjectOptions& options) {
  RETURN_IF_ERROR(ValidateTaskId(task_id));
  RETURN_IF_ERROR(ValidateObjectName(name));
  const std::string task_dir = JoinPath(root_, task_id);
  // A validated name has at most one '/': "<partition>/part-00001.csv" lives in a sub-directory.
  const size_t slash = name.find('/');
  const std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  const std::string dir =
      slash == std::string_view::npos ? task_dir : JoinPath(task_dir, name.substr(0, slash));
  std::error_code ec;
  const bool created = std::filesystem::create_directories(dir, ec);
  if (ec) return PosixError("create directory " + dir, ec.value());
  // The new sub-directory's entry is made durable before a file is published inside it.
  if (created && dir != task_dir) RETURN_IF_ERROR(SyncDirectory(task_dir));
  std::string temp_path = dir + "/." + std::string(base) + ".tmp-" + ToHex(RandomBytes(8));
  UniqueFd fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return PosixError("create " + temp_path, errno);
  return ComposeObjectWriter(std::make_unique<LocalFileWriter>(dir, JoinPath(dir, base),
                                                               std::move(temp_path), std::move(fd)),
                             options, gzip_level_);
}

Result<std::unique_ptr<ObjectReader>> LocalObjectStore::Open(std::string_view task_id,
                                                             std::string_view name) {
  RETURN_IF_ERROR(ValidateTaskId(task_id));
  RETURN_IF_ERROR(ValidateObjectName(name));
  std::string path = JoinPath(JoinPath(root_, task_id), name);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open " + path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return PosixError("stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return NotFound("not a file: " + path);
  return std::unique_ptr<ObjectReader>(
      std::make_unique<LocalObjectReader>(std::move(path), std::move(fd), st.st_size));
}

Status LocalObjectStore::DeleteAll(std::string_view task_id) {
  RETURN_IF_ERROR(ValidateTaskId(task_id));
  const std::string dir = JoinPath(root_, task_id);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) return PosixError("remove " + dir, ec.value());
  return Status::Ok();
}

Status LocalObjectStore::DeleteExcept(std::string_view task_id,
                                      const std::vector<std::string>& keep) {
  RETURN_IF_ERROR(ValidateTaskId(task_id));
  const std::string dir = JoinPath(root_, task_id);
  std::vector<std::filesystem::path> doomed;
  RETURN_IF_ERROR(ListDoomed(dir, "", keep, doomed));
  std::error_code ec;
  for (const std::filesystem::path& path : doomed) {
    std::filesystem::remove_all(path, ec);
    if (ec) return PosixError("remove " + path.string(), ec.value());
  }
  return Status::Ok();
}

namespace {

// The smallest paths seen so far (at most `limit`) that start with `prefix` and come after
// `after`, with their sizes.
class PageCollector {
 public:
  PageCollector(std::string_view prefix, std::string_view after, size_t limit)
      : prefix_(prefix), after_(after), limit_(limit) {}

  // Whether some path starting with `path_prefix` could still be kept.
  bool Wants(std::string_view path_prefix) const {
    const size_t n = std::min(path_prefix.size(), prefix_.size());
    return path_prefix.substr(0, n) == prefix_.substr(0, n);
  }
  void Offer(std::string path, int64_t bytes) {
    if (path.compare(0, prefix_.size(), prefix_) != 0) return;
    if (!after_.empty() && path <= after_) return;
    if (kept_.size() == limit_) {
      auto last = std::prev(kept_.end());
      if (path >= last->first) {
        more_ = true;
        return;
      }
      kept_.erase(last);
      more_ = true;
    }
    kept_.emplace(std::move(path), bytes);
  }
  ObjectPage Page() const {
    ObjectPage page;
    for (const auto& [path, bytes] : kept_) {
      const size_t slash = path.find('/');
      page.objects.push_back({path.substr(0, slash), path.substr(slash + 1), bytes});
    }
    if (more_ && !kept_.empty()) page.next_page_token = std::prev(kept_.end())->first;
    return page;
  }

 private:
  const std::string prefix_;
  const std::string after_;
  const size_t limit_;
  std::map<std::string, int64_t> kept_;
  bool more_ = false;
};

// The regular files of `dir` (object paths `path_prefix` + file name), and with
// `partitions`, those of its partition sub-directories. Hidden entries (temporary files) and
// names no writer makes are skipped.
Status CollectDir(const std::string& dir, const std::string& path_prefix, bool partitions,
                  PageCollector& out) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
    return Status::Ok();
  }
  if (ec) return PosixError("list " + dir, ec.value());
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string file = it->path().filename().string();
    const std::string path = path_prefix + file;
    if (!out.Wants(path)) continue;
    std::error_code stat_ec;
    const std::filesystem::file_status st = it->symlink_status(stat_ec);
    if (stat_ec) continue;  // removed meanwhile
    if (std::filesystem::is_regular_file(st)) {
      const std::string name = path.substr(path.find('/') + 1);
      if (!ValidateObjectName(name).ok()) continue;
      const uintmax_t size = std::filesystem::file_size(it->path(), stat_ec);
      if (stat_ec) continue;
      out.Offer(path, static_cast<int64_t>(size));
    } else if (partitions && std::filesystem::is_directory(st) && IsPartitionDirName(file)) {
      if (!out.Wants(path + "/")) continue;
      RETURN_IF_ERROR(CollectDir(it->path().string(), path + "/", false, out));
    }
  }
  if (ec) return PosixError("list " + dir, ec.value());
  return Status::Ok();
}

}  // namespace

Result<ObjectPage> LocalObjectStore::List(std::string_view prefix, std::string_view page_token,
                                          size_t max_objects) {
  RETURN_IF_ERROR(ValidateListPrefix(prefix));
  if (max_objects == 0 || max_objects > 1000) {
    return InvalidArgument("a page holds 1 to 1000 objects");
  }
  PageCollector out(prefix, page_token, max_objects);
  const size_t slash = prefix.find('/');
  if (slash != std::string_view::npos) {
    // One task directory.
    const std::string task(prefix.substr(0, slash));
    RETURN_IF_ERROR(CollectDir(JoinPath(root_, task), task + "/", true, out));
    return out.Page();
  }
  std::error_code ec;
  std::filesystem::directory_iterator it(root_, ec);
  if (ec == std::errc::no_such_file_or_directory) return ObjectPage{};
  if (ec) return PosixError("list " + root_, ec.value());
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string task = it->path().filename().string();
    if (!ValidateTaskId(task).ok() || !out.Wants(task)) continue;
    std::error_code dir_ec;
    if (!it->is_directory(dir_ec) || it->is_symlink(dir_ec)) continue;
    RETURN_IF_ERROR(CollectDir(it->path().string(), task + "/", true, out));
  }
  if (ec) return PosixError("list " + root_, ec.value());
  return out.Page();
}

Result<std::string> LocalObjectStore::DownloadUrl(std::string_view task_id, std::string_view name,
                                                  TimePoint expires_at) {
  RETURN_IF_ERROR(ValidateTaskId(task_id));
  RETURN_IF_ERROR(ValidateObjectName(name));
  return SignedDownloadUrl(*signer_, base_url_, task_id, name, expires_at);
}

}  // namespace exportd
