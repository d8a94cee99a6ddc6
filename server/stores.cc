#include "server/stores.h"

#include "server/data_dir.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_key_store.h"
#include "storage/postgres/pg_pool.h"
#include "storage/postgres/pg_schedule_store.h"
#include "storage/postgres/pg_task_store.h"
#include "storage/sqlite/sqlite_key_store.h"
#include "storage/sqlite/sqlite_schedule_store.h"
#include "storage/sqlite/sqlite_task_store.h"

namespace exportd {
namespace {

struct SqliteStores {
  std::unique_ptr<SqliteTaskStore> tasks;
  std::unique_ptr<SqliteKeyStore> keys;
  std::unique_ptr<SqliteScheduleStore> schedules;
  std::unique_ptr<LocalInstanceRegistry> instances;
};

struct PgStores {
  std::shared_ptr<PgPool> pool;
  std::unique_ptr<PgTaskStore> tasks;
  std::unique_ptr<PgKeyStore> keys;
  std::unique_ptr<PgScheduleStore> schedules;
};

Result<std::shared_ptr<PgPool>> OpenPool(const Config& config) {
  Result<std::unique_ptr<PgPool>> pool =
      PgPool::Open(config.task_store.url, config.task_store.pool_size);
  if (!pool.ok()) return pool.status().WithContext("task store " + DescribeTaskStore(config));
  return std::shared_ptr<PgPool>(std::move(pool).value());
}

}  // namespace

std::string DescribeTaskStore(const Config& config) {
  if (config.task_store.type != "postgres") return "SQLite " + TaskDbPath(config);
  return "PostgreSQL " + RedactPgUrl(config.task_store.url);
}

Result<Stores> OpenStores(const Config& config) {
  Stores stores;
  if (config.task_store.type == "postgres") {
    auto pg = std::make_shared<PgStores>();
    ASSIGN_OR_RETURN(pg->pool, OpenPool(config));
    PgTaskStoreOptions options;
    if (config.max_running_cluster > 0) options.max_running = config.max_running_cluster;
    ASSIGN_OR_RETURN(pg->tasks, PgTaskStore::Open(pg->pool, options));
    pg->keys = std::make_unique<PgKeyStore>(pg->pool);
    pg->schedules = std::make_unique<PgScheduleStore>(pg->pool);
    stores.tasks = pg->tasks.get();
    stores.watermarks = pg->tasks.get();
    stores.keys = pg->keys.get();
    stores.schedules = pg->schedules.get();
    stores.instances = pg->tasks.get();
    stores.stats = pg->tasks.get();
    stores.owner = pg;
    return stores;
  }
  auto lite = std::make_shared<SqliteStores>();
  ASSIGN_OR_RETURN(lite->tasks, SqliteTaskStore::Open(TaskDbPath(config)));
  ASSIGN_OR_RETURN(lite->keys, SqliteKeyStore::Open(TaskDbPath(config)));
  ASSIGN_OR_RETURN(lite->schedules, SqliteScheduleStore::Open(TaskDbPath(config)));
  stores.tasks = lite->tasks.get();
  stores.watermarks = lite->tasks.get();
  stores.keys = lite->keys.get();
  lite->instances = std::make_unique<LocalInstanceRegistry>(*lite->tasks);
  stores.schedules = lite->schedules.get();
  stores.instances = lite->instances.get();
  stores.stats = lite->tasks.get();
  stores.sqlite = lite->tasks.get();
  stores.owner = lite;
  return stores;
}

Result<std::shared_ptr<ApiKeyStore>> OpenKeyStore(const Config& config) {
  if (config.task_store.type == "postgres") {
    ASSIGN_OR_RETURN(std::shared_ptr<PgPool> pool, OpenPool(config));
    // The schema may not exist yet (keys made before the first start): migrate.
    RETURN_IF_ERROR(PgTaskStore::Open(pool).status());
    return std::shared_ptr<ApiKeyStore>(std::make_shared<PgKeyStore>(pool));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteKeyStore> keys, SqliteKeyStore::Open(TaskDbPath(config)));
  return std::shared_ptr<ApiKeyStore>(std::move(keys));
}

}  // namespace exportd
