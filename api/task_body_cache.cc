#include "api/task_body_cache.h"

#include <iterator>
#include <utility>

namespace exportd::api {

TaskBodyCache::Lookup TaskBodyCache::Find(const std::string& id, int64_t revision, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return {};
  Entry& entry = it->second;
  if (entry.next && now >= entry.next->valid_from) {
    bytes_ -= entry.current.body->size();
    entry.current = *std::move(entry.next);
    entry.next.reset();
    entry.render_ahead_asked = false;
  }
  const Rendering& current = entry.current;
  if (current.revision != revision || now < current.valid_from || now >= current.valid_until) {
    return {};
  }
  Lookup found{current.body, std::nullopt};
  if (!entry.next && !entry.render_ahead_asked && now >= current.valid_until - kRenderAhead) {
    entry.render_ahead_asked = true;
    found.render_from = current.valid_until;
  }
  return found;
}

bool TaskBodyCache::Holds(const std::string& id, TimePoint now) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  const Entry& entry = it->second;
  return now < entry.current.valid_until || (entry.next && now < entry.next->valid_until);
}

void TaskBodyCache::Put(const std::string& id, int64_t revision, TimePoint valid_from,
                        TimePoint valid_until, std::string body) {
  if (body.size() > max_bytes_) return;
  // Built before the lock: readers only wait for the bookkeeping.
  Rendering rendering{revision, valid_from, valid_until,
                      std::make_shared<const std::string>(std::move(body))};
  std::lock_guard<std::mutex> lock(mu_);
  Entry entry;
  if (auto it = entries_.find(id); it != entries_.end()) {
    const Rendering& kept = it->second.current;
    if (kept.revision == revision && kept.valid_until == valid_from) {
      entry.current = kept;
      entry.render_ahead_asked = true;
    }
    EraseLocked(it);
  }
  if (entry.current.body) {
    entry.next = std::move(rendering);
    if (BytesOf(entry) > max_bytes_) entry.next.reset();  // the next one is rendered on time
  } else {
    entry.current = std::move(rendering);
  }
  const size_t size = BytesOf(entry);
  while (bytes_ + size > max_bytes_ && !oldest_first_.empty()) {
    EraseLocked(entries_.find(oldest_first_.front()));
  }
  bytes_ += size;
  oldest_first_.push_back(id);
  entry.age = std::prev(oldest_first_.end());
  entries_.emplace(id, std::move(entry));
}

size_t TaskBodyCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

size_t TaskBodyCache::BytesOf(const Entry& entry) {
  return entry.current.body->size() + (entry.next ? entry.next->body->size() : 0);
}

void TaskBodyCache::EraseLocked(std::unordered_map<std::string, Entry>::iterator it) {
  bytes_ -= BytesOf(it->second);
  oldest_first_.erase(it->second.age);
  entries_.erase(it);
}

}  // namespace exportd::api
