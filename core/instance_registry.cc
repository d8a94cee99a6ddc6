#include "core/instance_registry.h"

#include <algorithm>

namespace exportd {

Result<std::vector<std::string>> RunningTasksOf(TaskRecords& tasks, const std::string& owner) {
  std::vector<std::string> ids;
  TaskListQuery query;
  query.state = TaskState::kProcessing;
  query.limit = 1000;
  for (;;) {
    ASSIGN_OR_RETURN(TaskPage page, tasks.List(query));
    for (const Task& t : page.items) {
      if (t.lease && t.lease->owner == owner) ids.push_back(t.id);
    }
    if (!page.next_cursor) break;
    query.before_id = page.next_cursor;
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Status LocalInstanceRegistry::Announce(const InstanceInfo& self) {
  std::lock_guard<std::mutex> lock(mu_);
  self_ = self;
  self_->running.clear();
  return Status::Ok();
}

Status LocalInstanceRegistry::Beat(const std::string& id, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!self_ || self_->id != id) return NotFound("instance " + id + " not announced");
  self_->heartbeat_at = now;
  return Status::Ok();
}

Result<std::vector<InstanceInfo>> LocalInstanceRegistry::ListInstances(TimePoint since) {
  std::optional<InstanceInfo> self;
  {
    std::lock_guard<std::mutex> lock(mu_);
    self = self_;
  }
  std::vector<InstanceInfo> out;
  if (!self || self->heartbeat_at < since) return out;
  ASSIGN_OR_RETURN(self->running, RunningTasksOf(tasks_, self->id));
  out.push_back(std::move(*self));
  return out;
}

}  // namespace exportd
