#include "storage/base/digest_writer.h"

namespace exportd {

Status DigestWriter::Write(std::string_view data) {
  sha256_.Update(data);
  bytes_ += static_cast<int64_t>(data.size());
  return target().Write(data);
}

Result<ObjectInfo> DigestWriter::Commit() {
  RETURN_IF_ERROR(target().Commit().status());
  return ObjectInfo{.bytes = bytes_, .sha256 = sha256_.FinishHex()};
}

}  // namespace exportd
