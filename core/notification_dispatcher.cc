#include "core/notification_dispatcher.h"

#include <algorithm>
#include <exception>

#include "core/text.h"

namespace exportd {
namespace {

constexpr int kPendingPage = 100;

}  // namespace

NotificationDispatcher::NotificationDispatcher(TaskStore& tasks, const Clock& clock,
                                               Logger& logger, DispatcherOptions options)
    : tasks_(tasks), clock_(clock), logger_(logger), options_(options) {}

NotificationDispatcher::~NotificationDispatcher() { Stop(); }

void NotificationDispatcher::SetNotifier(std::string_view channel, Notifier& notifier) {
  notifiers_[std::string(channel)] = &notifier;
}

Status NotificationDispatcher::Start() {
  std::string after;
  size_t requeued = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<Task> page, tasks_.PendingNotifications(kPendingPage, after));
    for (const Task& task : page) {
      for (const HookDelivery& d : task.notifications) {
        if (d.status != DeliveryStatus::kPending) continue;
        Enqueue(task.id, d.hook, std::chrono::steady_clock::now());
        ++requeued;
      }
    }
    if (page.size() < static_cast<size_t>(kPendingPage)) break;
    after = page.back().id;
  }
  if (requeued > 0) {
    logger_.Info("notifications: re-queued " + std::to_string(requeued) +
                 " pending deliveries of finished tasks");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!threads_.empty() || stopping_) return Status::Ok();
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    threads_.emplace_back([this] { WorkerLoop(); });
  }
  return Status::Ok();
}

void NotificationDispatcher::OnTerminal(const Task& task) {
  // Every hook is queued; Attempt skips those the store no longer has pending, so a caller
  // holding an older copy of the task cannot cause a second delivery.
  const auto now = std::chrono::steady_clock::now();
  for (const HookDelivery& d : HooksOf(task.notify)) Enqueue(task.id, d.hook, now);
}

void NotificationDispatcher::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (std::thread& t : threads) t.join();
}

size_t NotificationDispatcher::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return known_.size();
}

void NotificationDispatcher::Enqueue(const std::string& task_id, int hook, SteadyTime due) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Key key{task_id, hook};
    if (!known_.insert(key).second) return;  // already queued or in flight
    queue_.emplace(due, std::move(key));
  }
  cv_.notify_one();
}

void NotificationDispatcher::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (stopping_) return;
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto first = queue_.begin();
    if (first->first > std::chrono::steady_clock::now()) {
      // A copy: while this thread waits, another worker may take that item and free its node.
      const std::chrono::steady_clock::time_point due = first->first;
      cv_.wait_until(lock, due);
      continue;
    }
    Key key = first->second;
    queue_.erase(first);
    lock.unlock();
    Attempt(key);
    lock.lock();
  }
}

void NotificationDispatcher::Attempt(const Key& key) {
  const auto& [task_id, hook] = key;
  auto finish = [this, &key] {
    std::lock_guard<std::mutex> lock(mu_);
    known_.erase(key);
  };
  auto retry_at = [this, &key](Millis delay) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.emplace(std::chrono::steady_clock::now() + delay, key);
    // Another worker may be waiting for a later item; let it see this one.
    cv_.notify_one();
  };

  Result<Task> task = tasks_.Get(task_id);
  if (!task.ok()) {
    logger_.Error("notification " + DeliveryId(task_id, hook) + ": cannot read the task: " +
                  task.status().ToString());
    if (task.status().code() == StatusCode::kNotFound) return finish();
    return retry_at(options_.retry_base);  // the store is busy or down; no attempt was made
  }
  const HookDelivery* found = nullptr;
  for (const HookDelivery& d : task->notifications) {
    if (d.hook == hook) found = &d;
  }
  if (found == nullptr || found->status != DeliveryStatus::kPending) return finish();
  const HookDelivery delivery = *found;

  Status outcome;
  auto notifier = notifiers_.find(delivery.channel);
  if (notifier == notifiers_.end()) {
    outcome = FailedPrecondition("no " + delivery.channel + " notifier is configured");
  } else {
    try {
      outcome = notifier->second->Deliver(*task, delivery);
    } catch (const std::exception& e) {
      outcome = Internal(std::string("notifier threw: ") + e.what());
    } catch (...) {
      outcome = Internal("notifier threw");
    }
  }
  const int max_attempts = std::max(1, options_.attempts);
  HookDelivery after = ApplyAttempt(delivery, clock_.Now(), outcome, max_attempts);
  TaskEvent event;
  event.task_id = task_id;
  event.at = *after.last_attempt_at;
  event.type = "notification";
  event.actor = kHousekeepingActor;
  event.detail = AttemptEventDetail(after, max_attempts);
  Status saved = tasks_.RecordNotificationAttempt(task_id, after, event);
  const std::string what = "task " + task_id + ": " + delivery.channel + " notification to " +
                           UrlOriginForLog(delivery.target) + " (attempt " + std::to_string(after.attempts) +
                           "/" + std::to_string(max_attempts) + ")";
  if (!saved.ok()) {
    // At least once: a delivered hook whose record was lost is delivered again after a
    // restart; a failed attempt is retried below either way.
    logger_.Error(what + ": cannot record the attempt: " + saved.ToString());
  }
  switch (after.status) {
    case DeliveryStatus::kDelivered:
      logger_.Info(what + ": delivered");
      return finish();
    case DeliveryStatus::kFailed:
      logger_.Warn(what + ": giving up: " + outcome.ToString());
      return finish();
    case DeliveryStatus::kPending: {
      const Millis delay = NotificationRetryDelay(options_.retry_base, after.attempts);
      logger_.Warn(what + ": " + outcome.ToString() + "; retrying in " +
                   std::to_string(delay.count()) + " ms");
      return retry_at(delay);
    }
  }
}

}  // namespace exportd
