#include "storage/base/gzip_writer.h"

#include <utility>

namespace exportd {

Result<std::unique_ptr<ObjectWriter>> GzipWriter::Create(std::unique_ptr<ObjectWriter> target,
                                                         int level) {
  std::unique_ptr<GzipWriter> writer(new GzipWriter(std::move(target)));
  ObjectWriter& next = writer->target();
  ASSIGN_OR_RETURN(writer->encoder_,
                   GzipEncoder::Create(level, [&next](std::string_view compressed) {
                     return next.Write(compressed);
                   }));
  return std::unique_ptr<ObjectWriter>(std::move(writer));
}

Status GzipWriter::Write(std::string_view data) { return encoder_->Write(data); }

Result<ObjectInfo> GzipWriter::Commit() {
  RETURN_IF_ERROR(encoder_->Finish());
  return target().Commit();
}

}  // namespace exportd
