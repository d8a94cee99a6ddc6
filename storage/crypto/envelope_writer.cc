#include "storage/crypto/envelope_writer.h"

namespace exportd {

Result<std::unique_ptr<ObjectWriter>> EnvelopeWriter::Create(std::unique_ptr<ObjectWriter> target,
                                                             const MasterKeyRing& keys,
                                                             size_t chunk_size) {
  std::unique_ptr<EnvelopeWriter> writer(new EnvelopeWriter(std::move(target)));
  ObjectWriter& next = writer->target();
  ASSIGN_OR_RETURN(
      writer->encryptor_,
      EnvelopeEncryptor::Create(
          keys, [&next](std::string_view stored) { return next.Write(stored); }, chunk_size));
  return std::unique_ptr<ObjectWriter>(std::move(writer));
}

Status EnvelopeWriter::Write(std::string_view plain) {
  plain_bytes_ += static_cast<int64_t>(plain.size());
  return encryptor_->Write(plain);
}

Result<ObjectInfo> EnvelopeWriter::Commit() {
  RETURN_IF_ERROR(encryptor_->Finish());
  RETURN_IF_ERROR(target().Commit().status());
  return ObjectInfo{.bytes = plain_bytes_, .sha256 = std::string()};
}

}  // namespace exportd
