// ObjectStore on the local file system: objects at <root>/<task_id>/<name>, downloads through
// pre-signed URLs served by exportd itself.
#ifndef EXPORTD_STORAGE_FS_LOCAL_OBJECT_STORE_H_
#define EXPORTD_STORAGE_FS_LOCAL_OBJECT_STORE_H_

#include <memory>
#include <string>
#include <string_view>

#include "core/object_store.h"
#include "storage/fs/url_signer.h"

namespace exportd {

// Thread-safe: holds no mutable state; each writer and reader owns its own file.
//
// Writers are the pipeline of storage/base/object_writer_pipeline.h (gzip, digest) over a file
// that streams into "<root>/<task_id>/.<name>.tmp-<random>" (never a valid object name, so
// never readable through Open) and Commit() = flush, fsync, rename over <name>, fsync of the
// directory. A name "<partition>/<file>" lives in the sub-directory <root>/<task_id>/<partition>
// (created, and its entry synced, on first use), its temporary file beside it. A writer destroyed
// before Commit() unlinks its temporary file; one left by a crash is removed by DeleteAll() or
// DeleteExcept(), which look into the sub-directories too.
class LocalObjectStore final : public ObjectStore {
 public:
  // `root` is created on first use. `public_base_url` is like "http://127.0.0.1:8080" (a
  // trailing '/' is dropped). `signer` must not be null.
  LocalObjectStore(std::string root, std::shared_ptr<const UrlSigner> signer,
                   std::string public_base_url, int gzip_level = 6);

  Result<std::unique_ptr<ObjectWriter>> Create(std::string_view task_id, std::string_view name,
                                               const ObjectOptions& options) override;
  Result<std::unique_ptr<ObjectReader>> Open(std::string_view task_id,
                                             std::string_view name) override;
  Status DeleteAll(std::string_view task_id) override;
  // Also removes temporary files left by a crash.
  Status DeleteExcept(std::string_view task_id, const std::vector<std::string>& keep) override;
  // Walks the task directories the prefix can reach (and their partition sub-directories),
  // keeping the `max_objects` smallest paths after the page token: memory O(max_objects), time
  // O(entries walked) per page. The page token is the path of the page's last object.
  Result<ObjectPage> List(std::string_view prefix, std::string_view page_token,
                          size_t max_objects) override;
  // base_url + "/v1/exports/<task_id>/files/<name>?expires=<unix seconds>&signature=<hex>"
  Result<std::string> DownloadUrl(std::string_view task_id, std::string_view name,
                                  TimePoint expires_at) override;

  const std::string& root() const { return root_; }

 private:
  std::string root_;
  std::shared_ptr<const UrlSigner> signer_;
  std::string base_url_;
  int gzip_level_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_FS_LOCAL_OBJECT_STORE_H_
