#include "api/task_body_cache.h"

#include <utility>

namespace exportd::api {

TaskBodyCache::Body TaskBodyCache::Find(const std::string& id, int64_t revision,
                                        TimePoint now) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return nullptr;
  const Entry& entry = it->second;
  if (entry.revision != revision || now >= entry.valid_until) return nullptr;
  return entry.body;
}

bool TaskBodyCache::Holds(const std::string& id, TimePoint now) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  return it != entries_.end() && now < it->second.valid_until;
}

void TaskBodyCache::Put(const std::string& id, int64_t revision, TimePoint valid_until,
                        std::string body) {
  if (body.size() > max_bytes_) return;
  // Built before the lock: readers only wait for the bookkeeping.
  auto shared = std::make_shared<const std::string>(std::move(body));
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = entries_.find(id); it != entries_.end()) EraseLocked(it);
  while (bytes_ + shared->size() > max_bytes_ && !oldest_first_.empty()) {
    EraseLocked(entries_.find(oldest_first_.front()));
  }
  bytes_ += shared->size();
  oldest_first_.push_back(id);
  entries_.emplace(id,
                   Entry{revision, valid_until, std::move(shared), std::prev(oldest_first_.end())});
}

size_t TaskBodyCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

void TaskBodyCache::EraseLocked(std::unordered_map<std::string, Entry>::iterator it) {
  bytes_ -= it->second.body->size();
  oldest_first_.erase(it->second.age);
  entries_.erase(it);
}

}  // namespace exportd::api
