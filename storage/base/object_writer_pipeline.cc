#include "storage/base/object_writer_pipeline.h"

#include <utility>

#include "storage/base/digest_writer.h"
#include "storage/base/gzip_writer.h"

namespace exportd {

Status GuardedWriter::Write(std::string_view data) {
  RETURN_IF_ERROR(status_);
  if (commit_started_) return FailedPrecondition("write after commit");
  status_ = target().Write(data);
  return status_;
}

Result<ObjectInfo> GuardedWriter::Commit() {
  RETURN_IF_ERROR(status_);
  if (commit_started_) return FailedPrecondition("object already committed");
  commit_started_ = true;
  Result<ObjectInfo> info = target().Commit();
  if (!info.ok()) status_ = info.status();
  return info;
}

Result<std::unique_ptr<ObjectWriter>> ComposeObjectWriter(std::unique_ptr<ObjectWriter> sink,
                                                          const ObjectOptions& options,
                                                          int gzip_level) {
  std::unique_ptr<ObjectWriter> writer = std::move(sink);
  if (options.digest) writer = std::make_unique<DigestWriter>(std::move(writer));
  if (options.gzip) {
    ASSIGN_OR_RETURN(writer, GzipWriter::Create(std::move(writer), gzip_level));
  }
  return std::unique_ptr<ObjectWriter>(std::make_unique<GuardedWriter>(std::move(writer)));
}

}  // namespace exportd
