// The web dashboard: index.html at "/", its scripts, styles and icon under "/ui/". No
// credentials; a strict Content-Security-Policy (scripts, styles and fetches from this origin
// only, no inline code, no framing, DOM sinks only through Trusted Types), and revalidation with
// the file's ETag so that a new binary's files are never mixed with a cached older page.
#include <algorithm>

#include "api/handlers.h"
#include "api/problem.h"
#include "api/static_files.h"

namespace exportd::api {
namespace {

constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'";

// Whether an If-None-Match header value names `etag` (a list of entity tags, or "*"; weak
// comparison, as RFC 9110 asks for If-None-Match).
bool MatchesEtag(std::string_view header, std::string_view etag) {
  if (header.find('*') != std::string_view::npos) return true;
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(',', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view tag = header.substr(pos, end - pos);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
    pos = end + 1;
  }
  return false;
}

void SendFile(const httplib::Request& req, httplib::Response& res, const StaticFile& file) {
  res.headers.erase("Cache-Control");  // the API's no-store, set for every answer
  res.set_header("Cache-Control", "no-cache");
  res.set_header("ETag", std::string(file.etag));
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cross-Origin-Opener-Policy", "same-origin");
  res.set_header("Cross-Origin-Resource-Policy", "same-origin");
  if (MatchesEtag(req.get_header_value("If-None-Match"), file.etag)) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(file.body.data(), file.body.size(), std::string(file.content_type));
}

}  // namespace

const StaticFile* FindDashboardFile(std::string_view path) {
  std::span<const StaticFile> files = DashboardFiles();
  auto it = std::lower_bound(files.begin(), files.end(), path,
                             [](const StaticFile& f, std::string_view p) { return f.path < p; });
  return it != files.end() && it->path == path ? &*it : nullptr;
}

void HandleDashboardIndex(HandlerContext&, const httplib::Request& req, httplib::Response& res) {
  const StaticFile* index = FindDashboardFile("index.html");
  if (index == nullptr) {
    SendProblem(req, res, 404, "this build has no dashboard");
    return;
  }
  SendFile(req, res, *index);
}

void HandleDashboardAsset(HandlerContext&, const httplib::Request& req, httplib::Response& res) {
  // The route's pattern admits only "/ui/" followed by a name of [A-Za-z0-9._-] segments.
  const std::string path = "ui/" + req.matches[1].str();
  const StaticFile* file = FindDashboardFile(path);
  if (file == nullptr) {
    SendProblem(req, res, 404, "no dashboard file " + req.path);
    return;
  }
  SendFile(req, res, *file);
}

}  // namespace exportd::api
