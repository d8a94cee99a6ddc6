#include "core/wakeable_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace exportd {
namespace {

using std::chrono::milliseconds;

// Waits (up to 10 s) until `passes` reaches `n`.
bool WaitForPasses(const std::atomic<int>& passes, int n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (passes.load() < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

TEST(WakeableThreadTest, RunsAPassAtOnceAndAnotherWhenWoken) {
  std::atomic<int> passes{0};
  WakeableThread thread;
  thread.Start([&] {
    ++passes;
    return milliseconds(3'600'000);  // only a Wake() or Stop() ends this sleep
  });
  ASSERT_TRUE(WaitForPasses(passes, 1));
  thread.Wake();
  ASSERT_TRUE(WaitForPasses(passes, 2));
  thread.Stop();
  thread.Stop();
  EXPECT_TRUE(thread.stopping());
}

TEST(WakeableThreadTest, SleepsForWhatThePassAsked) {
  std::atomic<int> passes{0};
  WakeableThread thread;
  thread.Start([&] {
    ++passes;
    return milliseconds(1);
  });
  EXPECT_TRUE(WaitForPasses(passes, 3));
}

TEST(WakeableThreadTest, NoStartAfterStop) {
  std::atomic<int> passes{0};
  WakeableThread thread;
  thread.Stop();
  thread.Start([&] {
    ++passes;
    return milliseconds(1);
  });
  thread.Stop();
  EXPECT_EQ(passes.load(), 0);
}

}  // namespace
}  // namespace exportd
