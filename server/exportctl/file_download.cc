#include "server/exportctl/file_download.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "server/exportctl/api_client.h"
#include "storage/base/curl_util.h"
#include "storage/base/digest.h"

namespace exportd::ctl {
namespace {

namespace fs = std::filesystem;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '~' || c == '-';
}

Status Errno(const std::string& what) {
  return Status(StatusCode::kInternal, what + ": " + std::strerror(errno));
}

// One GET into an open file: the state libcurl's body callback keeps.
struct Transfer {
  std::FILE* out = nullptr;
  CURL* curl = nullptr;
  bool ranged = false;   // a Range header was sent
  bool decided = false;  // the status was seen and the file prepared for it
  long status = 0;
  std::string error_body;  // the start of a non-2xx answer
  bool write_failed = false;
};

// Prepares `t.out` once the answer's status is known: 206 appends after what is there, 200 to a
// ranged request starts the file over (the server sent it whole), anything else is kept for the
// message and not written.
size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (!t.decided) {
    curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &t.status);
    t.decided = true;
    if (t.status == 200 && t.ranged &&
        (::ftruncate(::fileno(t.out), 0) != 0 || std::fseek(t.out, 0, SEEK_SET) != 0)) {
      t.write_failed = true;
      return 0;
    }
  }
  if (t.status != 200 && t.status != 206) {
    if (t.error_body.size() < 2000) t.error_body.append(data, n);
    return n;
  }
  if (std::fwrite(data, 1, n, t.out) != n) {
    t.write_failed = true;
    return 0;
  }
  return n;
}

// GET `url` into `part`, continuing after its first `offset` bytes when offset > 0.
// The HTTP status of the answer (416 is returned, not an error, so the caller can start over).
Result<long> GetInto(const std::string& url, const std::string& part, int64_t offset) {
  std::FILE* out = std::fopen(part.c_str(), offset > 0 ? "ab" : "wb");
  if (out == nullptr) return Errno("cannot write " + part);
  ASSIGN_OR_RETURN(CurlEasy curl, NewCurlEasy());
  Transfer t;
  t.out = out;
  t.curl = curl.get();
  t.ranged = offset > 0;
  CurlSlist headers;
  if (t.ranged) RETURN_IF_ERROR(headers.Append("Range: bytes=" + std::to_string(offset) + "-"));
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  // A stalled transfer (under 1 byte/s for 60 s) fails; a slow but moving one does not.
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &t);
  const CURLcode code = curl_easy_perform(curl.get());
  if (!t.decided) curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &t.status);
  const bool flushed = std::fflush(out) == 0 && ::fsync(::fileno(out)) == 0;
  std::fclose(out);
  if (t.write_failed || !flushed) return Errno("cannot write " + part);
  if (code != CURLE_OK) {
    return TransportStatus(CurlStatus(code, "download"), url.substr(0, url.find('?')));
  }
  if (t.status == 200 || t.status == 206 || t.status == 416) return t.status;
  ApiResponse response;
  response.status = t.status;
  response.body = t.error_body;
  response.json = nlohmann::json::parse(t.error_body, nullptr, /*allow_exceptions=*/false);
  return ResponseStatus(response, "download");
}

}  // namespace

Status CheckFileName(const std::string& name) {
  auto bad = [&] { return InvalidArgument("refusing file name '" + name + "' from the server"); };
  if (name.empty() || name.size() > 255) return bad();
  int components = 0;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t slash = std::min(name.find('/', start), name.size());
    const std::string part = name.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return bad();
    for (char c : part) {
      if (!IsNameChar(c)) return bad();
    }
    ++components;
    start = slash + 1;
  }
  return components <= 2 ? Status::Ok() : bad();
}

std::optional<std::pair<std::string, int64_t>> HashFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  Sha256 hash;
  int64_t size = 0;
  std::string buf(1 << 16, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    hash.Update(std::string_view(buf.data(), static_cast<size_t>(got)));
    size += got;
  }
  if (in.bad()) return std::nullopt;
  return std::make_pair(hash.FinishHex(), size);
}

Result<FetchOutcome> FetchFile(const FileToFetch& file, const std::string& dir) {
  RETURN_IF_ERROR(CheckFileName(file.name));
  const std::string final_path = dir + "/" + file.name;
  const std::string part_path = final_path + ".part";
  std::error_code ec;
  fs::create_directories(fs::path(final_path).parent_path(), ec);
  if (ec)
    return Internal("cannot create " + fs::path(final_path).parent_path().string() + ": " +
                    ec.message());
  auto verifies = [&](const std::pair<std::string, int64_t>& got) {
    return (!file.sha256 || got.first == *file.sha256) &&
           (!file.bytes || got.second == *file.bytes);
  };
  FetchOutcome outcome;
  if (file.sha256) {
    if (auto existing = HashFile(final_path); existing && verifies(*existing)) {
      outcome.already_there = true;
      outcome.bytes = existing->second;
      return outcome;
    } else if (existing) {
      ::unlink(final_path.c_str());  // a wrong file never stays under the final name
    }
  }
  struct stat st {};
  int64_t offset = ::stat(part_path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
  // Without a size to compare with (the manifest), a partial file cannot be trusted: start over.
  if (!file.bytes || !file.sha256) offset = 0;
  ASSIGN_OR_RETURN(long status, GetInto(file.url, part_path, offset));
  if (status == 416) {  // the part is not a prefix of this file: start over
    offset = 0;
    ASSIGN_OR_RETURN(status, GetInto(file.url, part_path, 0));
  }
  if (status == 206) outcome.resumed_from = offset;
  const auto got = HashFile(part_path);
  if (!got) return Errno("cannot read " + part_path);
  if (!verifies(*got)) {
    ::unlink(part_path.c_str());
    return DataLoss(file.name + " does not verify: sha256 " + got->first + ", " +
                    std::to_string(got->second) + " bytes; the task says sha256 " +
                    file.sha256.value_or("?") + ", " +
                    (file.bytes ? std::to_string(*file.bytes) : std::string("?")) +
                    " bytes (the partial file was deleted)");
  }
  if (std::rename(part_path.c_str(), final_path.c_str()) != 0) {
    return Errno("cannot rename " + part_path);
  }
  outcome.bytes = got->second;
  return outcome;
}

}  // namespace exportd::ctl
