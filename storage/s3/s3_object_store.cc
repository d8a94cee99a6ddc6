#include "storage/s3/s3_object_store.h"

#include <algorithm>

#include "storage/base/object_writer_pipeline.h"

namespace exportd {
namespace {

// Sequential readers fetch at least this much per ranged GET.
constexpr size_t kReadAhead = size_t{4} << 20;
// DeleteObjects takes at most this many keys per request.
constexpr size_t kDeleteBatch = 1000;

// The backend of the pipeline (storage/base/object_writer_pipeline.h): gathers the bytes it is
// given into parts, uploads each part as it fills, and Commit() publishes the object.
// REQUIRES: the calling rules of GuardedWriter.
class S3UploadWriter final : public ObjectWriter {
 public:
  S3UploadWriter(const S3Client& client, std::string key, std::string content_type,
                 int64_t part_size)
      : client_(client),
        key_(std::move(key)),
        content_type_(std::move(content_type)),
        part_size_(static_cast<size_t>(part_size)) {}

  ~S3UploadWriter() override {
    if (!upload_id_.empty() && !committed_) {
      // Best effort: an upload that cannot be aborted now stays invisible until the bucket's
      // lifecycle rule reclaims it.
      (void)client_.AbortMultipartUpload(key_, upload_id_);
    }
  }

  S3UploadWriter(const S3UploadWriter&) = delete;
  S3UploadWriter& operator=(const S3UploadWriter&) = delete;

  Status Write(std::string_view data) override {
    bytes_ += static_cast<int64_t>(data.size());
    while (!data.empty()) {
      const size_t take = std::min(data.size(), part_size_ - buffer_.size());
      // Grow by doubling but never past one part: a small file (a manifest) holds little
      // memory, a large one exactly one part.
      if (buffer_.size() + take > buffer_.capacity()) {
        buffer_.reserve(
            std::min(part_size_, std::max(buffer_.capacity() * 2, buffer_.size() + take)));
      }
      buffer_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (buffer_.size() == part_size_) RETURN_IF_ERROR(UploadBuffer());
    }
    return Status::Ok();
  }

  // One PutObject when no part was uploaded yet, else the last part and the completion of the
  // multipart upload. The sha256 is left to a DigestWriter above.
  Result<ObjectInfo> Commit() override {
    if (upload_id_.empty()) {
      RETURN_IF_ERROR(client_.PutObject(key_, std::move(buffer_), content_type_));
    } else {
      // The last part may be smaller than part_size; an empty one is not sent (the object
      // ended exactly on a part boundary).
      if (!buffer_.empty()) RETURN_IF_ERROR(UploadBuffer());
      RETURN_IF_ERROR(client_.CompleteMultipartUpload(key_, upload_id_, etags_));
    }
    committed_ = true;
    return ObjectInfo{.bytes = bytes_, .sha256 = std::string()};
  }

 private:
  Status UploadBuffer() {
    if (upload_id_.empty()) {
      ASSIGN_OR_RETURN(upload_id_, client_.CreateMultipartUpload(key_, content_type_));
    }
    const int part_number = static_cast<int>(etags_.size()) + 1;
    if (part_number > 10000) return ResourceExhausted("S3 allows at most 10000 parts: " + key_);
    std::string part = std::move(buffer_);
    buffer_ = std::string();
    ASSIGN_OR_RETURN(std::string etag,
                     client_.UploadPart(key_, upload_id_, part_number, std::move(part)));
    etags_.push_back(std::move(etag));
    return Status::Ok();
  }

  const S3Client& client_;
  const std::string key_;
  const std::string content_type_;
  const size_t part_size_;
  std::string buffer_;     // bytes not yet uploaded; < part_size_ between calls
  std::string upload_id_;  // empty until the first part fills
  std::vector<std::string> etags_;
  int64_t bytes_ = 0;  // bytes given to Write(), uploaded or not
  bool committed_ = false;
};

class S3ObjectReader final : public ObjectReader {
 public:
  S3ObjectReader(const S3Client& client, std::string key, int64_t size)
      : client_(client), key_(std::move(key)), size_(size) {}

  int64_t size() const override { return size_; }

  Result<size_t> ReadAt(int64_t offset, char* buf, size_t len) override {
    if (offset < 0) return InvalidArgument("negative read offset");
    if (offset >= size_ || len == 0) return size_t{0};
    const bool cached =
        offset >= block_start_ && offset < block_start_ + static_cast<int64_t>(block_.size());
    if (!cached) {
      const int64_t want =
          std::min<int64_t>(size_ - offset, static_cast<int64_t>(std::max(len, kReadAhead)));
      ASSIGN_OR_RETURN(block_, client_.GetObject(key_, offset, want));
      block_start_ = offset;
      if (block_.empty()) return DataLoss("GetObject " + key_ + ": empty range inside the object");
    }
    const size_t from = static_cast<size_t>(offset - block_start_);
    const size_t n = std::min(len, block_.size() - from);
    std::copy_n(block_.data() + from, n, buf);
    return n;
  }

 private:
  const S3Client& client_;
  const std::string key_;
  const int64_t size_;
  std::string block_;  // bytes [block_start_, block_start_ + block_.size())
  int64_t block_start_ = 0;
};

}  // namespace

S3ObjectStore::S3ObjectStore(S3StoreOptions options, const Clock& clock)
    : client_(std::move(options.client)),
      prefix_(std::move(options.prefix)),
      part_size_(std::clamp(options.part_size_bytes, kS3MinPartSize, kS3MaxPartSize)),
      gzip_level_(options.gzip_level),
      clock_(clock) {}

Status S3ObjectStore::CheckBucket() const {
  Status head = client_.HeadBucket();
  if (head.ok() || IsTransient(head.code())) return head;
  Status listed = client_.ListObjectsV2(prefix_).status();
  return listed.ok() ? head : listed;
}

std::string S3ObjectStore::Key(std::string_view task_id, std::string_view name) const {
  std::string key = prefix_;
  key.append(task_id);
  key.push_back('/');
  key.append(name);
  return key;
}

Result<std::unique_ptr<ObjectWriter>> S3ObjectStore::Create(std::string_view task_id,
                                                            std::string_view name,
                                                            const ObjectOptions& options) {
  RETURN_IF_ERROR(ValidateTaskId(task_id));
  RETURN_IF_ERROR(ValidateObjectName(name));
  return ComposeObjectWriter(std::make_unique<S3UploadWriter>(client_, Key(task_id, name),
                                                              options.content_type, part_size_),
                             options, gzip_level_);
}

Result<std::unique_ptr<ObjectReader>> S3ObjectStore::Open(std::string_view task_id,
                                                          std::string_view name) {
  RETURN_IF_ERROR(ValidateTaskId(task_id));
  RETURN_IF_ERROR(ValidateObjectName(name));
  std::string key = Key(task_id, name);
  ASSIGN_OR_RETURN(S3ObjectHead head, client_.HeadObject(key));
  return std::unique_ptr<ObjectReader>(
      std::make_unique<S3ObjectReader>(client_, std::move(key), head.size));
}

Result<ObjectPage> S3ObjectStore::List(std::string_view prefix, std::string_view page_token,
                                       size_t max_objects) {
  RETURN_IF_ERROR(ValidateListPrefix(prefix));
  if (max_objects == 0 || max_objects > 1000) {
    return InvalidArgument("a page holds 1 to 1000 objects");
  }
  ASSIGN_OR_RETURN(S3ListPage listed,
                   client_.ListObjectsV2(prefix_ + std::string(prefix), std::string(page_token),
                                         static_cast<int>(max_objects)));
  ObjectPage page;
  for (size_t i = 0; i < listed.keys.size(); ++i) {
    const std::string& key = listed.keys[i];
    if (key.compare(0, prefix_.size(), prefix_) != 0) continue;
    const std::string_view path = std::string_view(key).substr(prefix_.size());
    const size_t slash = path.find('/');
    if (slash == std::string_view::npos) continue;
    const std::string_view task_id = path.substr(0, slash);
    const std::string_view name = path.substr(slash + 1);
    if (!ValidateTaskId(task_id).ok() || !ValidateObjectName(name).ok()) continue;
    page.objects.push_back({std::string(task_id), std::string(name), listed.sizes[i]});
  }
  page.next_page_token = std::move(listed.next_continuation_token);
  return page;
}

Result<std::vector<std::string>> S3ObjectStore::ListTask(std::string_view task_id) const {
  RETURN_IF_ERROR(ValidateTaskId(task_id));
  const std::string prefix = Key(task_id, "");
  std::vector<std::string> keys;
  std::string token;
  do {
    ASSIGN_OR_RETURN(S3ListPage page, client_.ListObjectsV2(prefix, token));
    keys.insert(keys.end(), page.keys.begin(), page.keys.end());
    token = std::move(page.next_continuation_token);
  } while (!token.empty());
  return keys;
}

Status S3ObjectStore::DeleteKeys(const std::vector<std::string>& keys) const {
  for (size_t i = 0; i < keys.size(); i += kDeleteBatch) {
    const size_t end = std::min(keys.size(), i + kDeleteBatch);
    RETURN_IF_ERROR(client_.DeleteObjects({keys.begin() + static_cast<std::ptrdiff_t>(i),
                                           keys.begin() + static_cast<std::ptrdiff_t>(end)}));
  }
  return Status::Ok();
}

Status S3ObjectStore::DeleteAll(std::string_view task_id) {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, ListTask(task_id));
  return DeleteKeys(keys);
}

Status S3ObjectStore::DeleteExcept(std::string_view task_id, const std::vector<std::string>& keep) {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, ListTask(task_id));
  const std::string prefix = Key(task_id, "");
  std::vector<std::string> doomed;
  for (std::string& key : keys) {
    const std::string name = key.substr(prefix.size());
    if (std::find(keep.begin(), keep.end(), name) == keep.end()) doomed.push_back(std::move(key));
  }
  return DeleteKeys(doomed);
}

Result<std::string> S3ObjectStore::DownloadUrl(std::string_view task_id, std::string_view name,
                                               TimePoint expires_at) {
  RETURN_IF_ERROR(ValidateTaskId(task_id));
  RETURN_IF_ERROR(ValidateObjectName(name));
  const TimePoint now = clock_.Now();
  const auto lifetime = std::chrono::ceil<std::chrono::seconds>(expires_at - now);
  // Validated names need no quoting inside filename="..."; a file name has no '/', so a split
  // export's "<partition>/part-00001.csv" downloads as "<partition>_part-00001.csv".
  std::string filename(name);
  std::replace(filename.begin(), filename.end(), '/', '_');
  return client_.PresignedGetUrl(Key(task_id, name), now, lifetime, filename);
}

}  // namespace exportd
