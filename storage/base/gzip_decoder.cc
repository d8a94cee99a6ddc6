#include "storage/base/gzip_decoder.h"

#include <zlib.h>

namespace exportd {

struct GzipDecoder::Impl {
  z_stream zs{};
  ~Impl() { inflateEnd(&zs); }
};

Result<std::unique_ptr<GzipDecoder>> GzipDecoder::Create(bool members) {
  auto impl = std::make_unique<Impl>();
  // windowBits 15 + 16: a gzip header and trailer around the deflate stream.
  if (inflateInit2(&impl->zs, 15 + 16) != Z_OK) return Internal("zlib inflateInit2 failed");
  return std::unique_ptr<GzipDecoder>(new GzipDecoder(std::move(impl), members));
}

GzipDecoder::GzipDecoder(std::unique_ptr<Impl> impl, bool members)
    : impl_(std::move(impl)), members_(members) {}

GzipDecoder::~GzipDecoder() = default;

bool GzipDecoder::NeedsInput() const { return impl_->zs.avail_in == 0 && !output_pending_; }

void GzipDecoder::SetInput(std::string_view compressed) {
  // zlib's API is not const-correct; it never writes through next_in.
  impl_->zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  impl_->zs.avail_in = static_cast<uInt>(compressed.size());
}

Result<size_t> GzipDecoder::Inflate(char* out, size_t size) {
  z_stream& zs = impl_->zs;
  if (NeedsInput()) return size_t{0};
  if (finished_ && zs.avail_in > 0) {
    if (!members_) return DataLoss("bytes follow the end of the gzip stream");
    if (inflateReset(&zs) != Z_OK) return Internal("zlib inflateReset failed");
    finished_ = false;
  }
  zs.next_out = reinterpret_cast<Bytef*>(out);
  zs.avail_out = static_cast<uInt>(size);
  const int rc = inflate(&zs, Z_NO_FLUSH);
  // A full buffer may leave decoded bytes inside zlib although all input is consumed.
  output_pending_ = rc == Z_OK && zs.avail_out == 0;
  if (rc == Z_STREAM_END) {
    finished_ = true;
  } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
    return DataLoss(std::string("not a valid gzip stream: ") +
                    (zs.msg != nullptr ? zs.msg : "zlib error " + std::to_string(rc)));
  }
  return size - zs.avail_out;
}

Result<std::string> GunzipAll(std::string_view compressed, bool members) {
  ASSIGN_OR_RETURN(std::unique_ptr<GzipDecoder> decoder, GzipDecoder::Create(members));
  decoder->SetInput(compressed);
  std::string out;
  char buf[65536];
  while (!decoder->NeedsInput()) {
    ASSIGN_OR_RETURN(const size_t n, decoder->Inflate(buf, sizeof buf));
    out.append(buf, n);
  }
  if (!decoder->finished()) return DataLoss("the gzip stream is truncated");
  return out;
}

}  // namespace exportd
