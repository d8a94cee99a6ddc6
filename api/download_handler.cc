// GET /v1/exports/{id}/files/{name}?expires=&signature=: streams a file of a Succeeded task.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>

#include "api/handlers.h"
#include "api/problem.h"
#include "core/ulid.h"

namespace exportd::api {
namespace {

constexpr size_t kChunk = 256 * 1024;

struct ByteRange {
  int64_t first = 0;
  int64_t last = 0;  // inclusive
};

// Resolves the single range of a Range header against `size`; nullopt if unsatisfiable.
std::optional<ByteRange> Resolve(const httplib::Range& r, int64_t size) {
  int64_t first = r.first;
  int64_t last = r.second;
  if (first < 0) {  // suffix range: the last `last` bytes
    if (last <= 0) return std::nullopt;
    first = std::max<int64_t>(0, size - last);
    last = size - 1;
  } else if (last < 0 || last >= size) {
    last = size - 1;
  }
  if (first >= size || first > last) return std::nullopt;
  return ByteRange{first, last};
}

// Whether an If-None-Match header matches the file's entity tag (RFC 9110 13.1.2): "*" matches
// any current file; otherwise a comma-separated list of entity tags, compared weakly (a W/
// prefix is ignored).
bool IfNoneMatchHits(const std::string& header, const std::string& etag) {
  size_t i = 0;
  auto skip_separators = [&] {
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t' || header[i] == ',')) ++i;
  };
  skip_separators();
  if (header.compare(i, std::string::npos, "*") == 0) return true;
  while (i < header.size()) {
    if (header.compare(i, 2, "W/") == 0) i += 2;
    if (i >= header.size() || header[i] != '"') return false;
    const size_t close = header.find('"', i + 1);
    if (close == std::string::npos) return false;
    if (header.compare(i, close + 1 - i, etag) == 0) return true;
    i = close + 1;
    skip_separators();
  }
  return false;
}

// True if `signature` is genuine for (id, name, expires) although the link's expiry has passed.
bool GenuineButExpired(HandlerContext& ctx, const std::string& id, const std::string& name,
                       const std::string& expires, const std::string& signature) {
  int64_t unix_seconds = 0;
  auto [end, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), unix_seconds);
  // Beyond what a TimePoint holds (about year 2262) no link of ours can expire.
  static const int64_t kMaxUnixSeconds =
      std::chrono::duration_cast<std::chrono::seconds>(TimePoint::max().time_since_epoch()).count();
  if (ec != std::errc() || end != expires.data() + expires.size() || unix_seconds <= 0 ||
      unix_seconds > kMaxUnixSeconds) {
    return false;
  }
  const TimePoint expiry{std::chrono::seconds(unix_seconds)};
  if (ctx.deps.clock->Now() < expiry) return false;  // not expired: the signature is what failed
  return ctx.deps.verify_link(id, name, expires, signature, expiry - std::chrono::seconds(1)).ok();
}

// The holder of a pre-signed link is not a principal: the signature is the credential.
constexpr const char* kLinkActor = "link";

// Records one access to `name` of task `id` in the audit trail (nothing if there is no such
// task: a forged link can name any id).
void RecordAccess(HandlerContext& ctx, const std::string& id, const std::string& name,
                  const std::string& remote, std::string outcome,
                  std::optional<int64_t> bytes = std::nullopt, std::string detail = {}) {
  FileAccess access;
  access.file = name;
  access.bytes = bytes;
  access.outcome = std::move(outcome);
  access.origin = EventOrigin{kLinkActor, remote};
  access.detail = std::move(detail);
  ctx.deps.service->RecordDownload(id, access);
}

// The audit outcome of a refused download, by the status the client gets.
std::string RefusalOutcome(StatusCode code) {
  switch (code) {
    case StatusCode::kGone:
      return "gone";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kPermissionDenied:
      return "denied";
    default:
      return "failed";
  }
}

}  // namespace

void HandleDownload(HandlerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  std::string id = req.matches[1];
  std::string name = req.matches[2];
  std::string expires = req.get_param_value("expires");
  std::string signature = req.get_param_value("signature");
  const std::string remote = ClientAddress(ctx, req);
  if (!IsUlid(id) || expires.empty() || signature.empty()) {
    if (IsUlid(id)) RecordAccess(ctx, id, name, remote, "denied", std::nullopt, "unsigned link");
    SendStatus(req, res, PermissionDenied("a valid signed link is required"));
    return;
  }
  const TimePoint now = ctx.deps.clock->Now();
  Status verified = ctx.deps.verify_link(id, name, expires, signature, now);
  if (!verified.ok()) {
    // Links never outlive the files they point to, so a link to expired files has usually
    // expired itself. When the signature is genuine (it verifies at a time before the link's
    // own expiry) and the files are gone, 410 tells the client what happened; every other
    // failure, and a genuine expired link to files that still exist, stays 403.
    if (GenuineButExpired(ctx, id, name, expires, signature)) {
      Result<FileInfo> file = ctx.deps.service->DownloadableFile(id, name);
      if (file.status().code() == StatusCode::kGone) {
        RecordAccess(ctx, id, name, remote, "gone", std::nullopt, file.status().message());
        SendStatus(req, res, file.status());
        return;
      }
    }
    RecordAccess(ctx, id, name, remote, "denied", std::nullopt, verified.message());
    SendStatus(req, res, PermissionDenied(verified.message()));
    return;
  }
  Result<FileInfo> file = ctx.deps.service->DownloadableFile(id, name);
  if (!file.ok()) {
    // The link was genuine, so the file existed: kGone (expired or deleted) is the usual
    // answer; kNotFound for what a genuine link cannot name.
    RecordAccess(ctx, id, name, remote, RefusalOutcome(file.status().code()), std::nullopt,
                 file.status().message());
    SendStatus(req, res, file.status());
    return;
  }
  Result<std::unique_ptr<ObjectReader>> opened = ctx.deps.objects->Open(id, name);
  if (!opened.ok()) {
    const bool gone = opened.status().code() == StatusCode::kNotFound;
    RecordAccess(ctx, id, name, remote, gone ? "gone" : "failed", std::nullopt,
                 opened.status().message());
    if (gone) {
      SendStatus(req, res, Gone("file " + name + " of export " + id + " is no longer available"));
    } else {
      SendStatus(req, res, opened.status());
    }
    return;
  }
  std::shared_ptr<ObjectReader> reader = std::move(opened).value();
  int64_t size = reader->size();
  std::string etag = "\"" + file->sha256 + "\"";
  res.set_header("ETag", etag);
  res.set_header("Accept-Ranges", "bytes");
  // A file name has no '/': a split export's "<partition>/part-00001.csv" is offered as
  // "<partition>_part-00001.csv" (validated names need no quoting inside filename="...").
  std::string filename = name;
  std::replace(filename.begin(), filename.end(), '/', '_');
  res.set_header("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  res.headers.erase("Cache-Control");  // the API's no-store, set for every answer
  res.set_header("Cache-Control", "private, max-age=0");
  // A HEAD sends no byte of the file: it is not a download, and its answers that would be a
  // download's (200, 206, 304) are not recorded. Its refusals (bad link, gone, 416) are, like
  // any refused access.
  const bool head = req.method == "HEAD";
  if (req.has_header("If-None-Match") &&
      IfNoneMatchHits(req.get_header_value("If-None-Match"), etag)) {
    if (!head) RecordAccess(ctx, id, name, remote, "not_modified", int64_t{0});
    res.status = 304;
    return;
  }
  // cpp-httplib slices every response by req.ranges, error bodies included; where this handler
  // decides to ignore the Range header (several ranges) or to refuse it (416), the ranges are
  // cleared first. The Request object is a non-const local of cpp-httplib's connection loop,
  // so modifying it through const_cast is well-defined.
  auto& ranges = const_cast<httplib::Ranges&>(req.ranges);
  if (ranges.size() > 1) ranges.clear();  // RFC 9110 lets a server answer 200 with the whole file
  ByteRange range{0, size - 1};
  if (!ranges.empty()) {
    std::optional<ByteRange> resolved = Resolve(ranges[0], size);
    if (!resolved) {
      ranges.clear();
      RecordAccess(ctx, id, name, remote, "range_not_satisfiable", std::nullopt,
                   "Range: " + req.get_header_value("Range").substr(0, 100) + " of a file of " +
                       std::to_string(size) + " bytes");
      res.set_header("Content-Range", "bytes */" + std::to_string(size));
      SendProblem(req, res, 416,
                  "range not satisfiable for a file of " + std::to_string(size) + " bytes");
      return;
    }
    range = *resolved;
  }
  int64_t length = size == 0 ? 0 : range.last - range.first + 1;
  // The first read happens before the headers go out, so a file that cannot be read there (an
  // encrypted chunk failing authentication) gets a problem answer; a failure further on can
  // only cut the connection. The reader keeps what it read for the provider's first call.
  if (length > 0) {
    char first_byte = 0;
    Result<size_t> primed = reader->ReadAt(range.first, &first_byte, 1);
    if (!primed.ok()) {
      ranges.clear();
      RecordAccess(ctx, id, name, remote, "failed", std::nullopt, primed.status().message());
      SendStatus(req, res, primed.status());
      return;
    }
  }
  std::string content_type =
      file->content_type.empty() ? "application/octet-stream" : file->content_type;
  // The provider serves the whole object by absolute offset; for a single satisfiable range
  // (checked above) cpp-httplib answers 206 with Content-Range and asks only for those bytes.
  HandlerContext* context = &ctx;
  // One request's provider and releaser run on its connection's thread, one after the other.
  auto sent = std::make_shared<int64_t>(0);
  std::string range_note;
  if (length != size) {
    range_note = "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) +
                 " of " + std::to_string(size);
  }
  res.set_content_provider(
      static_cast<size_t>(size), content_type,
      [reader, sent](size_t offset, size_t want, httplib::DataSink& sink) {
        std::string buf(std::min(kChunk, want), '\0');
        Result<size_t> n = reader->ReadAt(static_cast<int64_t>(offset), buf.data(), buf.size());
        if (!n.ok() || *n == 0) return false;
        if (!sink.write(buf.data(), *n)) return false;
        *sent += static_cast<int64_t>(*n);
        return true;
      },
      [context, id, name, remote, range_note, sent, head](bool success) {
        if (head) return;  // cpp-httplib reports a HEAD's unused provider as unsuccessful
        // `sent`: bytes handed to the connection (for an interrupted download, an upper bound
        // of what the client received).
        RecordAccess(*context, id, name, remote, success ? "completed" : "interrupted", *sent,
                     range_note);
      });
}

}  // namespace exportd::api
