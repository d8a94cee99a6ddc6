// Reading the JSON config file: the one error shape and the one typed read every config block
// (server/config.cc, s3_config.cc, encryption_config.cc) uses.
#ifndef EXPORTD_SERVER_CONFIG_JSON_H_
#define EXPORTD_SERVER_CONFIG_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace exportd {

inline Status ConfigError(const std::string& msg) {
  return InvalidArgument("configuration: " + msg);
}

// Sets `out` from obj[key] when the key is present and not null; leaves it alone otherwise.
// A value of the wrong JSON type is a ConfigError naming `where` + key (e.g. "storage.bucket").
template <typename T>
Status ReadConfigKey(const nlohmann::json& obj, const char* key, T& out, std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  try {
    out = it->template get<T>();
  } catch (const nlohmann::json::exception&) {
    return ConfigError(std::string(where) + key + " has the wrong type");
  }
  return Status::Ok();
}

}  // namespace exportd

#endif  // EXPORTD_SERVER_CONFIG_JSON_H_
