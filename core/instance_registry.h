// InstanceRegistry: the exportd instances that share a task store, for GET /v1/instances.
#ifndef EXPORTD_CORE_INSTANCE_REGISTRY_H_
#define EXPORTD_CORE_INSTANCE_REGISTRY_H_

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/task_records.h"

namespace exportd {

struct InstanceInfo {
  std::string id;    // the owner named in its leases
  std::string host;  // the machine it runs on
  TimePoint started_at{};
  TimePoint heartbeat_at{};          // when it last said it was alive
  std::vector<std::string> running;  // ids of the Processing tasks leased to it, by id
};

// Thread-safe.
class InstanceRegistry {
 public:
  virtual ~InstanceRegistry() = default;

  // Records `self` (id, host, started_at, heartbeat_at) as alive, replacing an earlier record of
  // the same id.
  virtual Status Announce(const InstanceInfo& self) = 0;
  // Moves the heartbeat of `id` to `now` (an instance not recorded is recorded by its next
  // Announce; here kNotFound).
  virtual Status Beat(const std::string& id, TimePoint now) = 0;
  // The instances whose heartbeat is at or after `since`, by id, each with its running tasks.
  virtual Result<std::vector<InstanceInfo>> ListInstances(TimePoint since) = 0;
};

// The ids of the Processing tasks of `tasks` leased to `owner`, by id.
Result<std::vector<std::string>> RunningTasksOf(TaskRecords& tasks, const std::string& owner);

// The registry of an instance alone on its store (SQLite): itself, with the tasks `tasks` has
// leased to it. Thread-safe.
class LocalInstanceRegistry final : public InstanceRegistry {
 public:
  explicit LocalInstanceRegistry(TaskRecords& tasks) : tasks_(tasks) {}
  Status Announce(const InstanceInfo& self) override;
  Status Beat(const std::string& id, TimePoint now) override;
  Result<std::vector<InstanceInfo>> ListInstances(TimePoint since) override;

 private:
  TaskRecords& tasks_;
  std::mutex mu_;
  std::optional<InstanceInfo> self_;  // guarded by mu_
};

}  // namespace exportd

#endif  // EXPORTD_CORE_INSTANCE_REGISTRY_H_
