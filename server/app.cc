#include "server/app.h"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>

#include "api/api_server.h"
#include "api/metrics.h"
#include "core/clock.h"
#include "core/dataset.h"
#include "core/duration.h"
#include "core/export_service.h"
#include "core/imports/import_runner.h"
#include "core/imports/import_service.h"
#include "core/retention_janitor.h"
#include "core/schedule_firing.h"
#include "core/schedule_runner.h"
#include "core/schedule_service.h"
#include "core/scheduler.h"
#include "core/time_format.h"
#include "core/wakeable_thread.h"
#include "server/bucket_readiness.h"
#include "server/data_dir.h"
#include "server/data_dir_checks.h"
#include "server/datasets.h"
#include "server/key_commands.h"
#include "server/logging.h"
#include "server/notifications.h"
#include "server/object_store_factory.h"
#include "server/signal_watcher.h"
#include "server/source_readiness.h"
#include "server/stores.h"
#include "server/token_verification.h"
#include "server/verifier_tools.h"
#include "storage/base/data_dir_lock.h"
#include "storage/base/digest.h"
#include "storage/base/instance_id.h"
#include "storage/fs/local_object_store.h"
#include "storage/fs/url_signer.h"
#include "storage/postgres/pg_wake_listener.h"
#include "storage/sqlite/principal_migration.h"
#include "storage/sqlite/sqlite_import_sink.h"
#include "storage/sqlite/sqlite_task_store.h"
#include "storage/tz/date_time_zone_db.h"
#ifdef EXPORTD_WITH_FAULT_INJECTION
#include "storage/faults/fault_injection.h"
#endif

namespace exportd {
namespace {

namespace fs = std::filesystem;

// A finished export that wrote at least this much gives its freed memory back (malloc_trim).
constexpr int64_t kTrimAfterBytes = int64_t{16} << 20;

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace

Status RunServer(const Config& config, const std::string& openapi_yaml) {
  for (const std::string& key : config.ignored_keys) {
    spdlog::warn("configuration key '{}' is not used by this version", key);
  }
  RETURN_IF_ERROR(PrepareDataDir(config));
  const bool on_sqlite = config.task_store.type != "postgres";
  // On SQLite the data dir is the instance (its store, its instance_id): a second server on it
  // is refused, not allowed to take the first one's leases for its own.
  std::optional<DataDirLock> data_dir_lock;
  if (on_sqlite) {
    ASSIGN_OR_RETURN(DataDirLock lock, DataDirLock::Acquire(config.data_dir));
    data_dir_lock.emplace(std::move(lock));
  }
  // A lost task store or master key must not be replaced by a fresh one without a word.
  if (on_sqlite) {
    RETURN_IF_ERROR(CheckStoreAgainstFiles(config, StoreFileIsEmpty(TaskDbPath(config))));
  }
  if (config.oauth && on_sqlite) {
    // Tasks tokens created before principals had namespaces (migration 008) join this issuer's.
    ASSIGN_OR_RETURN(int64_t claimed,
                     ClaimTokenPrincipals(TaskDbPath(config), config.oauth->issuer));
    if (claimed > 0) {
      spdlog::info(
          "{} task(s) created with tokens before principal namespaces now belong to "
          "issuer {}",
          claimed, config.oauth->issuer);
    }
  }
  ASSIGN_OR_RETURN(Stores stores, OpenStores(config));
  spdlog::info("task store: {}", DescribeTaskStore(config));
  TaskStore* const tasks = stores.tasks;
  if (Result<bool> no_task = StoreHoldsNoTask(*tasks); no_task.ok()) {
    RETURN_IF_ERROR(CheckStoreAgainstFiles(config, *no_task));
  } else {
    // A damaged store: the integrity check below says so.
    spdlog::warn("cannot count the stored tasks: {}", no_task.status().ToString());
  }
  RETURN_IF_ERROR(CheckMasterKeyAgainstFiles(config));
  // A damaged store still serves what it can, but /readyz reports it (CheckWritable) and the
  // janitor, whose deletions cannot be undone, does not run on it. PostgreSQL checks its own
  // pages (data checksums, amcheck) and is not scanned at each start.
  const Status integrity = stores.sqlite ? stores.sqlite->QuickCheck() : Status::Ok();
  if (!integrity.ok()) spdlog::error("{}", integrity.ToString());
  ApiKeyStore* const keys = stores.keys;
  ScheduleStore* const schedule_store = stores.schedules;
  RETURN_IF_ERROR(EnsureBootstrapKey(*keys));
  ASSIGN_OR_RETURN(std::string secret, UrlSigner::LoadOrCreateSecret(
                                           (fs::path(config.data_dir) / "url_secret").string()));
  auto signer = std::make_shared<const UrlSigner>(secret);
  // The store signs S3 download links at this clock's time; declared first, destroyed last.
  SystemClock store_clock;
  if (config.storage_type == "s3") {
    spdlog::info(
        "storage: S3 bucket '{}' at {} (prefix '{}', {} addressing, credentials from the {})",
        config.s3.bucket, config.s3.endpoint.empty() ? "AWS" : config.s3.endpoint, config.s3.prefix,
        config.s3.PathStyle() ? "path-style" : "virtual-hosted", config.s3.credentials_source);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<ObjectStore> base_objects,
                   MakeObjectStore(config, signer, store_clock, /*check_bucket=*/true,
                                   /*for_server=*/true));
  // Knows UTC only until the adapter over the system's time zone database is wired here.
  const DateTimeZoneDb time_zones;
  ASSIGN_OR_RETURN(DatasetCatalog datasets, LoadDatasets(config, time_zones));
  // Before any fault-injecting wrapper: it probes the PostgreSQL sources themselves.
  SourceReadiness source_readiness(datasets, store_clock);
  // Test configuration only: sources and store that fail on purpose.
  std::unique_ptr<ObjectStore> faulty_objects;
#ifdef EXPORTD_WITH_FAULT_INJECTION
  if (const auto& faults = config.fault_injection) {
    spdlog::warn(
        "*** FAULT INJECTION IS ON: exports will fail on purpose; never run this "
        "configuration in production *** ({})",
        faults->Describe());
    datasets = WithSourceFaults(datasets, *faults);
    faulty_objects = std::make_unique<FaultInjectingObjectStore>(
        *base_objects, faults->object_store, ObjectStoreFaultSeed(faults->seed));
  }
#endif
  ObjectStore& objects = faulty_objects ? *faulty_objects : *base_objects;

  SystemClock clock;
  SpdLogger logger;
  // Counts requests and what core reports; outlives everything that reports to it.
  api::Metrics metrics;
  SchedulerOptions scheduler_options;
  scheduler_options.workers = config.workers;
  // On SQLite this instance is the cluster: the cap is a smaller worker pool. On PostgreSQL the
  // store's claim enforces it across instances (OpenStores).
  if (on_sqlite && config.max_running_cluster > 0 && config.max_running_cluster < config.workers) {
    scheduler_options.workers = config.max_running_cluster;
  }
  scheduler_options.threads_per_export = config.threads_per_export;
  scheduler_options.retry_base_delay = Millis(config.retry_base_delay_ms);
  scheduler_options.retry_max_delay = Millis(config.retry_max_delay_ms);
  scheduler_options.max_rows_per_second = config.max_rows_per_second;
  if (!config.instance_id.empty()) {
    scheduler_options.instance_id = config.instance_id;
  } else if (on_sqlite) {
    ASSIGN_OR_RETURN(scheduler_options.instance_id,
                     LoadOrCreateInstanceId((fs::path(config.data_dir) / "instance_id").string()));
  } else {
    // Instances share the database, not a data dir: each start is a new instance.
    scheduler_options.instance_id = NewInstanceId();
  }
  scheduler_options.lease = std::chrono::seconds(config.lease_seconds);
  // Other instances share a PostgreSQL store: an idle one looks for their tasks, and for dead
  // instances' expired leases, at least this often.
  if (!on_sqlite) scheduler_options.idle_poll = Millis(2000);
  scheduler_options.watermarks = stores.watermarks;
  scheduler_options.time_zones = &time_zones;
  scheduler_options.telemetry = &metrics;
  spdlog::info("instance {}; leases of {} s", scheduler_options.instance_id, config.lease_seconds);
  if (config.max_running_cluster > 0) {
    spdlog::info("at most {} tasks Processing at once across the instances of this store",
                 config.max_running_cluster);
  }
  // GET /v1/instances: this instance, alive while its heartbeat moves (every third of a lease).
  InstanceInfo self{.id = scheduler_options.instance_id,
                    .host = HostName(),
                    .started_at = clock.Now(),
                    .heartbeat_at = clock.Now(),
                    .running = {}};
  RETURN_IF_ERROR(stores.instances->Announce(self).WithContext("record this instance"));
  WakeableThread instance_heartbeat;  // stopped before the stores go
  instance_heartbeat.Start([&stores, &clock, &self, lease = scheduler_options.lease] {
    Status beat = stores.instances->Beat(self.id, clock.Now());
    // A row forgotten meanwhile (or a store that lost it) is recorded again.
    if (beat.code() == StatusCode::kNotFound) {
      self.heartbeat_at = clock.Now();
      beat = stores.instances->Announce(self);
    }
    if (!beat.ok()) spdlog::warn("instance heartbeat: {}", beat.ToString());
    return std::chrono::duration_cast<std::chrono::milliseconds>(lease / 3);
  });
  // Declared before the scheduler and the service, which report finished tasks to it.
  ASSIGN_OR_RETURN(std::unique_ptr<Notifications> notifications,
                   Notifications::Create(config, *tasks, objects, clock, logger,
                                         scheduler_options.instance_id, &metrics));
  scheduler_options.on_terminal = [observer = notifications->observer()](const Task& task) {
    observer(task);
    // glibc keeps what a large export freed in the arenas of the threads that allocated it:
    // after a few dozen exports RSS stayed 40-70 MB above what the next one needs, which put
    // three concurrent exports over 100 MB. A trim returns it; small tasks (a burst of empty
    // exports) skip the few milliseconds it takes.
    if (task.progress.bytes >= kTrimAfterBytes) malloc_trim(0);
  };
  // Imports: uploads wait in DATA_DIR/imports/uploads, rows are staged in
  // DATA_DIR/imports/staging until published (storage/sqlite/sqlite_import_sink.h).
  LocalObjectStore import_uploads((fs::path(config.data_dir) / "imports" / "uploads").string(),
                                  signer, "");
  SqliteImportSink import_sink((fs::path(config.data_dir) / "imports" / "staging").string());
  for (const DatasetCatalog::Entry* entry : datasets.List()) {
    if (!entry->dataset->spec().importable) continue;
    if (Status s = import_sink.Recover(*entry->dataset); !s.ok()) {
      spdlog::warn("dataset {}: recovering an interrupted import: {}", entry->dataset->name(),
                   s.ToString());
    }
  }
  ImportRunner import_runner(*tasks, objects, import_uploads, import_sink,
                             LibraryVerifierTools().new_gunzip, ImportRunner::Options{});
  scheduler_options.imports = &import_runner;
  Scheduler scheduler(*tasks, datasets, objects, clock, logger, scheduler_options);
  ServiceOptions service_options;
  service_options.max_attempts = config.max_attempts;
  service_options.max_active_tasks = config.max_active_tasks;
  service_options.check_webhook = [&policy =
                                       notifications->webhook_policy()](const std::string& url) {
    return policy.CheckWithoutDns(url);
  };
  service_options.email_notifications = notifications->email_enabled();
  service_options.on_terminal = notifications->observer();
  service_options.default_retention = config.retention;
  service_options.escape_formulas = config.escape_formulas;
  service_options.max_retention = config.max_retention;
  ExportService service(*tasks, datasets, objects, scheduler, clock, logger, time_zones,
                        service_options, [](std::string_view data) { return Sha256Hex(data); });

  // Templates are checked by the checks of POST /v1/exports, so a schedule stored is one that
  // can fire.
  // Fires the due slots of every schedule; started after the scheduler, stopped before it.
  const FireFn fire = CountedFiring(FireThrough(service, time_zones), metrics);
  ScheduleRunner schedule_runner(*schedule_store, time_zones, clock, logger, fire,
                                 ScheduleRunnerOptions{});
  ScheduleService schedules(
      *schedule_store, time_zones, clock,
      [&service](const CreateExportArgs& args) { return service.Check(args); },
      ScheduleHooks{[&schedule_runner] { schedule_runner.Wake(); }, fire});

  ServiceOptions import_service_options = service_options;
  import_service_options.kind = TaskKind::kImport;
  ExportService import_tasks(*tasks, datasets, objects, scheduler, clock, logger, time_zones,
                             import_service_options,
                             [](std::string_view data) { return Sha256Hex(data); });
  ImportService imports(*tasks, service, import_tasks, objects, import_uploads, scheduler, clock,
                        logger, ImportServiceOptions{config.max_attempts},
                        [](std::string_view data) { return Sha256Hex(data); });

  api::ApiDependencies deps;
  deps.imports = &imports;
  WatermarkService watermarks(*stores.watermarks, datasets, clock);
  deps.service = &service;
  deps.watermarks = &watermarks;
  deps.schedules = &schedules;
  deps.instances = stores.instances;
  deps.keys = keys;
  deps.tasks = tasks;
  deps.objects = &objects;
  deps.clock = &clock;
  deps.verify_link = [signer](const std::string& id, const std::string& name,
                              const std::string& expires, const std::string& signature,
                              TimePoint now) {
    return signer->Verify(id, name, expires, signature, now);
  };
  deps.sha256_hex = [](std::string_view data) { return Sha256Hex(data); };
  deps.running_exports = [&scheduler] { return scheduler.running(); };
  deps.metrics = &metrics;
  deps.stats = stores.stats;
  deps.notifications_queued = [n = notifications.get()] {
    return static_cast<int64_t>(n->queued());
  };
  std::unique_ptr<BucketReadiness> bucket_readiness;
  if (config.storage_type == "s3") {
    bucket_readiness = std::make_unique<BucketReadiness>(config.s3, store_clock);
    deps.check_object_store = [r = bucket_readiness.get()] { return r->Check(); };
  }
  if (!source_readiness.empty()) {
    deps.check_sources = [r = &source_readiness] { return r->Check(); };
  }
  TokenVerification tokens;
  if (config.oauth) {
    ASSIGN_OR_RETURN(tokens, MakeTokenVerification(*config.oauth, clock));
    deps.jwt = tokens.verifier.get();
  }
  api::ApiOptions api_options;
  api_options.host = config.ListenHost();
  api_options.port = config.ListenPort();
  api_options.threads = config.http_threads;
  api_options.rate_limit_per_second = config.rate_limit_per_second;
  api_options.rate_limit_burst = config.rate_limit_burst;
  api_options.read_timeout = std::chrono::seconds(config.read_timeout_seconds);
  api_options.write_timeout = std::chrono::seconds(config.write_timeout_seconds);
  api_options.header_timeout = std::chrono::seconds(config.header_timeout_seconds);
  api_options.max_connections_per_client = static_cast<int>(config.max_connections_per_client);
  api_options.max_body_bytes = static_cast<size_t>(config.max_body_bytes);
  api_options.max_export_body_bytes = static_cast<size_t>(config.max_export_body_bytes);
  api_options.max_import_upload_bytes = static_cast<uint64_t>(config.max_import_upload_bytes);
  api_options.trust_forwarded_for = config.trust_forwarded_for;
  api_options.download_url_ttl = std::chrono::seconds(config.download_url_ttl_seconds);
  api_options.openapi_yaml = openapi_yaml;
  api_options.tls_cert_file = config.tls_cert;
  api_options.tls_key_file = config.tls_key;
  api::ApiServer server(std::move(deps), api_options);
  RETURN_IF_ERROR(server.Bind());
  if (config.tls_cert.empty() && !IsLoopbackHost(api_options.host)) {
    spdlog::warn(
        "serving plain HTTP on {}: API keys and data cross the network in clear text; "
        "set tls_cert and tls_key (--tls-cert/--tls-key) or put a TLS proxy in front",
        api_options.host);
  }
  if (config.max_connections_per_client == 0 ||
      config.max_connections_per_client >= config.http_threads) {
    spdlog::warn(
        "max_connections_per_client is {} with http_threads {}: one client address can "
        "hold every HTTP thread (fine behind a reverse proxy that limits clients)",
        config.max_connections_per_client, config.http_threads);
  }
  RETURN_IF_ERROR(notifications->Start());
  RETURN_IF_ERROR(scheduler.Start());
  // On PostgreSQL, a task that another instance created or put back wakes the idle workers at
  // once (the idle poll stays as the safety net), and a cancel accepted by another instance
  // stops the task here at once if it runs here (the heartbeat stays as the safety net).
  // Stopped before the scheduler.
  std::unique_ptr<PgWakeListener> wakeups;
  if (!on_sqlite) {
    wakeups = std::make_unique<PgWakeListener>(
        config.task_store.url, [&scheduler] { scheduler.Wake(); },
        [&scheduler](const std::string& id) { scheduler.Cancel(id); });
  }
  schedule_runner.Start();
  RetentionJanitorOptions janitor_options;
  janitor_options.interval = std::chrono::seconds(config.janitor_interval_seconds);
  // Declared after the scheduler, so also destroyed (stopped) before it on an early return.
  RetentionJanitor janitor(*tasks, *tasks, objects, clock, logger, janitor_options);
  if (integrity.ok()) {
    janitor.Start();
  } else {
    spdlog::error("retention janitor not started: the task store failed its integrity check");
  }
  spdlog::info("retention {} (at most {} per request); janitor every {} s",
               FormatDuration(config.retention), FormatDuration(config.max_retention),
               config.janitor_interval_seconds);
  {
    SignalWatcher watcher(server);
    spdlog::info("listening on {}://{}:{} with {} workers; data in {}",
                 config.tls_cert.empty() ? "http" : "https", api_options.host, server.port(),
                 scheduler_options.workers, config.data_dir);
    server.Serve();  // returns once the watcher has stopped it
  }
  // The listener is closed: running exports go on to their next checkpoint (bounded), then
  // back to the queue, so the next start resumes them.
  janitor.Stop();
  // No new tasks from schedules while the workers drain; a slot due meanwhile fires at the
  // next start (catch_up).
  schedule_runner.Stop();
  wakeups.reset();
  spdlog::info("stopping workers (drain up to {} s)", config.drain_timeout_seconds);
  scheduler.Stop(std::chrono::seconds(config.drain_timeout_seconds));
  // Deliveries still queued stay pending in the store; the next start sends them.
  notifications->Stop();
  spdlog::info("stopped");
  return Status::Ok();
}

}  // namespace exportd
