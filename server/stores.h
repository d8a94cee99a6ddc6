// The stores of the configured task_store: SQLite (DATA_DIR/exportd.db) or PostgreSQL.
#ifndef EXPORTD_SERVER_STORES_H_
#define EXPORTD_SERVER_STORES_H_

#include <memory>

#include "core/instance_registry.h"
#include "core/key_store.h"
#include "core/schedule_store.h"
#include "core/status.h"
#include "core/store_stats.h"
#include "core/task_store.h"
#include "core/watermark_store.h"
#include "server/config.h"

namespace exportd {

class SqliteTaskStore;

// Every store of one database. The pointers point into the owned objects.
struct Stores {
  std::shared_ptr<void> owner;  // keeps the store objects (and their connections) alive
  TaskStore* tasks = nullptr;
  WatermarkStore* watermarks = nullptr;
  ApiKeyStore* keys = nullptr;
  ScheduleStore* schedules = nullptr;
  InstanceRegistry* instances = nullptr;
  StoreStats* stats = nullptr;        // what /metrics reads from the store at scrape time
  SqliteTaskStore* sqlite = nullptr;  // the SQLite task store; null on PostgreSQL
};

// Opens (and migrates) the configured store. REQUIRES: the data dir is prepared (SQLite).
Result<Stores> OpenStores(const Config& config);

// Only the API keys (for `exportd keys ...`).
Result<std::shared_ptr<ApiKeyStore>> OpenKeyStore(const Config& config);

// What the log says about the store: "SQLite DATA_DIR/exportd.db" or "PostgreSQL <url without
// its password>".
std::string DescribeTaskStore(const Config& config);

}  // namespace exportd

#endif  // EXPORTD_SERVER_STORES_H_
