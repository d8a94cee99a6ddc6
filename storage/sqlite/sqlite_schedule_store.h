// ScheduleStore on the exportd SQLite file (the one SqliteTaskStore uses), in the tables of
// migration 010: schedules (the owner's part as JSON in `body`, see schedule_codec.h).
#ifndef EXPORTD_STORAGE_SQLITE_SQLITE_SCHEDULE_STORE_H_
#define EXPORTD_STORAGE_SQLITE_SQLITE_SCHEDULE_STORE_H_

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/schedule_store.h"
#include "core/status.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/statement_cache.h"

namespace exportd {

// Thread-safe: one connection of its own, serialised by a mutex.
class SqliteScheduleStore final : public ScheduleStore {
 public:
  // Opens or creates the database at `path` and applies pending migrations (see
  // SqliteTaskStore::Open; either may be opened first).
  static Result<std::unique_ptr<SqliteScheduleStore>> Open(const std::string& path);

  SqliteScheduleStore(const SqliteScheduleStore&) = delete;
  SqliteScheduleStore& operator=(const SqliteScheduleStore&) = delete;

  Status Create(const Schedule& schedule) override;
  Result<Schedule> Get(const std::string& id) override;
  Result<std::vector<Schedule>> List(const std::optional<std::string>& principal) override;
  Status Update(const Schedule& schedule) override;
  Status Delete(const std::string& id) override;

 private:
  explicit SqliteScheduleStore(Database db) : db_(std::move(db)), statements_(db_) {}

  std::mutex mu_;
  Database db_;                // guarded by mu_
  StatementCache statements_;  // guarded by mu_; declared after db_, destroyed before it
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_SQLITE_SCHEDULE_STORE_H_
