// Clock: the only way core code reads the time, so tests can move it by hand.
#ifndef EXPORTD_CORE_CLOCK_H_
#define EXPORTD_CORE_CLOCK_H_

#include <chrono>

namespace exportd {

using TimePoint = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

// Thread-safe: implementations may be called from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace exportd

#endif  // EXPORTD_CORE_CLOCK_H_
