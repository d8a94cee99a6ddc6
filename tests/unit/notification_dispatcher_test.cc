// NotificationDispatcher over a real SQLite task store. The notifier is a scripted fake: the
// dispatcher (queueing, retries, backoff, give-up, persistence, re-queue) is what is under test;
// the real notifiers have their own tests.
#include "core/notification_dispatcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_task_store.h"
#include "tests/unit/task_store_contract.h"

namespace exportd {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

constexpr Millis kBase{40};

// Answers each call with the next scripted status (OK once the script is spent) and records
// when it was called.
class ScriptedNotifier final : public Notifier {
 public:
  explicit ScriptedNotifier(std::deque<Status> script = {}) : script_(std::move(script)) {}

  Status Deliver(const Task& task, const HookDelivery& d) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back({task.id, d.hook, d.attempts, Steady::now()});
    if (script_.empty()) return Status::Ok();
    Status s = script_.front();
    script_.pop_front();
    return s;
  }

  struct Call {
    std::string task_id;
    int hook;
    int attempts_before;
    Steady::time_point at;
  };
  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<Status> script_;
  std::vector<Call> calls_;
};

bool WaitUntil(const std::function<bool()>& done, milliseconds timeout = milliseconds(5000)) {
  const auto deadline = Steady::now() + timeout;
  while (Steady::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return done();
}

// The outcomes the dispatcher reports for /metrics, "channel outcome" in order.
class OutcomeTelemetry final : public Telemetry {
 public:
  void NotificationAttempted(std::string_view channel, std::string_view outcome) override {
    std::lock_guard<std::mutex> lock(mu_);
    outcomes_.push_back(std::string(channel) + " " + std::string(outcome));
  }
  std::vector<std::string> outcomes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return outcomes_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> outcomes_;  // guarded by mu_
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = std::make_unique<fakes::MemoryTaskStore>(); }

  // A task with the given hooks, moved to Cancelled in the store; returns it as stored.
  Task FinishedTask(const std::string& id, Notify notify) {
    Task t = NotifyingTask(id, std::move(notify));
    EXPECT_TRUE(store_->Create(t, {}).ok());
    Result<Task> done = store_->Transition(id, Args(Trigger::kCancel, kT0));
    EXPECT_TRUE(done.ok());
    return done.ok() ? *done : t;
  }

  static Notify Webhook() {
    Notify n;
    n.webhook = "http://receiver.invalid/hook";
    return n;
  }

  HookDelivery Stored(const std::string& id, int hook) {
    Result<Task> t = store_->Get(id);
    EXPECT_TRUE(t.ok());
    if (!t.ok() || hook >= static_cast<int>(t->notifications.size())) return {};
    return t->notifications[static_cast<size_t>(hook)];
  }

  std::vector<TaskEvent> NotificationEvents(const std::string& id) {
    std::vector<TaskEvent> out;
    Result<std::vector<TaskEvent>> events = store_->Events(id);
    EXPECT_TRUE(events.ok());
    if (!events.ok()) return out;
    for (const TaskEvent& e : *events) {
      if (e.type == "notification") out.push_back(e);
    }
    return out;
  }

  DispatcherOptions Options(int attempts = 5) {
    DispatcherOptions o;
    o.retry_base = kBase;
    o.attempts = attempts;
    return o;
  }

  std::unique_ptr<fakes::MemoryTaskStore> store_;
  fakes::FakeClock clock_{kT0 + milliseconds(1000)};
  NullLogger logger_;
};

TEST_F(DispatcherTest, DeliversOnceAndRecordsIt) {
  ScriptedNotifier webhook;
  NotificationDispatcher dispatcher(*store_, *store_, clock_, logger_, Options());
  dispatcher.SetNotifier(kWebhookChannel, webhook);
  ASSERT_TRUE(dispatcher.Start().ok());
  Task task = FinishedTask("t1", Webhook());
  dispatcher.OnTerminal(task);
  ASSERT_TRUE(WaitUntil([&] { return Stored("t1", 0).status == DeliveryStatus::kDelivered; }));
  dispatcher.Stop();

  EXPECT_EQ(webhook.calls().size(), 1u);
  HookDelivery d = Stored("t1", 0);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.delivered_at, clock_.Now());
  EXPECT_EQ(d.last_attempt_at, clock_.Now());
  std::vector<TaskEvent> events = NotificationEvents("t1");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].detail,
            "channel=webhook target=\"http://receiver.invalid/...\" attempt=1/5 "
            "outcome=delivered");
}

TEST_F(DispatcherTest, RetriesWithDoublingDelaysUntilAccepted) {
  ScriptedNotifier webhook(
      {Unavailable("HTTP 500"), Status(StatusCode::kDeadlineExceeded, "timeout")});
  OutcomeTelemetry telemetry;
  DispatcherOptions options = Options();
  options.telemetry = &telemetry;
  NotificationDispatcher dispatcher(*store_, *store_, clock_, logger_, options);
  dispatcher.SetNotifier(kWebhookChannel, webhook);
  ASSERT_TRUE(dispatcher.Start().ok());
  dispatcher.OnTerminal(FinishedTask("t1", Webhook()));
  ASSERT_TRUE(WaitUntil([&] { return Stored("t1", 0).status == DeliveryStatus::kDelivered; }));
  dispatcher.Stop();

  std::vector<ScriptedNotifier::Call> calls = webhook.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].attempts_before, 0);
  EXPECT_EQ(calls[2].attempts_before, 2);  // each attempt sees the recorded count
  EXPECT_GE(calls[1].at - calls[0].at, kBase);
  EXPECT_GE(calls[2].at - calls[1].at, 2 * kBase);
  HookDelivery d = Stored("t1", 0);
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(d.last_error, "deadline_exceeded: timeout");  // of the latest failure
  std::vector<TaskEvent> events = NotificationEvents("t1");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_NE(events[0].detail.find("attempt=1/5 outcome=retry error=\"unavailable: HTTP 500\""),
            std::string::npos)
      << events[0].detail;
  EXPECT_NE(events[2].detail.find("attempt=3/5 outcome=delivered"), std::string::npos);
  EXPECT_EQ(telemetry.outcomes(),
            (std::vector<std::string>{"webhook retry", "webhook retry", "webhook delivered"}));
}

TEST_F(DispatcherTest, GivesUpAfterTheLastAttempt) {
  std::deque<Status> failures(10, Unavailable("connection refused"));
  ScriptedNotifier webhook(failures);
  OutcomeTelemetry telemetry;
  DispatcherOptions options = Options();
  options.telemetry = &telemetry;
  NotificationDispatcher dispatcher(*store_, *store_, clock_, logger_, options);
  dispatcher.SetNotifier(kWebhookChannel, webhook);
  ASSERT_TRUE(dispatcher.Start().ok());
  dispatcher.OnTerminal(FinishedTask("t1", Webhook()));
  ASSERT_TRUE(WaitUntil([&] { return Stored("t1", 0).status == DeliveryStatus::kFailed; }));
  // No sixth attempt: wait past where it would be, then look.
  std::this_thread::sleep_for(32 * kBase);
  dispatcher.Stop();

  std::vector<ScriptedNotifier::Call> calls = webhook.calls();
  ASSERT_EQ(calls.size(), 5u);
  // Backoff order: base, 2x, 4x, 8x, each gap at least its delay and longer than the one before.
  for (size_t i = 1; i < calls.size(); ++i) {
    EXPECT_GE(calls[i].at - calls[i - 1].at, kBase * (1 << (i - 1))) << "gap " << i;
  }
  EXPECT_GT(calls[4].at - calls[3].at, calls[2].at - calls[1].at);
  HookDelivery d = Stored("t1", 0);
  EXPECT_EQ(d.attempts, 5);
  EXPECT_FALSE(d.delivered_at);
  std::vector<TaskEvent> events = NotificationEvents("t1");
  ASSERT_EQ(events.size(), 5u);
  EXPECT_NE(events[4].detail.find("attempt=5/5 outcome=failed"), std::string::npos);
  EXPECT_EQ(dispatcher.queued(), 0u);
  EXPECT_EQ(telemetry.outcomes(),
            (std::vector<std::string>{"webhook retry", "webhook retry", "webhook retry",
                                      "webhook retry", "webhook failed"}));
}

TEST_F(DispatcherTest, ChannelWithoutNotifierFailsEveryAttempt) {
  Notify n;
  n.email = {"a@example.org"};
  NotificationDispatcher dispatcher(*store_, *store_, clock_, logger_, Options(/*attempts=*/2));
  ASSERT_TRUE(dispatcher.Start().ok());
  dispatcher.OnTerminal(FinishedTask("t1", n));
  ASSERT_TRUE(WaitUntil([&] { return Stored("t1", 0).status == DeliveryStatus::kFailed; }));
  EXPECT_NE(Stored("t1", 0).last_error->find("no email notifier"), std::string::npos);
}

TEST_F(DispatcherTest, StartRequeuesWhatACrashLeftPending) {
  // A task finished while no dispatcher ran (the process died after the transition), and
  // another one had two failed attempts recorded before the restart.
  FinishedTask("t1", Webhook());
  FinishedTask("t2", Webhook());
  for (int i = 0; i < 2; ++i) {
    HookDelivery d = ApplyAttempt(Stored("t2", 0), kT0, Unavailable("down"), 3);
    TaskEvent e;
    e.at = kT0;
    e.type = "notification";
    e.detail = AttemptEventDetail(d, 3);
    ASSERT_TRUE(store_->RecordNotificationAttempt("t2", d, e).ok());
  }
  std::deque<Status> failures(10, Unavailable("still down"));
  ScriptedNotifier webhook(failures);
  NotificationDispatcher dispatcher(*store_, *store_, clock_, logger_, Options(/*attempts=*/3));
  dispatcher.SetNotifier(kWebhookChannel, webhook);
  ASSERT_TRUE(dispatcher.Start().ok());
  ASSERT_TRUE(WaitUntil([&] {
    return Stored("t1", 0).status == DeliveryStatus::kFailed &&
           Stored("t2", 0).status == DeliveryStatus::kFailed;
  }));
  dispatcher.Stop();
  int t1_calls = 0, t2_calls = 0;
  for (const auto& c : webhook.calls()) (c.task_id == "t1" ? t1_calls : t2_calls)++;
  EXPECT_EQ(t1_calls, 3);
  EXPECT_EQ(t2_calls, 1);  // only the attempt it had left
  EXPECT_EQ(Stored("t2", 0).attempts, 3);
}

TEST_F(DispatcherTest, DeliveredHooksAreNotSentAgain) {
  ScriptedNotifier webhook;
  Task task = FinishedTask("t1", Webhook());
  {
    NotificationDispatcher dispatcher(*store_, *store_, clock_, logger_, Options());
    dispatcher.SetNotifier(kWebhookChannel, webhook);
    ASSERT_TRUE(dispatcher.Start().ok());
    ASSERT_TRUE(WaitUntil([&] { return Stored("t1", 0).status == DeliveryStatus::kDelivered; }));
    dispatcher.OnTerminal(task);  // a stale report of the same task
    ASSERT_TRUE(WaitUntil([&] { return dispatcher.queued() == 0; }));
  }
  NotificationDispatcher restarted(*store_, *store_, clock_, logger_, Options());
  restarted.SetNotifier(kWebhookChannel, webhook);
  ASSERT_TRUE(restarted.Start().ok());
  EXPECT_EQ(restarted.queued(), 0u);
  restarted.Stop();
  EXPECT_EQ(webhook.calls().size(), 1u);
}

TEST_F(DispatcherTest, StopLeavesQueuedDeliveriesPending) {
  ScriptedNotifier webhook({Unavailable("HTTP 503")});
  DispatcherOptions slow = Options();
  slow.retry_base = Millis(60'000);
  NotificationDispatcher dispatcher(*store_, *store_, clock_, logger_, slow);
  dispatcher.SetNotifier(kWebhookChannel, webhook);
  ASSERT_TRUE(dispatcher.Start().ok());
  dispatcher.OnTerminal(FinishedTask("t1", Webhook()));
  ASSERT_TRUE(WaitUntil([&] { return Stored("t1", 0).attempts == 1; }));
  const auto before = Steady::now();
  dispatcher.Stop();  // does not wait for the minute-long retry
  EXPECT_LT(Steady::now() - before, milliseconds(2000));
  EXPECT_EQ(Stored("t1", 0).status, DeliveryStatus::kPending);
  Result<std::vector<Task>> owed = store_->PendingNotifications(10, "");
  ASSERT_TRUE(owed.ok());
  EXPECT_EQ(owed->size(), 1u);
}

// A notifier whose deliveries to hosts named "hang..." block until released (a receiver that
// never answers, until its timeout), and whose others succeed at once.
class HangingNotifier final : public Notifier {
 public:
  Status Deliver(const Task& task, const HookDelivery& d) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (d.target.find("://hang") == std::string::npos) {
      delivered_.push_back(task.id);
      return Status::Ok();
    }
    ++hanging_;
    max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    cv_.wait(lock, [this] { return released_; });
    --in_flight_;
    return Status(StatusCode::kDeadlineExceeded, "timed out");
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  int hanging() const {
    std::lock_guard<std::mutex> lock(mu_);
    return hanging_;
  }
  // The most calls to hanging receivers that were inside Deliver at once.
  int max_in_flight() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_in_flight_;
  }
  std::vector<std::string> delivered() const {
    std::lock_guard<std::mutex> lock(mu_);
    return delivered_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  int hanging_ = 0;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  std::vector<std::string> delivered_;
};

// Releases a HangingNotifier when a test ends, however it ends.
struct ReleaseOnExit {
  HangingNotifier& notifier;
  ~ReleaseOnExit() { notifier.Release(); }
};

TEST_F(DispatcherTest, HangingReceiversDoNotDelayOthers) {
  HangingNotifier webhook;
  DispatcherOptions options = Options(1);
  NotificationDispatcher dispatcher(*store_, *store_, clock_, logger_, options);
  // Destroyed before the dispatcher: a failed assertion must not leave its workers blocked.
  ReleaseOnExit release{webhook};
  dispatcher.SetNotifier(kWebhookChannel, webhook);
  ASSERT_TRUE(dispatcher.Start().ok());
  // Five receivers that hang (two hooks on the first: its lane holds per_lane of them)...
  for (int i = 0; i < 6; ++i) {
    Notify n;
    n.webhook = "http://hang" + std::to_string(i % 5) + ".invalid/hook?token=t" + std::to_string(i);
    dispatcher.OnTerminal(FinishedTask("h" + std::to_string(i), n));
  }
  ASSERT_TRUE(WaitUntil([&] { return webhook.hanging() >= 5; })) << webhook.hanging();
  // ...and then a healthy one: delivered while all of them still hang.
  dispatcher.OnTerminal(FinishedTask("ok", Webhook()));
  EXPECT_TRUE(WaitUntil([&] { return Stored("ok", 0).status == DeliveryStatus::kDelivered; }));
  EXPECT_EQ(webhook.delivered(), std::vector<std::string>{"ok"});
  webhook.Release();
  EXPECT_TRUE(WaitUntil([&] { return Stored("h5", 0).status == DeliveryStatus::kFailed; }));
  dispatcher.Stop();
}

TEST_F(DispatcherTest, AtMostPerLaneAttemptsToOneReceiver) {
  HangingNotifier webhook;
  DispatcherOptions options = Options(1);
  options.per_lane = 2;
  NotificationDispatcher dispatcher(*store_, *store_, clock_, logger_, options);
  ReleaseOnExit release{webhook};
  dispatcher.SetNotifier(kWebhookChannel, webhook);
  ASSERT_TRUE(dispatcher.Start().ok());
  for (int i = 0; i < 4; ++i) {
    Notify n;
    n.webhook = "http://hang.invalid:8080/hook" + std::to_string(i);
    dispatcher.OnTerminal(FinishedTask("h" + std::to_string(i), n));
  }
  ASSERT_TRUE(WaitUntil([&] { return webhook.hanging() >= 2; }));
  // Two hang; the other two wait for a slot of that lane rather than pile onto the receiver
  // (without the cap they would be inside Deliver at once with the first two).
  webhook.Release();
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(WaitUntil([&] {
      return Stored("h" + std::to_string(i), 0).status == DeliveryStatus::kFailed;
    })) << i;
  }
  EXPECT_EQ(webhook.hanging(), 4);
  EXPECT_EQ(webhook.max_in_flight(), 2);
  dispatcher.Stop();
}

TEST(NotificationTest, LanesAreOriginsAndEmailIsOne) {
  EXPECT_EQ(DeliveryLane(kWebhookChannel, "https://u:p@h.example.org:8443/x?token=s"),
            "https://h.example.org:8443");
  EXPECT_NE(DeliveryLane(kWebhookChannel, "http://127.0.0.1:1/a"),
            DeliveryLane(kWebhookChannel, "http://127.0.0.1:2/a"));
  EXPECT_EQ(DeliveryLane(kEmailChannel, "a@x.org"), DeliveryLane(kEmailChannel, "b@y.org"));
}

TEST(NotificationTest, WebhookErrorsAndEventsShowTheOriginOnly) {
  Notify n;
  n.webhook = "http://127.0.0.1:9/hook/path?token=s3cr3t-token";
  n.email = {"a@x.org"};
  std::vector<HookDelivery> hooks = HooksOf(n);
  HookDelivery d = ApplyAttempt(
      hooks[0], kT0, Unavailable("POST " + *n.webhook + ": Failed to connect to /hook/path"), 3);
  ASSERT_TRUE(d.last_error);
  EXPECT_EQ(d.last_error->find("s3cr3t"), std::string::npos) << *d.last_error;
  EXPECT_EQ(d.last_error->find("/hook/path"), std::string::npos) << *d.last_error;
  EXPECT_NE(d.last_error->find("http://127.0.0.1:9/..."), std::string::npos) << *d.last_error;
  const std::string detail = AttemptEventDetail(d, 3);
  EXPECT_EQ(detail.find("s3cr3t"), std::string::npos) << detail;
  EXPECT_NE(detail.find("target=\"http://127.0.0.1:9/...\""), std::string::npos) << detail;
  EXPECT_EQ(HookTargetForLog(kEmailChannel, "a@x.org"), "a@x.org");
}

TEST(NotificationTest, HooksDelaysAndAttempts) {
  Notify n;
  n.webhook = "http://h/x";
  n.email = {"a@x.org"};
  std::vector<HookDelivery> hooks = HooksOf(n);
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(hooks[1].hook, 1);
  EXPECT_EQ(DeliveryId("01ABC", 1), "01ABC-2");
  EXPECT_EQ(NotificationRetryDelay(Millis(1000), 1), Millis(1000));
  EXPECT_EQ(NotificationRetryDelay(Millis(1000), 4), Millis(8000));
  HookDelivery d = ApplyAttempt(hooks[0], kT0, Unavailable("x"), 2);
  EXPECT_EQ(d.status, DeliveryStatus::kPending);
  d = ApplyAttempt(d, kT0, Unavailable("y"), 2);
  EXPECT_EQ(d.status, DeliveryStatus::kFailed);
  EXPECT_EQ(d.last_error, "unavailable: y");
  EXPECT_EQ(ParseDeliveryStatus("delivered"), DeliveryStatus::kDelivered);
  EXPECT_FALSE(ParseDeliveryStatus("nope"));
}

}  // namespace
}  // namespace exportd
