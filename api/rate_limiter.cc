#include "api/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace exportd::api {

RateLimiter::RateLimiter(double per_second, double burst, SteadyNow now)
    : per_second_(per_second),
      burst_(std::max(1.0, burst)),
      now_(std::move(now)),
      last_sweep_(now_()) {}

std::optional<std::chrono::milliseconds> RateLimiter::Take(const std::string& key) {
  if (per_second_ <= 0) return std::nullopt;
  const auto now = now_();
  std::lock_guard<std::mutex> lock(mu_);
  if (now - last_sweep_ > std::chrono::minutes(1)) Sweep(now);
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!inserted) {
    const double elapsed = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
    b.updated = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait_seconds = (1.0 - b.tokens) / per_second_;
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(wait_seconds * 1000.0)));
}

void RateLimiter::Sweep(std::chrono::steady_clock::time_point now) {
  last_sweep_ = now;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
    if (it->second.tokens + elapsed * per_second_ >= burst_) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace exportd::api
