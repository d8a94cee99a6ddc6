// Where exportctl connects and with which key: --url/--token, else EXPORTD_URL/EXPORTD_TOKEN,
// else the profile file ~/.config/exportd/config, else http://127.0.0.1:8080 and no key.
#ifndef EXPORTD_SERVER_EXPORTCTL_CONNECTION_H_
#define EXPORTD_SERVER_EXPORTCTL_CONNECTION_H_

#include <optional>
#include <string>

#include "core/status.h"

namespace exportd::ctl {

inline constexpr const char* kDefaultUrl = "http://127.0.0.1:8080";

struct Connection {
  std::string url;    // without a trailing '/'
  std::string token;  // empty: no Authorization header
};

struct ConnectionSources {
  std::optional<std::string> flag_url, flag_token;
  std::optional<std::string> env_url, env_token;  // empty values count as absent
  std::string profile_path;                       // "" : no profile file
};

// The profile file's path: $HOME/.config/exportd/config ("" without HOME).
std::string DefaultProfilePath();

// Precedence per setting: flag > environment > profile file. The profile file is read only when
// a setting is still missing, and then only if it is owned by this user with no permission for
// group or others (0600 or 0400): otherwise kPermissionDenied saying how to fix it. A missing
// file is no error. Its format: `url = ...` and `token = ...` lines, `#` comments, blank lines;
// anything else is kInvalidArgument naming the line.
Result<Connection> ResolveConnection(const ConnectionSources& sources);

}  // namespace exportd::ctl

#endif  // EXPORTD_SERVER_EXPORTCTL_CONNECTION_H_
