// ObjectStore: where export files go. Implemented in storage/fs (local disk) and storage/s3.
#ifndef EXPORTD_CORE_OBJECT_STORE_H_
#define EXPORTD_CORE_OBJECT_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace exportd {

// The names every store accepts, checked by each before it touches anything.
// kInvalidArgument unless `task_id` is 1..64 ASCII letters or digits.
Status ValidateTaskId(std::string_view task_id);
// kInvalidArgument unless `name` is a file name, ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ without
// "..", or one partition directory (core/partition_name.h IsPartitionDirName: [A-Za-z0-9._~-],
// never ".", ".." or hidden) then '/' then a file name: the parts of an export split by
// partition. With ValidateTaskId this makes every object path a child of <root>/<task_id> or of
// one sub-directory of it, and every S3 key one under <prefix><task_id>/; nothing can climb out.
Status ValidateObjectName(std::string_view name);

// kInvalidArgument unless `prefix` can start an object's path "<task_id>/<name>" without leaving
// the store: 1..300 characters of [A-Za-z0-9._~/-], the part before the first '/' (the task
// directory) letters and digits only, no "..", no "//", at most two '/'. List() requires it.
Status ValidateListPrefix(std::string_view prefix);

// One committed object, as List() names it. Its path is task_id + "/" + name.
struct ListedObject {
  std::string task_id;
  std::string name;   // as ValidateObjectName accepts it
  int64_t bytes = 0;  // as stored (after compression, and encryption if any)
};

// One page of a listing.
struct ObjectPage {
  std::vector<ListedObject> objects;
  std::string next_page_token;  // empty: this was the last page
};

struct ObjectInfo {
  int64_t bytes = 0;   // as stored (after compression)
  std::string sha256;  // lowercase hex of the stored bytes; empty when !ObjectOptions::digest
};

struct ObjectOptions {
  std::string content_type;
  bool gzip = false;  // compress on the way in; bytes and sha256 describe the compressed object
  // Whether Commit() reports the sha256 of the stored bytes. A wrapper that reports a digest of
  // its own (the encrypting store hashes the plaintext) turns it off: without SHA extensions in
  // the CPU, hashing costs ~2.6 ns a byte, the largest single cost of a wide export.
  bool digest = true;
};

// Writes one object. Nothing is visible to readers until Commit() succeeds; destroying an
// uncommitted writer discards what was written. Not thread-safe.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Status Write(std::string_view data) = 0;
  // Flushes, makes durable and publishes atomically. At most once.
  virtual Result<ObjectInfo> Commit() = 0;
};

// An ObjectWriter that forwards every call to the writer it owns, the shape of leveldb's
// EnvWrapper: a decorator (compression, hashing, encryption, fault injection; see
// storage/base/object_writer_pipeline.h) derives from it and overrides only what it changes.
// Destroying it uncommitted destroys the wrapped writer uncommitted, so nothing is published.
class ObjectWriterWrapper : public ObjectWriter {
 public:
  // REQUIRES: target != nullptr.
  explicit ObjectWriterWrapper(std::unique_ptr<ObjectWriter> target) : target_(std::move(target)) {}
  Status Write(std::string_view data) override { return target_->Write(data); }
  Result<ObjectInfo> Commit() override { return target_->Commit(); }

 protected:
  ObjectWriter& target() { return *target_; }

 private:
  const std::unique_ptr<ObjectWriter> target_;
};

// Reads a committed object, for downloads. Thread-compatible.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  virtual int64_t size() const = 0;
  // Reads up to `len` bytes at `offset` into `buf`; returns the count (0 at the end).
  virtual Result<size_t> ReadAt(int64_t offset, char* buf, size_t len) = 0;
};

// Objects are addressed by (task id, file name). Thread-safe.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  virtual Result<std::unique_ptr<ObjectWriter>> Create(std::string_view task_id,
                                                       std::string_view name,
                                                       const ObjectOptions& options) = 0;
  virtual Result<std::unique_ptr<ObjectReader>> Open(std::string_view task_id,
                                                     std::string_view name) = 0;
  // Removes every object of a task, committed or partial. OK if there is none.
  virtual Status DeleteAll(std::string_view task_id) = 0;
  // Removes the objects of a task whose names are not in `keep`, partial ones included: what an
  // interrupted attempt left after its last checkpoint, before a new attempt resumes. OK if
  // there is none. The default removes nothing, which is safe (an uncommitted object is never
  // listed, and the resumed attempt overwrites every name after the checkpoint) but leaves
  // debris behind: stores override it and wrappers forward it.
  virtual Status DeleteExcept(std::string_view task_id, const std::vector<std::string>& keep) {
    (void)task_id;
    (void)keep;
    return Status::Ok();
  }
  // One page of the committed objects whose path "<task_id>/<name>" starts with `prefix`
  // (REQUIRES: ValidateListPrefix(prefix) is OK), in ascending byte order of that path: at most
  // `max_objects` (1..1000) of them, after those of the page whose next_page_token is
  // `page_token` (empty: from the first). Memory is bounded by `max_objects`, whatever the store
  // holds. A page may hold fewer objects than asked, even none, and still not be the last.
  // Partial objects and names no writer could have made are never listed. The default is
  // kFailedPrecondition (a store that cannot list); stores override it and wrappers forward it.
  virtual Result<ObjectPage> List(std::string_view prefix, std::string_view page_token,
                                  size_t max_objects) {
    (void)prefix;
    (void)page_token;
    (void)max_objects;
    return FailedPrecondition("this object store cannot list objects");
  }
  // A URL a client can fetch the object from until `expires_at`.
  virtual Result<std::string> DownloadUrl(std::string_view task_id, std::string_view name,
                                          TimePoint expires_at) = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_OBJECT_STORE_H_
