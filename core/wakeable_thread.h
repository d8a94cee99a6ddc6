// WakeableThread: the thread of a background loop (the retention janitor, the schedule runner):
// runs a pass, sleeps for as long as the pass asked or until woken, and again, until stopped.
#ifndef EXPORTD_CORE_WAKEABLE_THREAD_H_
#define EXPORTD_CORE_WAKEABLE_THREAD_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace exportd {

// Thread-safe.
class WakeableThread {
 public:
  // One pass of the loop; returns how long to sleep before the next (on the steady clock).
  using Pass = std::function<std::chrono::milliseconds()>;

  WakeableThread() = default;
  ~WakeableThread() { Stop(); }
  WakeableThread(const WakeableThread&) = delete;
  WakeableThread& operator=(const WakeableThread&) = delete;

  // Starts the thread: a pass at once, then one after each sleep. At most once, and not after
  // Stop(). REQUIRES: what `pass` uses outlives the thread (its owner calls Stop() first).
  void Start(Pass pass) {
    std::lock_guard<std::mutex> lock(mu_);
    if (thread_.joinable() || stop_) return;
    thread_ = std::thread([this, pass = std::move(pass)] { Loop(pass); });
  }
  // Ends the current sleep (or, during a pass, the next one) at once. Never blocks on a pass.
  void Wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      woken_ = true;
    }
    wake_.notify_all();
  }
  // Wakes the thread and joins it; a pass in progress finishes first. Idempotent.
  void Stop() {
    std::thread thread;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      thread = std::move(thread_);  // so that only one Stop() joins it
    }
    wake_.notify_all();
    if (thread.joinable()) thread.join();
  }
  // Whether Stop() was called: a long pass checks it to end early.
  bool stopping() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }

 private:
  void Loop(const Pass& pass) {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        woken_ = false;  // a Wake() from here on ends the coming sleep at once
      }
      const std::chrono::milliseconds sleep = pass();
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, sleep, [this] { return stop_ || woken_; });
      if (stop_) return;
    }
  }

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;   // guarded by mu_
  bool woken_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_WAKEABLE_THREAD_H_
