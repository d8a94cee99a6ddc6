// ScheduleStore on PostgreSQL (the schedules table of the database PgTaskStore uses).
#ifndef EXPORTD_STORAGE_POSTGRES_PG_SCHEDULE_STORE_H_
#define EXPORTD_STORAGE_POSTGRES_PG_SCHEDULE_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/schedule_store.h"
#include "core/status.h"
#include "storage/postgres/pg_pool.h"

namespace exportd {

// Thread-safe (one pooled connection per call). The owner's part of a schedule is stored as the
// SQLite store's JSON body (storage/sqlite/schedule_codec.h).
class PgScheduleStore final : public ScheduleStore {
 public:
  // REQUIRES: the schema is migrated (PgTaskStore::Open on the same database).
  explicit PgScheduleStore(std::shared_ptr<PgPool> pool) : pool_(std::move(pool)) {}

  Status Create(const Schedule& schedule) override;
  Result<Schedule> Get(const std::string& id) override;
  Result<std::vector<Schedule>> List(const std::optional<std::string>& principal) override;
  Status Update(const Schedule& schedule) override;
  Status Delete(const std::string& id) override;

 private:
  std::shared_ptr<PgPool> pool_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_POSTGRES_PG_SCHEDULE_STORE_H_
