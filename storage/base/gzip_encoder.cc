#include "storage/base/gzip_encoder.h"

#include <zlib.h>

#include <algorithm>
#include <string>

namespace exportd {
namespace {

constexpr size_t kOutBlock = size_t{256} << 10;
// zlib counts input in uInt; larger writes are fed in slices.
constexpr size_t kMaxInput = size_t{1} << 30;

Status ZlibError(std::string_view context, int rc, const z_stream& zs) {
  std::string message(context);
  message += ": zlib error " + std::to_string(rc);
  if (zs.msg != nullptr) message += std::string(" (") + zs.msg + ")";
  return rc == Z_MEM_ERROR ? Unavailable(std::move(message)) : Internal(std::move(message));
}

}  // namespace

struct GzipEncoder::Impl {
  z_stream zs{};
  bool initialized = false;
  bool finished = false;
  Sink sink;
  std::string out;
};

GzipEncoder::GzipEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GzipEncoder::~GzipEncoder() {
  if (impl_->initialized) deflateEnd(&impl_->zs);
}

Result<std::unique_ptr<GzipEncoder>> GzipEncoder::Create(int level, Sink sink) {
  auto impl = std::make_unique<Impl>();
  impl->sink = std::move(sink);
  const int rc = deflateInit2(&impl->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  if (rc != Z_OK) return ZlibError("deflateInit2", rc, impl->zs);
  impl->initialized = true;
  impl->out.resize(kOutBlock);
  return std::unique_ptr<GzipEncoder>(new GzipEncoder(std::move(impl)));
}

Status GzipEncoder::Write(std::string_view data) {
  if (impl_->finished) return FailedPrecondition("gzip: write after finish");
  if (data.empty()) return Status::Ok();
  return Deflate(data, Z_NO_FLUSH);
}

Status GzipEncoder::Finish() {
  if (impl_->finished) return FailedPrecondition("gzip: finished twice");
  impl_->finished = true;
  return Deflate({}, Z_FINISH);
}

Status GzipEncoder::Deflate(std::string_view data, int flush) {
  z_stream& zs = impl_->zs;
  do {
    const size_t slice = std::min(data.size(), kMaxInput);
    // zlib's next_in is not const-qualified but is only read.
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(slice);
    const int slice_flush = slice == data.size() ? flush : Z_NO_FLUSH;
    int rc = Z_OK;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(impl_->out.data());
      zs.avail_out = static_cast<uInt>(impl_->out.size());
      rc = deflate(&zs, slice_flush);
      if (rc == Z_STREAM_ERROR) return ZlibError("deflate", rc, zs);
      const size_t produced = impl_->out.size() - zs.avail_out;
      if (produced > 0) RETURN_IF_ERROR(impl_->sink({impl_->out.data(), produced}));
    } while (zs.avail_out == 0 || (slice_flush == Z_FINISH && rc != Z_STREAM_END));
    data.remove_prefix(slice);
  } while (!data.empty());
  return Status::Ok();
}

}  // namespace exportd
