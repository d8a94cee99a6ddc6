// Values a store read from its database, reused for as long as no commit has changed the database
// since (CommitCounter) and for at most a second. The reads it spares are the ones every request
// makes (its API key, its task's revision): under concurrent load each read transaction costs
// more than the rest of a cached GET (docs/perf/history.md).
#ifndef EXPORTD_STORAGE_SQLITE_COMMITTED_READ_CACHE_H_
#define EXPORTD_STORAGE_SQLITE_COMMITTED_READ_CACHE_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "storage/sqlite/commit_counter.h"

namespace exportd {

// The usage, around a read of `key` from the database the counter watches:
//
//   if (std::optional<Value> hit = cache.Find(key)) return *hit;
//   std::optional<ReadStamp> stamp = cache.StampBeforeRead();
//   ... read value ...
//   if (stamp) cache.Put(*stamp, key, value);
//
// A commit made by exportd in any process (every exportd connection to the store counts its
// commits) is seen by the next Find; a change made by another tool, within kMaxAge.
// At most max_entries are kept: a Put into a full cache first empties it.
//
// A value read once is shared by every thread that asks for it, so all of them would miss at
// the same moment when it ages out, and all read the database at once under load (a stall of
// tens of milliseconds with 64 HTTP threads on 2 cores: docs/perf/history.md). Instead, the
// first Find after kRefreshAfter misses, alone, so that its caller reads the value again before
// kMaxAge while the others still hit.
// Thread-safe. Clock: std::chrono::steady_clock, or a test's clock with a static now().
template <typename Value, typename Clock = std::chrono::steady_clock>
class CommittedReadCache {
 public:
  static constexpr std::chrono::seconds kMaxAge{1};
  static constexpr std::chrono::milliseconds kRefreshAfter{750};

  // When a read began: the commits counted then, and the time.
  struct ReadStamp {
    uint64_t commits;
    typename Clock::time_point at;
  };

  // `counter` may be null: nothing is then kept.
  CommittedReadCache(std::shared_ptr<const CommitCounter> counter, size_t max_entries)
      : counter_(std::move(counter)), max_entries_(max_entries) {}

  CommittedReadCache(const CommittedReadCache&) = delete;
  CommittedReadCache& operator=(const CommittedReadCache&) = delete;

  std::optional<Value> Find(const std::string& key) const {
    if (counter_ == nullptr) return std::nullopt;
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    const Entry& entry = it->second;
    if (!counter_->Unchanged(entry.stamp.commits)) return std::nullopt;
    const auto age = Clock::now() - entry.stamp.at;
    if (age >= kMaxAge) return std::nullopt;
    if (age >= kRefreshAfter && !entry.refresh_claimed.exchange(true, std::memory_order_relaxed)) {
      return std::nullopt;  // this caller reads it again; the others go on hitting
    }
    return entry.value;
  }

  // To be taken before the read whose result may be Put; nullopt: do not Put it.
  std::optional<ReadStamp> StampBeforeRead() const {
    if (counter_ == nullptr) return std::nullopt;
    const typename Clock::time_point now = Clock::now();
    std::optional<uint64_t> commits = counter_->StampBeforeRead();
    if (!commits) return std::nullopt;
    return ReadStamp{*commits, now};
  }

  // Keeps `value`, read after `stamp` was taken, unless a commit has started since.
  void Put(const ReadStamp& stamp, const std::string& key, Value value) {
    if (counter_ == nullptr) return;
    std::unique_lock<std::shared_mutex> lock(mu_);
    if (!counter_->Unchanged(stamp.commits)) return;
    if (auto it = entries_.find(key); it != entries_.end()) {
      entries_.erase(it);
    } else if (entries_.size() >= max_entries_) {
      entries_.clear();
    }
    entries_.try_emplace(key, stamp, std::move(value));
  }

 private:
  struct Entry {
    Entry(const ReadStamp& s, Value v) : stamp(s), value(std::move(v)) {}

    ReadStamp stamp;
    Value value;
    // Set by the one Find that misses after kRefreshAfter; a shared lock is enough to set it.
    mutable std::atomic<bool> refresh_claimed{false};
  };

  const std::shared_ptr<const CommitCounter> counter_;
  const size_t max_entries_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_COMMITTED_READ_CACHE_H_
