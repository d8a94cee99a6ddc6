// ApiServer: the HTTP face of exportd (cpp-httplib kept out of this header so that including it
// stays cheap). Routes mirror openapi.yaml; handlers are thin and call ExportService.
#ifndef EXPORTD_API_API_SERVER_H_
#define EXPORTD_API_API_SERVER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "api/jwt_verifier.h"
#include "core/clock.h"
#include "core/export_service.h"
#include "core/imports/import_service.h"
#include "core/instance_registry.h"
#include "core/key_store.h"
#include "core/object_store.h"
#include "core/schedule_service.h"
#include "core/status.h"
#include "core/store_stats.h"
#include "core/task_store.h"
#include "core/watermark_service.h"

namespace exportd::api {

class Metrics;

struct ApiOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see ApiServer::port())
  int threads = 8;
  size_t max_body_bytes = 1 << 20;
  // POST /v1/exports only (lists of up to 100,000 record_ids); every other route takes
  // max_body_bytes.
  size_t max_export_body_bytes = 4 << 20;
  // POST /v1/imports with the file as its body (streamed to the staging area).
  uint64_t max_import_upload_bytes = uint64_t{4} << 30;
  std::chrono::seconds download_url_ttl{86400};
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds write_timeout{60};
  // A request's line and headers must arrive whole within this time of its first byte.
  std::chrono::seconds header_timeout{10};
  // Connections served at once per client address; those beyond are refused at once. 0: no cap.
  int max_connections_per_client = 0;
  std::string openapi_yaml;  // served verbatim at /openapi.yaml
  // Per non-admin principal, on every authenticated route: a token bucket of this many
  // requests per second with this burst; beyond it 429 + Retry-After. 0: no limit.
  double rate_limit_per_second = 0;
  double rate_limit_burst = 0;
  // Behind a reverse proxy: take the client address for the audit trail from the last entry
  // of X-Forwarded-For. Off by default, since any client can send that header.
  bool trust_forwarded_for = false;
  // PEM files; when tls_cert_file is set the listener speaks HTTPS only (TLS 1.2+).
  std::string tls_cert_file;
  std::string tls_key_file;
};

// Checks a pre-signed download link: OK, or kPermissionDenied.
using LinkVerifier =
    std::function<Status(const std::string& task_id, const std::string& name,
                         const std::string& expires, const std::string& signature, TimePoint now)>;
using Sha256HexFn = std::function<std::string(std::string_view)>;

struct ApiDependencies {
  ExportService* service = nullptr;
  ImportService* imports = nullptr;  // /v1/imports; null: those routes answer 500
  WatermarkService* watermarks = nullptr;
  ScheduleService* schedules = nullptr;   // /v1/schedules; null: those routes answer 500
  InstanceRegistry* instances = nullptr;  // /v1/instances; null: that route answers 500
  ApiKeyStore* keys = nullptr;
  TaskStore* tasks = nullptr;  // for readiness checks
  ObjectStore* objects = nullptr;
  const Clock* clock = nullptr;
  LinkVerifier verify_link;
  Sha256HexFn sha256_hex;
  // /metrics: where requests are counted and core's counters are kept (null: the server
  // keeps its own, with requests only); what is read at scrape time (each may be null/empty).
  Metrics* metrics = nullptr;
  StoreStats* stats = nullptr;
  std::function<int()> running_exports;
  std::function<int64_t()> notifications_queued;
  // Verifies OAuth 2.0 bearer JWTs; null: API keys only.
  const JwtVerifier* jwt = nullptr;
  // Readiness of the object store (the S3 bucket), called by every /readyz, so it caches its
  // answer itself (see core/cached_check.h); empty: nothing to check (local storage).
  std::function<Status()> check_object_store;
  // Readiness of the datasets' sources that can go away (PostgreSQL), cached like
  // check_object_store; empty: nothing to check.
  std::function<Status()> check_sources;
};

// Thread-safe: Serve() runs the listener; Stop() may be called from any thread (e.g. a signal
// watcher). The dependencies must outlive the server.
class ApiServer {
 public:
  ApiServer(ApiDependencies deps, ApiOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds the listening socket (kUnavailable if the address is taken; kInvalidArgument if the
  // TLS certificate or key cannot be used).
  Status Bind();
  // REQUIRES: Bind() succeeded. Serves until Stop(); returns after in-flight requests finish.
  void Serve();
  void Stop();
  // The bound port (useful with port 0).
  int port() const;

 private:
  // After a bind: lifts cpp-httplib's listen backlog of 5.
  Status RaiseBacklog();

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace exportd::api

#endif  // EXPORTD_API_API_SERVER_H_
