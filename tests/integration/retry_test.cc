// Transient source errors: the test holds an exclusive lock on the (rollback-journal) source
// file, so exportd's reads fail with SQLITE_BUSY after the dataset's busy_timeout_ms.
//   - released after the first failed attempt: Succeeded with attempts == 2 and exact data;
//   - kept: Failed after 3 attempts, the error recorded, 2 "retry" transitions.
#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

constexpr int kBusyTimeoutMs = 50;

class RetryTest : public ExportdTest {
 protected:
  bool Start() {
    return StartWithItems(
        300, {{"max_attempts", 3}, {"retry_base_delay_ms", 1000}, {"retry_max_delay_ms", 2000}}, {},
        kBusyTimeoutMs);
  }
};

TEST_F(RetryTest, TransientFailureThenRecoverySucceedsOnTheSecondAttempt) {
  ASSERT_TRUE(Start());
  auto lock = std::make_unique<SqliteExclusiveLock>(source_path());
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"format", "ndjson"}});
  ASSERT_FALSE(id.empty());

  // Wait for the first attempt to fail and a retry to be scheduled, then let the source go.
  Json task;
  ASSERT_TRUE(WaitFor(
      [&] {
        task = GetTask(*api_, id);
        return !EventsOfType(GetEvents(*api_, id), "retry").empty() ||
               IsTerminal(task.value("status", ""));
      },
      seconds(15), milliseconds(10)))
      << "no retry event while the source was locked: " << task.dump();
  lock->Release();
  task = GetTask(*api_, id);
  ASSERT_FALSE(IsTerminal(task.value("status", ""))) << task.dump();
  EXPECT_EQ(task.value("attempts", -1), 1) << task.dump();
  ASSERT_TRUE(task["error"].is_object())
      << "the transient error is not shown while waiting: " << task.dump();
  EXPECT_EQ(task["error"].value("retryable", false), true) << task.dump();

  task = WaitForTerminal(*api_, id, seconds(30));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  EXPECT_EQ(task.value("attempts", -1), 2) << task.dump();
  Json events = GetEvents(*api_, id);
  auto retries = EventsOfType(events, "retry");
  ASSERT_EQ(retries.size(), 1u) << events.dump();
  EXPECT_EQ(retries[0].value("from", ""), "Processing");
  EXPECT_EQ(retries[0].value("to", ""), "Pending");
  EXPECT_EQ(EventsOfType(events, "start").size(), 2u) << events.dump();
  ExpectExportMatches(*api_, task, ExpectedItems());
}

TEST_F(RetryTest, PersistentFailureFailsAfterThreeAttemptsWithTheErrorRecorded) {
  ASSERT_TRUE(Start());
  SqliteExclusiveLock lock(source_path());
  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  // Backoff ~1 s then ~2 s (with jitter): well under 20 s.
  Json task = WaitForTerminal(*api_, id, seconds(20));
  ASSERT_EQ(task.value("status", ""), "Failed") << task.dump();
  EXPECT_EQ(task.value("attempts", -1), 3) << task.dump();
  ASSERT_TRUE(task["error"].is_object()) << task.dump();
  EXPECT_FALSE(task["error"].value("code", "").empty()) << task.dump();
  EXPECT_FALSE(task["error"].value("message", "").empty()) << task.dump();
  EXPECT_EQ(task["error"].value("retryable", false), true) << task.dump();
  EXPECT_TRUE(task["files"].is_array() && task["files"].empty()) << task.dump();
  EXPECT_TRUE(task["finished_at"].is_string()) << task.dump();

  Json events = GetEvents(*api_, id);
  auto retries = EventsOfType(events, "retry");
  EXPECT_EQ(retries.size(), 2u) << events.dump();
  for (const auto& r : retries) {
    EXPECT_EQ(r.value("from", ""), "Processing") << r.dump();
    EXPECT_EQ(r.value("to", ""), "Pending") << r.dump();
  }
  EXPECT_EQ(EventsOfType(events, "start").size(), 3u) << events.dump();
  auto fails = EventsOfType(events, "fail");
  ASSERT_EQ(fails.size(), 1u) << events.dump();
  EXPECT_EQ(fails[0].value("from", ""), "Processing");
  EXPECT_EQ(fails[0].value("to", ""), "Failed");
  // The backoff grew: the second wait is longer than a minimal one.
  if (retries.size() == 2) {
    auto starts = EventsOfType(events, "start");
    if (starts.size() == 3) {
      auto ms = [](const Json& e) { return ParseRfc3339Millis(e.value("at", "")).value_or(0); };
      EXPECT_GE(ms(starts[1]) - ms(retries[0]), 200) << "first retry came without backoff";
      EXPECT_GE(ms(starts[2]) - ms(retries[1]), 200) << "second retry came without backoff";
    }
  }

  // Terminal: the task stays Failed even when the source comes back.
  lock.Release();
  auto res = api_->Send("POST", "/v1/exports/" + id + "/cancel", "", "");
  EXPECT_EQ(res.status, 409) << res.Describe();
  EXPECT_EQ(GetTask(*api_, id).value("status", ""), "Failed");
}

TEST_F(RetryTest, PermanentErrorFailsAtOnce) {
  ASSERT_TRUE(Start());
  // The table disappears behind exportd's back: a permanent error (missing table), no retry.
  ASSERT_NO_THROW(ExecSql(source_path(), "ALTER TABLE items RENAME TO gone"));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}});
  ASSERT_FALSE(id.empty());
  Json task = WaitForTerminal(*api_, id, seconds(15));
  ASSERT_EQ(task.value("status", ""), "Failed") << task.dump();
  EXPECT_EQ(task.value("attempts", -1), 1) << task.dump();
  ASSERT_TRUE(task["error"].is_object()) << task.dump();
  EXPECT_EQ(task["error"].value("retryable", true), false) << task.dump();
  EXPECT_TRUE(EventsOfType(GetEvents(*api_, id), "retry").empty());
}

}  // namespace
}  // namespace exportd::itest
