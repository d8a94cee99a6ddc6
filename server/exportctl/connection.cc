#include "server/exportctl/connection.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace exportd::ctl {
namespace {

std::string Trim(const std::string& s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string OctalMode(mode_t mode) {
  std::ostringstream out;
  out << '0' << std::oct << (mode & 07777);
  return out.str();
}

// The profile's settings; empty map when the file does not exist.
Result<std::map<std::string, std::string>> ReadProfile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::map<std::string, std::string>{};
    return Status(StatusCode::kUnavailable, path + ": " + std::strerror(errno));
  }
  if (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    return PermissionDenied(
        "refusing to read " + path + ": it holds an API key, so it must be " +
        "yours and private (mode 0600), but it has mode " + OctalMode(st.st_mode) +
        (st.st_uid != ::geteuid() ? " and another owner" : "") + "; run: chmod 600 " + path);
  }
  std::ifstream in(path);
  if (!in) return Status(StatusCode::kUnavailable, path + ": cannot open");
  std::map<std::string, std::string> out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string text = Trim(line);
    if (text.empty() || text[0] == '#') continue;
    const size_t eq = text.find('=');
    const std::string key = eq == std::string::npos ? text : Trim(text.substr(0, eq));
    if (eq == std::string::npos || (key != "url" && key != "token")) {
      return InvalidArgument(path + ":" + std::to_string(number) +
                             ": expected 'url = ...' or 'token = ...'");
    }
    out[key] = Trim(text.substr(eq + 1));
  }
  return out;
}

std::optional<std::string> NonEmpty(const std::optional<std::string>& v) {
  if (v && !v->empty()) return v;
  return std::nullopt;
}

}  // namespace

std::string DefaultProfilePath() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return "";
  return std::string(home) + "/.config/exportd/config";
}

Result<Connection> ResolveConnection(const ConnectionSources& sources) {
  std::optional<std::string> url = sources.flag_url ? sources.flag_url : NonEmpty(sources.env_url);
  std::optional<std::string> token =
      sources.flag_token ? sources.flag_token : NonEmpty(sources.env_token);
  if ((!url || !token) && !sources.profile_path.empty()) {
    ASSIGN_OR_RETURN(auto profile, ReadProfile(sources.profile_path));
    if (!url && profile.count("url") > 0) url = profile["url"];
    if (!token && profile.count("token") > 0) token = profile["token"];
  }
  Connection c{url.value_or(kDefaultUrl), token.value_or("")};
  if (c.url.find("://") == std::string::npos) c.url = "http://" + c.url;
  while (!c.url.empty() && c.url.back() == '/') c.url.pop_back();
  return c;
}

}  // namespace exportd::ctl
