// ScheduleStore in memory, with the contract of SqliteScheduleStore (Update keeps principal,
// created_at and last_run; List in id order).
#ifndef EXPORTD_TESTS_FAKES_MEMORY_SCHEDULE_STORE_H_
#define EXPORTD_TESTS_FAKES_MEMORY_SCHEDULE_STORE_H_

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/schedule_store.h"

namespace exportd::fakes {

class MemoryScheduleStore final : public ScheduleStore {
 public:
  Status Create(const Schedule& schedule) override {
    std::lock_guard<std::mutex> lock(mu_);
    Schedule stored = schedule;
    stored.last_run.reset();
    if (!schedules_.emplace(schedule.id, std::move(stored)).second) {
      return Status(StatusCode::kAlreadyExists, "schedule " + schedule.id + " exists");
    }
    return Status::Ok();
  }
  Result<Schedule> Get(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = schedules_.find(id);
    if (it == schedules_.end()) return NotFound("no schedule " + id);
    return it->second;
  }
  Result<std::vector<Schedule>> List(const std::optional<std::string>& principal) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Schedule> out;
    for (const auto& [id, s] : schedules_) {
      if (!principal || s.principal == *principal) out.push_back(s);
    }
    return out;
  }
  Status Update(const Schedule& schedule) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = schedules_.find(schedule.id);
    if (it == schedules_.end()) return NotFound("no schedule " + schedule.id);
    Schedule updated = schedule;
    updated.principal = it->second.principal;
    updated.created_at = it->second.created_at;
    updated.last_run = it->second.last_run;
    it->second = std::move(updated);
    return Status::Ok();
  }
  Status Delete(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (schedules_.erase(id) == 0) return NotFound("no schedule " + id);
    return Status::Ok();
  }

  // What the task store records with a schedule's task (MemoryTaskStore::OnScheduleRun); a
  // deleted schedule has nothing to update.
  void SetLastRun(const std::string& id, const ScheduleRun& run) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = schedules_.find(id);
    if (it != schedules_.end()) it->second.last_run = run;
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return schedules_.size();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Schedule> schedules_;  // guarded by mu_
};

}  // namespace exportd::fakes

#endif  // EXPORTD_TESTS_FAKES_MEMORY_SCHEDULE_STORE_H_
