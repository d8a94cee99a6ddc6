#include "server/config.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "api/request_codec.h"
#include "core/duration.h"
#include "server/config_json.h"
#include "storage/notify/outbound_policy.h"

namespace exportd {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute() || base_dir.empty()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

template <typename T>
Status Read(const json& obj, const char* key, T& out, const std::string& where) {
  return ReadConfigKey(obj, key, out, where);
}

// A duration key: whole seconds (a JSON integer) or a string for ParseDuration ("7d").
Status ReadDuration(const json& obj, const char* key, std::chrono::seconds& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  Result<std::chrono::seconds> parsed = InvalidArgument("unset");
  if (it->is_string()) {
    parsed = ParseDuration(it->get_ref<const std::string&>());
  } else if (it->is_number_integer()) {
    parsed = DurationFromSeconds(it->get<int64_t>());
  } else {
    return ConfigError(std::string(key) + " must be whole seconds or a duration such as \"7d\"");
  }
  if (!parsed.ok()) return ConfigError(std::string(key) + ": " + parsed.status().message());
  out = *parsed;
  return Status::Ok();
}

Result<std::vector<std::string>> ReadLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("configuration: cannot read fields_file " + path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  }
  return lines;
}

// The keys of recurring exports: time_zone, settle_seconds, row_filter, metrics. Their meaning
// against the dataset (a known zone, known fields, values of the fields' types) is checked when
// the dataset is resolved (LoadDatasets, server/datasets.h).
Status ParseDatasetRules(const json& d, const std::string& where, DatasetSpec& spec) {
  std::string time_zone;
  RETURN_IF_ERROR(Read(d, "time_zone", time_zone, where));
  if (!time_zone.empty()) spec.time_zone = time_zone;
  RETURN_IF_ERROR(Read(d, "settle_seconds", spec.settle_seconds, where));
  RETURN_IF_ERROR(Read(d, "importable", spec.importable, where));
  if (spec.settle_seconds < 0) {
    return ConfigError(where + "settle_seconds must be 0 or more, not " +
                       std::to_string(spec.settle_seconds));
  }
  if (auto filter = d.find("row_filter"); filter != d.end() && !filter->is_null()) {
    Result<std::vector<Condition>> parsed = api::ParseFilterJson(*filter);
    if (!parsed.ok()) {
      return ConfigError(where + "row_filter: " + parsed.status().message() + " (at " +
                         parsed.status().pointer() + ")");
    }
    spec.row_filter = std::move(parsed).value();
  }
  if (auto metrics = d.find("metrics"); metrics != d.end() && !metrics->is_null()) {
    if (!metrics->is_object()) return ConfigError(where + "metrics must be an object");
    for (const auto& [key, value] : metrics->items()) {
      if (key != "count_distinct") {
        return ConfigError(where + "metrics." + key + " is not a known key (count_distinct)");
      }
    }
    RETURN_IF_ERROR(Read(*metrics, "count_distinct", spec.count_distinct, where + "metrics."));
  }
  return Status::Ok();
}

Result<DatasetSpec> ParseDataset(const json& d, size_t index, const std::string& base_dir) {
  std::string where = "datasets[" + std::to_string(index) + "].";
  if (!d.is_object()) return ConfigError(where + " must be an object");
  DatasetSpec spec;
  RETURN_IF_ERROR(Read(d, "name", spec.name, where));
  RETURN_IF_ERROR(Read(d, "description", spec.description, where));
  RETURN_IF_ERROR(Read(d, "key", spec.key, where));
  std::string time_field, partition_field;
  RETURN_IF_ERROR(Read(d, "time_field", time_field, where));
  RETURN_IF_ERROR(Read(d, "partition_field", partition_field, where));
  if (!time_field.empty()) spec.time_field = time_field;
  if (!partition_field.empty()) spec.partition_field = partition_field;
  RETURN_IF_ERROR(Read(d, "columns", spec.columns, where));
  if (spec.name.empty()) return ConfigError(where + "name is required");
  for (char c : spec.name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return ConfigError(where + "name '" + spec.name + "' may hold only letters, digits, _ - .");
    }
  }
  if (spec.key.empty()) return ConfigError(where + "key is required");
  auto source = d.find("source");
  if (source == d.end() || !source->is_object()) {
    return ConfigError(where + "source is required (an object)");
  }
  RETURN_IF_ERROR(Read(*source, "type", spec.source.type, where + "source."));
  RETURN_IF_ERROR(Read(*source, "path", spec.source.path, where + "source."));
  RETURN_IF_ERROR(Read(*source, "table", spec.source.table, where + "source."));
  RETURN_IF_ERROR(Read(*source, "url", spec.source.url, where + "source."));
  RETURN_IF_ERROR(Read(*source, "busy_timeout_ms", spec.source.busy_timeout_ms, where + "source."));
  if (spec.source.type == "postgres") {
    if (spec.source.url.empty() || spec.source.table.empty()) {
      return ConfigError(where + "source.url and source.table are required for a postgres source");
    }
    if (!spec.source.path.empty()) {
      return ConfigError(where + "source.path is for sqlite sources; a postgres source has a url");
    }
  } else if (spec.source.type == "sqlite") {
    if (spec.source.path.empty() || spec.source.table.empty()) {
      return ConfigError(where + "source.path and source.table are required");
    }
    if (!spec.source.url.empty()) {
      return ConfigError(where + "source.url is for postgres sources; a sqlite source has a path");
    }
    spec.source.path = Resolve(base_dir, spec.source.path);
  } else {
    return ConfigError(where + "source.type '" + spec.source.type +
                       "' is not supported (sqlite or postgres)");
  }
  auto doc = d.find("document");
  if (doc != d.end() && !doc->is_null()) {
    if (!doc->is_object()) return ConfigError(where + "document must be an object");
    DocumentSpec document;
    RETURN_IF_ERROR(Read(*doc, "column", document.column, where + "document."));
    RETURN_IF_ERROR(Read(*doc, "fields", document.fields, where + "document."));
    std::string fields_file;
    RETURN_IF_ERROR(Read(*doc, "fields_file", fields_file, where + "document."));
    if (!fields_file.empty()) {
      ASSIGN_OR_RETURN(std::vector<std::string> more, ReadLines(Resolve(base_dir, fields_file)));
      document.fields.insert(document.fields.end(), more.begin(), more.end());
    }
    if (document.column.empty()) return ConfigError(where + "document.column is required");
    spec.document = std::move(document);
  }
  RETURN_IF_ERROR(ParseDatasetRules(d, where, spec));
  if (spec.importable && spec.source.type != "sqlite") {
    return ConfigError(where + "importable is supported for sqlite sources only");
  }
  return spec;
}

const std::set<std::string>& KnownKeys() {
  static const std::set<std::string> keys = {"smtp",
                                             "webhook_secret_env",
                                             "webhook_allowlist",
                                             "notification_retry_base_ms",
                                             "notification_attempts",
                                             "listen",
                                             "data_dir",
                                             "workers",
                                             "max_running_cluster",
                                             "max_attempts",
                                             "threads_per_export",
                                             "download_url_ttl_seconds",
                                             "retry_base_delay_ms",
                                             "retry_max_delay_ms",
                                             "max_rows_per_second",
                                             "public_url",
                                             "demo_rows",
                                             "log_level",
                                             "log_format",
                                             "http_threads",
                                             "storage",
                                             "datasets",
                                             "fault_injection",
                                             "lease_seconds",
                                             "drain_timeout_seconds",
                                             "tls_cert",
                                             "tls_key",
                                             "retention",
                                             "max_retention",
                                             "janitor_interval_seconds",
                                             "oauth",
                                             "encryption",
                                             "rate_limit_per_second",
                                             "rate_limit_burst",
                                             "read_timeout_seconds",
                                             "write_timeout_seconds",
                                             "max_body_bytes",
                                             "max_export_body_bytes",
                                             "max_import_upload_bytes",
                                             "max_active_tasks",
                                             "header_timeout_seconds",
                                             "max_connections_per_client",
                                             "escape_formulas",
                                             "trust_forwarded_for",
                                             "task_store",
                                             "instance_id"};
  return keys;
}

#ifdef EXPORTD_WITH_FAULT_INJECTION
// "fault_injection": {"seed": 1, "source": {...}, "object_store": {...}}
// (storage/faults/fault_injection.h).
Result<FaultInjectionOptions> ParseFaultInjection(const json& f) {
  const std::string where = "fault_injection.";
  if (!f.is_object()) return ConfigError("fault_injection must be an object");
  FaultInjectionOptions o;
  RETURN_IF_ERROR(Read(f, "seed", o.seed, where));
  if (auto s = f.find("source"); s != f.end() && !s->is_null()) {
    if (!s->is_object()) return ConfigError(where + "source must be an object");
    const std::string at = where + "source.";
    std::string mode = "transient";
    RETURN_IF_ERROR(Read(*s, "mode", mode, at));
    if (mode != "transient" && mode != "permanent") {
      return ConfigError(at + "mode must be transient or permanent");
    }
    o.source.mode = mode == "permanent" ? FaultMode::kPermanent : FaultMode::kTransient;
    RETURN_IF_ERROR(Read(*s, "fail_rate", o.source.fail_rate, at));
    RETURN_IF_ERROR(Read(*s, "fail_window_rows", o.source.fail_window_rows, at));
    RETURN_IF_ERROR(Read(*s, "fail_nth_count", o.source.fail_nth_count, at));
    RETURN_IF_ERROR(Read(*s, "fail_nth_read", o.source.fail_nth_read, at));
    RETURN_IF_ERROR(Read(*s, "fail_after_rows", o.source.fail_after_rows, at));
    RETURN_IF_ERROR(Read(*s, "max_faults", o.source.max_faults, at));
  }
  if (auto s = f.find("object_store"); s != f.end() && !s->is_null()) {
    if (!s->is_object()) return ConfigError(where + "object_store must be an object");
    const std::string at = where + "object_store.";
    RETURN_IF_ERROR(Read(*s, "write_fail_rate", o.object_store.write_fail_rate, at));
    RETURN_IF_ERROR(Read(*s, "commit_fail_rate", o.object_store.commit_fail_rate, at));
    RETURN_IF_ERROR(Read(*s, "fail_nth_write", o.object_store.fail_nth_write, at));
    RETURN_IF_ERROR(Read(*s, "fail_nth_commit", o.object_store.fail_nth_commit, at));
    RETURN_IF_ERROR(Read(*s, "enospc", o.object_store.enospc, at));
    RETURN_IF_ERROR(Read(*s, "enospc_after_bytes", o.object_store.enospc_after_bytes, at));
    RETURN_IF_ERROR(Read(*s, "max_faults", o.object_store.max_faults, at));
  }
  RETURN_IF_ERROR(o.Validate());
  return o;
}
#endif

// "smtp": {"url", "from", "username", "password_env", "starttls", "ca_file", "insecure"}.
Result<SmtpConfig> ParseSmtp(const json& s, const std::string& base_dir) {
  const std::string where = "smtp.";
  if (!s.is_object()) return ConfigError("smtp must be an object");
  static const std::set<std::string> known = {"url",      "from",    "username", "password_env",
                                              "starttls", "ca_file", "insecure"};
  for (const auto& [key, value] : s.items()) {
    if (!known.count(key)) return ConfigError(where + key + " is not a known key");
  }
  SmtpConfig o;
  RETURN_IF_ERROR(Read(s, "url", o.url, where));
  RETURN_IF_ERROR(Read(s, "from", o.from, where));
  RETURN_IF_ERROR(Read(s, "username", o.username, where));
  RETURN_IF_ERROR(Read(s, "password_env", o.password_env, where));
  RETURN_IF_ERROR(Read(s, "starttls", o.starttls, where));
  RETURN_IF_ERROR(Read(s, "ca_file", o.ca_file, where));
  RETURN_IF_ERROR(Read(s, "insecure", o.insecure, where));
  if (!o.ca_file.empty()) o.ca_file = Resolve(base_dir, o.ca_file);
  return o;
}

Result<int64_t> ParseInt(const std::string& name, const std::string& text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return ConfigError(name + "='" + text + "' is not an integer");
  }
  return value;
}

}  // namespace

std::string Config::ListenHost() const { return listen.substr(0, listen.rfind(':')); }

int Config::ListenPort() const {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return -1;
  int port = -1;
  std::string text = listen.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || ptr != text.data() + text.size()) return -1;
  return port;
}

std::string Config::PublicUrl() const {
  if (!public_url.empty()) return public_url;
  std::string host = ListenHost();
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  return (tls_cert.empty() ? "http://" : "https://") + host + ":" + std::to_string(ListenPort());
}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<Config> ParseConfig(const std::string& json_text, const std::string& base_dir) {
  json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (root.is_discarded()) return ConfigError("not valid JSON");
  if (!root.is_object()) return ConfigError("the top level must be an object");
  Config config;
  RETURN_IF_ERROR(Read(root, "listen", config.listen, ""));
  RETURN_IF_ERROR(Read(root, "data_dir", config.data_dir, ""));
  RETURN_IF_ERROR(Read(root, "workers", config.workers, ""));
  RETURN_IF_ERROR(Read(root, "max_running_cluster", config.max_running_cluster, ""));
  RETURN_IF_ERROR(Read(root, "threads_per_export", config.threads_per_export, ""));
  RETURN_IF_ERROR(Read(root, "max_attempts", config.max_attempts, ""));
  RETURN_IF_ERROR(Read(root, "download_url_ttl_seconds", config.download_url_ttl_seconds, ""));
  RETURN_IF_ERROR(Read(root, "retry_base_delay_ms", config.retry_base_delay_ms, ""));
  RETURN_IF_ERROR(Read(root, "retry_max_delay_ms", config.retry_max_delay_ms, ""));
  RETURN_IF_ERROR(Read(root, "max_rows_per_second", config.max_rows_per_second, ""));
  RETURN_IF_ERROR(Read(root, "public_url", config.public_url, ""));
  RETURN_IF_ERROR(Read(root, "demo_rows", config.demo_rows, ""));
  RETURN_IF_ERROR(Read(root, "log_level", config.log_level, ""));
  RETURN_IF_ERROR(Read(root, "log_format", config.log_format, ""));
  RETURN_IF_ERROR(Read(root, "http_threads", config.http_threads, ""));
  RETURN_IF_ERROR(Read(root, "rate_limit_per_second", config.rate_limit_per_second, ""));
  RETURN_IF_ERROR(Read(root, "rate_limit_burst", config.rate_limit_burst, ""));
  RETURN_IF_ERROR(Read(root, "max_active_tasks", config.max_active_tasks, ""));
  RETURN_IF_ERROR(Read(root, "read_timeout_seconds", config.read_timeout_seconds, ""));
  RETURN_IF_ERROR(Read(root, "write_timeout_seconds", config.write_timeout_seconds, ""));
  RETURN_IF_ERROR(Read(root, "header_timeout_seconds", config.header_timeout_seconds, ""));
  RETURN_IF_ERROR(Read(root, "max_connections_per_client", config.max_connections_per_client, ""));
  RETURN_IF_ERROR(Read(root, "max_body_bytes", config.max_body_bytes, ""));
  RETURN_IF_ERROR(Read(root, "max_export_body_bytes", config.max_export_body_bytes, ""));
  RETURN_IF_ERROR(Read(root, "max_import_upload_bytes", config.max_import_upload_bytes, ""));
  RETURN_IF_ERROR(Read(root, "trust_forwarded_for", config.trust_forwarded_for, ""));
  RETURN_IF_ERROR(Read(root, "lease_seconds", config.lease_seconds, ""));
  RETURN_IF_ERROR(Read(root, "drain_timeout_seconds", config.drain_timeout_seconds, ""));
  RETURN_IF_ERROR(Read(root, "webhook_secret_env", config.webhook_secret_env, ""));
  RETURN_IF_ERROR(Read(root, "webhook_allowlist", config.webhook_allowlist, ""));
  RETURN_IF_ERROR(Read(root, "notification_retry_base_ms", config.notification_retry_base_ms, ""));
  RETURN_IF_ERROR(Read(root, "notification_attempts", config.notification_attempts, ""));
  if (auto smtp = root.find("smtp"); smtp != root.end() && !smtp->is_null()) {
    ASSIGN_OR_RETURN(config.smtp, ParseSmtp(*smtp, base_dir));
  }
  RETURN_IF_ERROR(ReadDuration(root, "retention", config.retention));
  RETURN_IF_ERROR(ReadDuration(root, "max_retention", config.max_retention));
  RETURN_IF_ERROR(Read(root, "janitor_interval_seconds", config.janitor_interval_seconds, ""));
  RETURN_IF_ERROR(Read(root, "escape_formulas", config.escape_formulas, ""));
  RETURN_IF_ERROR(Read(root, "tls_cert", config.tls_cert, ""));
  RETURN_IF_ERROR(Read(root, "tls_key", config.tls_key, ""));
  config.data_dir = Resolve(base_dir, config.data_dir);
  if (!config.tls_cert.empty()) config.tls_cert = Resolve(base_dir, config.tls_cert);
  if (!config.tls_key.empty()) config.tls_key = Resolve(base_dir, config.tls_key);
  if (auto storage = root.find("storage"); storage != root.end() && !storage->is_null()) {
    if (!storage->is_object()) return ConfigError("storage must be an object");
    RETURN_IF_ERROR(Read(*storage, "type", config.storage_type, "storage."));
    if (config.storage_type == "s3") {
      RETURN_IF_ERROR(ParseS3StorageConfig(*storage, config.s3, config.ignored_keys));
    }
  }
  if (auto t = root.find("task_store"); t != root.end() && !t->is_null()) {
    if (!t->is_object()) return ConfigError("task_store must be an object");
    static const std::set<std::string> known = {"type", "url", "pool_size"};
    for (const auto& [key, value] : t->items()) {
      if (!known.count(key)) return ConfigError("task_store." + key + " is not a known key");
    }
    RETURN_IF_ERROR(Read(*t, "type", config.task_store.type, "task_store."));
    RETURN_IF_ERROR(Read(*t, "url", config.task_store.url, "task_store."));
    RETURN_IF_ERROR(Read(*t, "pool_size", config.task_store.pool_size, "task_store."));
  }
  RETURN_IF_ERROR(Read(root, "instance_id", config.instance_id, ""));
  if (auto e = root.find("encryption"); e != root.end() && !e->is_null()) {
    RETURN_IF_ERROR(ParseEncryptionConfig(*e, base_dir, config.encryption, config.ignored_keys));
  }
  if (auto datasets = root.find("datasets"); datasets != root.end() && !datasets->is_null()) {
    if (!datasets->is_array()) return ConfigError("datasets must be an array");
    for (size_t i = 0; i < datasets->size(); ++i) {
      ASSIGN_OR_RETURN(DatasetSpec spec, ParseDataset((*datasets)[i], i, base_dir));
      config.datasets.push_back(std::move(spec));
    }
  }
  if (auto o = root.find("oauth"); o != root.end() && !o->is_null()) {
    if (!o->is_object()) return ConfigError("oauth must be an object");
    OAuthConfig oauth;
    RETURN_IF_ERROR(Read(*o, "issuer", oauth.issuer, "oauth."));
    RETURN_IF_ERROR(Read(*o, "audience", oauth.audience, "oauth."));
    RETURN_IF_ERROR(Read(*o, "jwks_file", oauth.jwks_file, "oauth."));
    RETURN_IF_ERROR(Read(*o, "jwks_url", oauth.jwks_url, "oauth."));
    RETURN_IF_ERROR(Read(*o, "roles_claim", oauth.roles_claim, "oauth."));
    RETURN_IF_ERROR(Read(*o, "leeway_seconds", oauth.leeway_seconds, "oauth."));
    RETURN_IF_ERROR(Read(*o, "jwks_cache_seconds", oauth.jwks_cache_seconds, "oauth."));
    if (!oauth.jwks_file.empty()) oauth.jwks_file = Resolve(base_dir, oauth.jwks_file);
    if (oauth.issuer.empty() || oauth.audience.empty()) {
      return ConfigError("oauth.issuer and oauth.audience are required");
    }
    if (!oauth.jwks_file.empty() && !oauth.jwks_url.empty()) {
      return ConfigError("oauth: give jwks_file or jwks_url, not both");
    }
    if (oauth.leeway_seconds < 0 || oauth.leeway_seconds > 600) {
      return ConfigError("oauth.leeway_seconds must be 0..600");
    }
    if (oauth.jwks_cache_seconds < 1)
      return ConfigError("oauth.jwks_cache_seconds must be positive");
    config.oauth = std::move(oauth);
  }
  if (auto f = root.find("fault_injection"); f != root.end() && !f->is_null()) {
#ifdef EXPORTD_WITH_FAULT_INJECTION
    ASSIGN_OR_RETURN(config.fault_injection, ParseFaultInjection(*f));
#else
    return ConfigError(
        "fault_injection: this exportd was built without fault injection "
        "(-DEXPORTD_FAULT_INJECTION=OFF, the default when the tests are not built)");
#endif
  }
  for (const auto& [key, value] : root.items()) {
    if (!KnownKeys().count(key)) config.ignored_keys.push_back(key);
  }
  return config;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read configuration file " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::string base_dir = fs::absolute(path).parent_path().string();
  Result<Config> config = ParseConfig(text.str(), base_dir);
  if (!config.ok()) return config.status().WithContext(path);
  return config;
}

Status ApplyEnvironment(Config& config, const EnvLookup& env) {
  auto text = [&](const char* name, std::string& out) {
    if (auto v = env(name)) out = *v;
  };
  auto integer = [&](const char* name, auto& out) -> Status {
    if (auto v = env(name)) {
      ASSIGN_OR_RETURN(int64_t parsed, ParseInt(name, *v));
      out = static_cast<std::remove_reference_t<decltype(out)>>(parsed);
    }
    return Status::Ok();
  };
  text("EXPORTD_LISTEN", config.listen);
  text("EXPORTD_DATA_DIR", config.data_dir);
  // A PostgreSQL URL selects the PostgreSQL store (keeping a configured pool_size).
  if (auto v = env("EXPORTD_TASK_STORE_URL"); v && !v->empty()) {
    config.task_store.type = "postgres";
    config.task_store.url = *v;
  }
  text("EXPORTD_INSTANCE_ID", config.instance_id);
  text("EXPORTD_PUBLIC_URL", config.public_url);
  text("EXPORTD_LOG_LEVEL", config.log_level);
  text("EXPORTD_LOG_FORMAT", config.log_format);
  text("EXPORTD_TLS_CERT", config.tls_cert);
  text("EXPORTD_TLS_KEY", config.tls_key);
  RETURN_IF_ERROR(integer("EXPORTD_WORKERS", config.workers));
  RETURN_IF_ERROR(integer("EXPORTD_MAX_RUNNING_CLUSTER", config.max_running_cluster));
  RETURN_IF_ERROR(integer("EXPORTD_THREADS_PER_EXPORT", config.threads_per_export));
  RETURN_IF_ERROR(integer("EXPORTD_MAX_ATTEMPTS", config.max_attempts));
  RETURN_IF_ERROR(integer("EXPORTD_DOWNLOAD_URL_TTL_SECONDS", config.download_url_ttl_seconds));
  RETURN_IF_ERROR(integer("EXPORTD_RETRY_BASE_DELAY_MS", config.retry_base_delay_ms));
  RETURN_IF_ERROR(integer("EXPORTD_RETRY_MAX_DELAY_MS", config.retry_max_delay_ms));
  RETURN_IF_ERROR(integer("EXPORTD_MAX_ROWS_PER_SECOND", config.max_rows_per_second));
  RETURN_IF_ERROR(integer("EXPORTD_DEMO_ROWS", config.demo_rows));
  RETURN_IF_ERROR(integer("EXPORTD_HTTP_THREADS", config.http_threads));
  RETURN_IF_ERROR(integer("EXPORTD_LEASE_SECONDS", config.lease_seconds));
  RETURN_IF_ERROR(integer("EXPORTD_DRAIN_TIMEOUT_SECONDS", config.drain_timeout_seconds));
  if (config.storage_type == "s3") ApplyAwsEnvironment(config.s3, env);
  RETURN_IF_ERROR(ApplyEncryptionEnvironment(config.encryption, env));
  text("EXPORTD_WEBHOOK_SECRET_ENV", config.webhook_secret_env);
  if (auto v = env("EXPORTD_WEBHOOK_ALLOWLIST")) {  // comma-separated CIDRs
    config.webhook_allowlist.clear();
    std::string item;
    for (char c : *v + ",") {
      if (c == ',') {
        if (!item.empty()) config.webhook_allowlist.push_back(item);
        item.clear();
      } else if (c != ' ') {
        item.push_back(c);
      }
    }
  }
  RETURN_IF_ERROR(integer("EXPORTD_NOTIFICATION_RETRY_BASE_MS", config.notification_retry_base_ms));
  RETURN_IF_ERROR(integer("EXPORTD_NOTIFICATION_ATTEMPTS", config.notification_attempts));
  RETURN_IF_ERROR(integer("EXPORTD_JANITOR_INTERVAL_SECONDS", config.janitor_interval_seconds));
  if (auto v = env("EXPORTD_ESCAPE_FORMULAS")) {
    if (*v != "true" && *v != "false") {
      return ConfigError("EXPORTD_ESCAPE_FORMULAS must be true or false, not '" + *v + "'");
    }
    config.escape_formulas = *v == "true";
  }
  for (auto [name, out] : {std::pair{"EXPORTD_RETENTION", &config.retention},
                           std::pair{"EXPORTD_MAX_RETENTION", &config.max_retention}}) {
    if (auto v = env(name)) {
      Result<std::chrono::seconds> parsed = ParseDuration(*v);
      if (!parsed.ok()) return ConfigError(std::string(name) + ": " + parsed.status().message());
      *out = *parsed;
    }
  }
  return Status::Ok();
}

Status Validate(const Config& config) {
  int port = config.ListenPort();
  if (port < 0 || port > 65535 || config.ListenHost().empty()) {
    return ConfigError("listen must be HOST:PORT, got '" + config.listen + "'");
  }
  if (config.data_dir.empty()) return ConfigError("data_dir is empty");
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    return ConfigError("tls_cert and tls_key go together: give both or neither");
  }
  if (config.workers < 1 || config.workers > 256) return ConfigError("workers must be 1..256");
  if (config.max_running_cluster < 0 || config.max_running_cluster > 100000) {
    return ConfigError("max_running_cluster must be 0..100000 (0: no cap)");
  }
  if (config.threads_per_export < 1 || config.threads_per_export > 64) {
    return ConfigError("threads_per_export must be 1..64");
  }
  if (config.max_attempts < 1 || config.max_attempts > 100) {
    return ConfigError("max_attempts must be 1..100");
  }
  if (config.download_url_ttl_seconds < 1) {
    return ConfigError("download_url_ttl_seconds must be positive");
  }
  if (config.retry_base_delay_ms < 0 || config.retry_max_delay_ms < config.retry_base_delay_ms) {
    return ConfigError("need 0 <= retry_base_delay_ms <= retry_max_delay_ms");
  }
  if (config.max_rows_per_second < 0) return ConfigError("max_rows_per_second must be >= 0");
  if (config.demo_rows < 1) return ConfigError("demo_rows must be positive");
  if (config.rate_limit_per_second < 0 || config.rate_limit_burst < 0 ||
      (config.rate_limit_per_second > 0 && config.rate_limit_burst < 1)) {
    return ConfigError(
        "rate_limit_per_second must be >= 0 (0: no limit) and rate_limit_burst >= 1");
  }
  if (config.max_active_tasks < 0)
    return ConfigError("max_active_tasks must be >= 0 (0: no quota)");
  if (config.read_timeout_seconds < 1 || config.read_timeout_seconds > 3600 ||
      config.write_timeout_seconds < 1 || config.write_timeout_seconds > 3600) {
    return ConfigError("read_timeout_seconds and write_timeout_seconds must be 1..3600");
  }
  if (config.header_timeout_seconds < 1 || config.header_timeout_seconds > 3600) {
    return ConfigError("header_timeout_seconds must be 1..3600");
  }
  if (config.max_connections_per_client < 0 || config.max_connections_per_client > 100000) {
    return ConfigError("max_connections_per_client must be 0..100000 (0: no cap)");
  }
  if (config.max_body_bytes < 1024 || config.max_body_bytes > (int64_t{64} << 20)) {
    return ConfigError("max_body_bytes must be 1024..67108864");
  }
  if (config.max_export_body_bytes < 1024 || config.max_export_body_bytes > (int64_t{64} << 20)) {
    return ConfigError("max_export_body_bytes must be 1024..67108864");
  }
  if (config.max_import_upload_bytes < 1024 ||
      config.max_import_upload_bytes > (int64_t{1} << 40)) {
    return ConfigError("max_import_upload_bytes must be 1024..1099511627776");
  }
  if (config.http_threads < 1 || config.http_threads > 1024) {
    return ConfigError("http_threads must be 1..1024");
  }
  // Renewal happens about every third of the lease: below 3 s it would be mostly heartbeats.
  if (config.lease_seconds < 3 || config.lease_seconds > 86400) {
    return ConfigError("lease_seconds must be 3..86400");
  }
  if (config.drain_timeout_seconds < 0 || config.drain_timeout_seconds > 86400) {
    return ConfigError("drain_timeout_seconds must be 0..86400");
  }
  if (config.retention < std::chrono::seconds(1)) {
    return ConfigError("retention must be at least 1 second");
  }
  if (config.max_retention < config.retention) {
    return ConfigError("max_retention (" + FormatDuration(config.max_retention) +
                       ") must be at least retention (" + FormatDuration(config.retention) + ")");
  }
  if (config.janitor_interval_seconds < 1 || config.janitor_interval_seconds > 86400) {
    return ConfigError("janitor_interval_seconds must be 1..86400");
  }
  if (config.task_store.type == "postgres") {
    if (config.task_store.url.empty()) {
      return ConfigError("task_store.url is required for a postgres task store");
    }
    if (config.task_store.pool_size < 1 || config.task_store.pool_size > 256) {
      return ConfigError("task_store.pool_size must be 1..256");
    }
  } else if (config.task_store.type != "sqlite") {
    return ConfigError("task_store.type '" + config.task_store.type +
                       "' is not supported (sqlite or postgres)");
  }
  if (!config.instance_id.empty()) {
    if (config.instance_id.size() > 64 ||
        config.instance_id.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
            std::string::npos) {
      return ConfigError("instance_id must be 1..64 of A-Z a-z 0-9 _ . -");
    }
  }
  if (config.storage_type == "s3") {
    RETURN_IF_ERROR(ValidateS3StorageConfig(config.s3));
  } else if (config.storage_type != "local") {
    return ConfigError("storage.type '" + config.storage_type + "' is not supported (local or s3)");
  }
  RETURN_IF_ERROR(ValidateEncryptionConfig(config.encryption));
  if (config.notification_retry_base_ms < 1 || config.notification_retry_base_ms > 3600000) {
    return ConfigError("notification_retry_base_ms must be 1..3600000");
  }
  if (config.notification_attempts < 1 || config.notification_attempts > 20) {
    return ConfigError("notification_attempts must be 1..20");
  }
  if (config.webhook_secret_env.empty()) return ConfigError("webhook_secret_env is empty");
  for (const std::string& cidr : config.webhook_allowlist) {
    if (Result<IpNetwork> net = ParseCidr(cidr); !net.ok()) {
      return ConfigError("webhook_allowlist: " + net.status().message());
    }
  }
  if (const auto& smtp = config.smtp) {
    if (smtp->url.rfind("smtp://", 0) != 0 && smtp->url.rfind("smtps://", 0) != 0) {
      return ConfigError("smtp.url must start with smtp:// or smtps://");
    }
    if (smtp->starttls && smtp->url.rfind("smtps://", 0) == 0) {
      return ConfigError("smtp.starttls is for smtp:// (smtps:// is TLS from the start)");
    }
    if (smtp->from.empty()) return ConfigError("smtp.from is required");
    if (!smtp->username.empty() && smtp->password_env.empty()) {
      return ConfigError("smtp.username needs smtp.password_env (the variable with the password)");
    }
  }
  static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "off"};
  if (!levels.count(config.log_level)) {
    return ConfigError("log_level must be one of trace, debug, info, warn, error, off");
  }
  if (config.log_format != "text" && config.log_format != "json") {
    return ConfigError("log_format must be text or json");
  }
  return Status::Ok();
}

}  // namespace exportd
