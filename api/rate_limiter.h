// A token bucket per principal: each holds up to `burst` requests and refills at
// `per_second`. Requests beyond it are refused with the time until the next token, which the
// API sends as 429 + Retry-After (OWASP API4:2023, unrestricted resource consumption).
#ifndef EXPORTD_API_RATE_LIMITER_H_
#define EXPORTD_API_RATE_LIMITER_H_

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace exportd::api {

class RateLimiter {
 public:
  using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;

  // per_second <= 0 disables the limiter (every Take succeeds). `now` is for tests.
  RateLimiter(double per_second, double burst, SteadyNow now = std::chrono::steady_clock::now);

  // Takes one token of `key`'s bucket: nullopt when the request may go ahead, otherwise how
  // long until a token is there. Thread-safe.
  std::optional<std::chrono::milliseconds> Take(const std::string& key);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
  };
  // Drops buckets that have refilled completely (they hold no state worth keeping), so that
  // the map does not grow with every principal ever seen. REQUIRES: mu_ held.
  void Sweep(std::chrono::steady_clock::time_point now);

  const double per_second_;
  const double burst_;
  const SteadyNow now_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;   // guarded by mu_
  std::chrono::steady_clock::time_point last_sweep_;  // guarded by mu_
};

}  // namespace exportd::api

#endif  // EXPORTD_API_RATE_LIMITER_H_
