// A Clock that moves only when a test moves it. Thread-safe.
#ifndef EXPORTD_TESTS_FAKES_FAKE_CLOCK_H_
#define EXPORTD_TESTS_FAKES_FAKE_CLOCK_H_

#include <mutex>

#include "core/clock.h"

namespace exportd::fakes {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start) {}

  TimePoint Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }

  void Advance(TimePoint::duration by) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += by;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;  // guarded by mu_
};

}  // namespace exportd::fakes

#endif  // EXPORTD_TESTS_FAKES_FAKE_CLOCK_H_
