#include "api/task_body_cache.h"

#include <iterator>
#include <mutex>
#include <utility>

namespace exportd::api {

TaskBodyCache::Lookup TaskBodyCache::Find(const std::string& id, int64_t revision, TimePoint now) {
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return {};
    if (!NextIsDue(it->second, now)) return LookUpLocked(it->second, revision, now);
  }
  // The rendering ahead has become current: promote it, once, under the exclusive lock.
  std::unique_lock<std::shared_mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return {};
  Entry& entry = it->second;
  if (NextIsDue(entry, now)) {
    bytes_ -= entry.current.body->size();
    entry.current = *std::move(entry.next);
    entry.next.reset();
    entry.render_ahead_asked.store(false, std::memory_order_relaxed);
  }
  return LookUpLocked(entry, revision, now);
}

bool TaskBodyCache::NextIsDue(const Entry& entry, TimePoint now) {
  return entry.next && now >= entry.next->valid_from;
}

TaskBodyCache::Lookup TaskBodyCache::LookUpLocked(Entry& entry, int64_t revision, TimePoint now) {
  const Rendering& current = entry.current;
  if (current.revision != revision || now < current.valid_from || now >= current.valid_until) {
    return {};
  }
  Lookup found{current.body, std::nullopt};
  // Relaxed: the flag only elects one caller; the renderings it guards are read under mu_.
  if (!entry.next && now >= current.valid_until - kRenderAhead &&
      !entry.render_ahead_asked.load(std::memory_order_relaxed) &&
      !entry.render_ahead_asked.exchange(true, std::memory_order_relaxed)) {
    found.render_from = current.valid_until;
  }
  return found;
}

bool TaskBodyCache::Holds(const std::string& id, TimePoint now) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
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
  std::unique_lock<std::shared_mutex> lock(mu_);
  std::optional<Rendering> followed;  // the kept rendering this one follows, kept beside it
  if (auto it = entries_.find(id); it != entries_.end()) {
    const Rendering& kept = it->second.current;
    if (kept.revision == revision && kept.valid_until == valid_from) followed = kept;
    EraseLocked(it);
  }
  // In place: an Entry holds an atomic, so it cannot be moved in.
  Entry& entry = entries_.try_emplace(id).first->second;
  if (followed) {
    entry.current = *std::move(followed);
    entry.next = std::move(rendering);
    entry.render_ahead_asked.store(true, std::memory_order_relaxed);
    if (BytesOf(entry) > max_bytes_) entry.next.reset();  // the next one is rendered on time
  } else {
    entry.current = std::move(rendering);
  }
  const size_t size = BytesOf(entry);
  // Never `entry` itself: it is not in oldest_first_ yet. Erasing others keeps it in place.
  while (bytes_ + size > max_bytes_ && !oldest_first_.empty()) {
    EraseLocked(entries_.find(oldest_first_.front()));
  }
  bytes_ += size;
  oldest_first_.push_back(id);
  entry.age = std::prev(oldest_first_.end());
}

size_t TaskBodyCache::bytes() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
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
