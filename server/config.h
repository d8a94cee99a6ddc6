// exportd's configuration: a JSON file (--config), EXPORTD_* environment overrides and flags,
// applied in that order. ../shared/API.md's "Configuration outline" names the keys.
#ifndef EXPORTD_SERVER_CONFIG_H_
#define EXPORTD_SERVER_CONFIG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/dataset.h"
#include "core/status.h"
#include "storage/fault_injection.h"

namespace exportd {

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./data";
  int workers = 3;
  int max_attempts = 3;
  int64_t download_url_ttl_seconds = 86400;
  int64_t retry_base_delay_ms = 1000;
  int64_t retry_max_delay_ms = 60000;
  int64_t max_rows_per_second = 0;  // per export; 0 = unlimited
  std::string public_url;           // empty: "http://" + listen
  int64_t demo_rows = 100000;
  std::string log_level = "info";
  int http_threads = 8;
  // A running task is leased to this instance for this long; renewed about every third of it.
  int64_t lease_seconds = 30;
  // On SIGTERM, how long running exports may take to reach their next checkpoint.
  int64_t drain_timeout_seconds = 30;
  std::string storage_type = "local";
  // Empty: the demo dataset is created under data_dir and served.
  std::vector<DatasetSpec> datasets;
  // Tests only: makes sources and the object store fail on purpose. Absent = off.
  std::optional<FaultInjectionOptions> fault_injection;
  // Keys that were present but are not (yet) understood; reported as warnings at start-up.
  std::vector<std::string> ignored_keys;

  // "127.0.0.1:8080" -> host and port. Checked by Validate().
  std::string ListenHost() const;
  int ListenPort() const;
  std::string PublicUrl() const;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// The process environment.
EnvLookup ProcessEnv();

// Parses a config file's text. Relative paths inside are resolved against `base_dir`.
Result<Config> ParseConfig(const std::string& json_text, const std::string& base_dir);
// Reads and parses a file; kNotFound / kInvalidArgument with the file name in the message.
Result<Config> LoadConfigFile(const std::string& path);
// Applies EXPORTD_<NAME> overrides of the top-level scalars.
Status ApplyEnvironment(Config& config, const EnvLookup& env);
// Range and shape checks after every source has been applied.
Status Validate(const Config& config);

}  // namespace exportd

#endif  // EXPORTD_SERVER_CONFIG_H_
