// exportd's configuration: a JSON file (--config), EXPORTD_* environment overrides and flags,
// applied in that order. ../shared/API.md's "Configuration outline" names the keys.
#ifndef EXPORTD_SERVER_CONFIG_H_
#define EXPORTD_SERVER_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/dataset.h"
#include "core/status.h"
#include "server/encryption_config.h"
#include "server/s3_config.h"
#include "storage/faults/fault_injection.h"

namespace exportd {

// "smtp": how email notifications are sent (storage/notify/smtp_notifier.h).
struct SmtpConfig {
  std::string url;           // smtp://host:port or smtps://host:port
  std::string from;          // envelope sender and From header
  std::string username;      // empty: no AUTH
  std::string password_env;  // name of the environment variable holding the password
  bool starttls = false;     // smtp:// only: STARTTLS, required
  std::string ca_file;       // relative to the config file; empty: the system's CAs
  bool insecure = false;     // tests only: do not verify the server's certificate
};

// OAuth 2.0 bearer tokens (JWTs) accepted besides API keys; see api/jwt_verifier.h.
struct OAuthConfig {
  std::string issuer;     // required; "iss" must equal it
  std::string audience;   // required; "aud" must contain it
  std::string jwks_file;  // a JWKS file (may hold "oct" HS256 secrets: keep it 0600), or
  std::string jwks_url;   // the issuer's key set; both empty: OpenID discovery at issuer
  std::string roles_claim = "roles";
  int64_t leeway_seconds = 60;
  int64_t jwks_cache_seconds = 300;
};

// "task_store": where tasks, keys and schedules live. SQLite (DATA_DIR/exportd.db, one machine)
// or a PostgreSQL database that several instances may share (storage/postgres).
struct TaskStoreConfig {
  std::string type = "sqlite";  // "sqlite" or "postgres"
  std::string url;              // postgres: a libpq URL or connection string
  int pool_size = 8;            // postgres: connections per instance
};

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./data";
  TaskStoreConfig task_store;
  // The owner named in the leases of the tasks this instance runs. Empty: with SQLite, the one
  // kept in DATA_DIR/instance_id (stable across restarts); with PostgreSQL, a new one at each
  // start (instances sharing a database must not share an id, and a restarted instance's old
  // leases expire like those of any dead instance).
  std::string instance_id;
  int workers = 3;
  // Tasks Processing at once across every instance sharing the task store (0: no cap beyond
  // each instance's workers). Enforced by the claim itself on PostgreSQL; on SQLite (one
  // instance) it lowers workers to it.
  int max_running_cluster = 0;
  // Threads that decode and format the rows of each running export (core/parallel_rows.h).
  int threads_per_export = 2;
  int max_attempts = 3;
  int64_t download_url_ttl_seconds = 86400;
  int64_t retry_base_delay_ms = 1000;
  int64_t retry_max_delay_ms = 60000;
  int64_t max_rows_per_second = 0;  // per export; 0 = unlimited
  std::string public_url;           // empty: "http(s)://" + listen
  // PEM certificate chain and private key; when set, the listener speaks HTTPS only.
  std::string tls_cert;
  std::string tls_key;
  int64_t demo_rows = 100000;
  std::string log_level = "info";
  // "text" (one line: time, level, message) or "json" (one object per line; server/logging.h).
  std::string log_format = "text";
  // cpp-httplib keeps a keep-alive connection on one pool thread for its life: fewer threads
  // than busy clients queue whole connections (p99 in the hundreds of ms at 64 clients with 8).
  int http_threads = 64;
  // Token bucket per non-admin principal over every authenticated route (0: no limit).
  double rate_limit_per_second = 50;
  double rate_limit_burst = 100;
  // Tasks Pending or Processing at once per non-admin principal (0: no quota).
  int max_active_tasks = 10;
  // Each single read or write of a connection waits at most this long: a client that pauses
  // longer while sending its request (or reading the answer) loses the connection.
  int64_t read_timeout_seconds = 30;
  int64_t write_timeout_seconds = 60;
  // A request's line and headers must arrive whole within this time of its first byte, however
  // steadily they trickle in (slowloris); else 408 and the connection is closed.
  int64_t header_timeout_seconds = 10;
  // Connections one client address may have open at once; those beyond are refused at once
  // (503). Each open connection holds an HTTP thread, so keep it well below http_threads.
  // Behind a reverse proxy every client has the proxy's address: raise it or set 0 (no cap).
  int64_t max_connections_per_client = 16;
  int64_t max_body_bytes = 1 << 20;
  // The body limit of POST /v1/exports (record_ids lists); other routes take max_body_bytes.
  int64_t max_export_body_bytes = 4 << 20;
  // The largest file POST /v1/imports takes as its body (streamed to the import staging area
  // under DATA_DIR/imports, never held in memory).
  int64_t max_import_upload_bytes = int64_t{4} << 30;
  // Behind a reverse proxy: the audit trail's client address is the last X-Forwarded-For entry.
  // Off by default: without a proxy that sets it, any client could claim any address.
  bool trust_forwarded_for = false;
  // A running task is leased to this instance for this long; renewed about every third of it.
  int64_t lease_seconds = 30;
  // On SIGTERM, how long running exports may take to reach their next checkpoint.
  int64_t drain_timeout_seconds = 30;
  // Retention of a finished task's files, and the most a request may ask for ("retention" and
  // "max_retention": whole seconds or a duration string such as "7d"; core/duration.h).
  std::chrono::seconds retention{7 * 24 * 3600};
  std::chrono::seconds max_retention{30 * 24 * 3600};
  // CSV/TSV exports write formula-like text cells with a leading ' unless the request says
  // "escape_formulas": false (core/formats/formula_cells.h). Off: research data stays exact.
  bool escape_formulas = false;
  // How often the retention janitor looks for expired files (and once at start).
  int64_t janitor_interval_seconds = 60;
  // Notifications. Absent smtp: email hooks are refused (422).
  std::optional<SmtpConfig> smtp;
  // Names the environment variable with the webhook signing secret; when it is unset or empty,
  // DATA_DIR/webhook_secret (created on first start) is used.
  std::string webhook_secret_env = "EXPORTD_WEBHOOK_SECRET";
  // CIDRs that webhooks may reach although loopback, private, link-local or reserved.
  std::vector<std::string> webhook_allowlist;
  int64_t notification_retry_base_ms = 1000;  // retries after about 1, 2, 4, 8 x this
  int notification_attempts = 5;              // in all
  std::string storage_type = "local";         // "local" or "s3"
  S3StorageConfig s3;                         // used when storage_type is "s3"
  EncryptionConfig encryption;                // export files at rest ("encryption")
  // Empty: the demo dataset is created under data_dir and served.
  std::vector<DatasetSpec> datasets;
  // Tests only: makes sources and the object store fail on purpose. Absent = off.
  std::optional<FaultInjectionOptions> fault_injection;
  std::optional<OAuthConfig> oauth;  // absent: API keys only
  // Set only by `exportd serve --accept-empty-store`, never by the file or the environment: a
  // one-time decision to start although the task store is empty while DATA_DIR/exports holds
  // task directories, which are then moved aside (server/data_dir_checks.h).
  bool accept_empty_store = false;
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
