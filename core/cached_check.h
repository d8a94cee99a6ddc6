// CachedCheck: a health check that is too expensive to run on every probe (a round trip to S3),
// run at most once per `ttl` and otherwise answered from its last result.
#ifndef EXPORTD_CORE_CACHED_CHECK_H_
#define EXPORTD_CORE_CACHED_CHECK_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>

#include "core/clock.h"
#include "core/status.h"

namespace exportd {

// Thread-safe. Get() returns the last result while it is younger than `ttl`; otherwise one
// caller runs the check (outside the lock) while concurrent callers get the previous result at
// once, so a slow check never piles up probes. Only the very first callers wait for a result.
// `check` must not throw; `clock` must outlive this object.
class CachedCheck {
 public:
  CachedCheck(std::function<Status()> check, TimePoint::duration ttl, const Clock& clock)
      : check_(std::move(check)), ttl_(ttl), clock_(clock) {}

  Status Get() {
    std::unique_lock<std::mutex> lock(mu_);
    if (last_ && clock_.Now() - checked_at_ < ttl_) return *last_;
    if (running_) {
      if (last_) return *last_;
      done_.wait(lock, [this] { return !running_; });
      return *last_;
    }
    running_ = true;
    lock.unlock();
    Status result = check_();
    lock.lock();
    last_ = result;
    checked_at_ = clock_.Now();
    running_ = false;
    done_.notify_all();
    return result;
  }

 private:
  const std::function<Status()> check_;
  const TimePoint::duration ttl_;
  const Clock& clock_;
  std::mutex mu_;
  std::condition_variable done_;
  std::optional<Status> last_;  // guarded by mu_
  TimePoint checked_at_;        // guarded by mu_
  bool running_ = false;        // guarded by mu_
};

}  // namespace exportd

#endif  // EXPORTD_CORE_CACHED_CHECK_H_
