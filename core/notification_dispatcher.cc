#include "core/notification_dispatcher.h"

#include <algorithm>
#include <exception>

#include "core/text.h"

namespace exportd {
namespace {

constexpr int kPendingPage = 100;

}  // namespace

std::string DeliveryLane(std::string_view channel, std::string_view target) {
  if (channel != kWebhookChannel) return std::string(channel);
  std::string origin = UrlOriginForLog(target);  // "scheme://host:port/..."
  if (origin.size() > 4 && origin.compare(origin.size() - 4, 4, "/...") == 0) {
    origin.resize(origin.size() - 4);
  }
  return origin;
}

NotificationDispatcher::NotificationDispatcher(TaskRecords& tasks, NotificationOutbox& outbox,
                                               const Clock& clock, Logger& logger,
                                               DispatcherOptions options)
    : tasks_(tasks), outbox_(outbox), clock_(clock), logger_(logger), options_(options) {}

NotificationDispatcher::~NotificationDispatcher() { Stop(); }

void NotificationDispatcher::SetNotifier(std::string_view channel, Notifier& notifier) {
  notifiers_[std::string(channel)] = &notifier;
}

Status NotificationDispatcher::RequeuePending() {
  std::string after;
  size_t requeued = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<Task> page, outbox_.PendingNotifications(kPendingPage, after));
    for (const Task& task : page) {
      for (const HookDelivery& d : task.notifications) {
        if (d.status != DeliveryStatus::kPending) continue;
        if (Enqueue(task.id, d.hook, DeliveryLane(d.channel, d.target),
                    std::chrono::steady_clock::now())) {
          ++requeued;
        }
      }
    }
    if (page.size() < static_cast<size_t>(kPendingPage)) break;
    after = page.back().id;
  }
  if (requeued > 0) {
    logger_.Info("notifications: re-queued " + std::to_string(requeued) +
                 " pending deliveries of finished tasks");
  }
  return Status::Ok();
}

Status NotificationDispatcher::Start() {
  RETURN_IF_ERROR(RequeuePending());
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return Status::Ok();
  started_ = true;
  MaybeAddWorkerLocked();
  rescanner_ = std::thread([this] { RescanLoop(); });
  return Status::Ok();
}

void NotificationDispatcher::RescanLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    const auto next = std::chrono::steady_clock::now() + std::max(Millis(1), options_.rescan);
    while (!stopping_ && std::chrono::steady_clock::now() < next) cv_.wait_until(lock, next);
    if (stopping_) return;
    lock.unlock();
    Status scanned = RequeuePending();
    if (!scanned.ok()) logger_.Error("notifications: rescan: " + scanned.ToString());
    lock.lock();
  }
}

void NotificationDispatcher::OnTerminal(const Task& task) {
  // Every hook is queued; Attempt skips those the store no longer has pending, so a caller
  // holding an older copy of the task cannot cause a second delivery.
  const auto now = std::chrono::steady_clock::now();
  for (const HookDelivery& d : HooksOf(task.notify)) {
    Enqueue(task.id, d.hook, DeliveryLane(d.channel, d.target), now);
  }
}

void NotificationDispatcher::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
    if (rescanner_.joinable()) threads.push_back(std::move(rescanner_));
  }
  cv_.notify_all();
  for (std::thread& t : threads) t.join();
}

size_t NotificationDispatcher::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return known_.size();
}

bool NotificationDispatcher::Enqueue(const std::string& task_id, int hook, std::string lane,
                                     SteadyTime due) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Key key{task_id, hook};
    if (!known_.insert(key).second) return false;  // already queued or in flight
    queue_.emplace(due, Item{std::move(key), std::move(lane)});
    MaybeAddWorkerLocked();
  }
  cv_.notify_all();
  return true;
}

void NotificationDispatcher::MaybeAddWorkerLocked() {
  if (!started_ || stopping_ || idle_ > 0) return;
  if (threads_.size() >= static_cast<size_t>(std::max(1, options_.workers))) return;
  threads_.emplace_back([this] { WorkerLoop(); });
  // Counted idle from now: it looks at the queue before it waits.
  ++idle_;
}

std::multimap<NotificationDispatcher::SteadyTime, NotificationDispatcher::Item>::iterator
NotificationDispatcher::NextRunnableLocked(SteadyTime now, std::optional<SteadyTime>* next_due) {
  const int cap = std::max(1, options_.per_lane);
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (it->first > now) {
      *next_due = it->first;
      return queue_.end();
    }
    auto lane = in_flight_.find(it->second.lane);
    if (lane == in_flight_.end() || lane->second < cap) return it;
  }
  return queue_.end();
}

void NotificationDispatcher::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (stopping_) {
      --idle_;
      return;
    }
    std::optional<SteadyTime> next_due;
    auto runnable = NextRunnableLocked(std::chrono::steady_clock::now(), &next_due);
    if (runnable == queue_.end()) {
      // Woken by a new item, a retry, or a lane that frees a slot.
      if (next_due) {
        cv_.wait_until(lock, *next_due);
      } else {
        cv_.wait(lock);
      }
      continue;
    }
    Item item = std::move(runnable->second);
    queue_.erase(runnable);
    ++in_flight_[item.lane];
    --idle_;
    // More may be runnable (other lanes): make sure someone is free to take them.
    MaybeAddWorkerLocked();
    lock.unlock();
    Attempt(item);
    lock.lock();
    if (--in_flight_[item.lane] == 0) in_flight_.erase(item.lane);
    ++idle_;
    // A slot of this lane is free: a worker waiting for it may go.
    cv_.notify_all();
  }
}

void NotificationDispatcher::Attempt(const Item& item) {
  const Key& key = item.key;
  const auto& [task_id, hook] = key;
  auto finish = [this, &key] {
    std::lock_guard<std::mutex> lock(mu_);
    known_.erase(key);
  };
  auto retry_at = [this, &item](Millis delay) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.emplace(std::chrono::steady_clock::now() + delay, item);
    // Another worker may be waiting for a later item; let it see this one.
    cv_.notify_all();
  };

  Result<Task> task = tasks_.Get(task_id);
  if (!task.ok()) {
    logger_.Error("notification " + DeliveryId(task_id, hook) +
                  ": cannot read the task: " + task.status().ToString());
    if (task.status().code() == StatusCode::kNotFound) return finish();
    return retry_at(options_.retry_base);  // the store is busy or down; no attempt was made
  }
  const HookDelivery* found = nullptr;
  for (const HookDelivery& d : task->notifications) {
    if (d.hook == hook) found = &d;
  }
  if (found == nullptr || found->status != DeliveryStatus::kPending) return finish();
  // Attempted only under this dispatcher's claim; the claim returns the delivery as it is now.
  const TimePoint now = clock_.Now();
  Result<std::optional<HookDelivery>> claim =
      outbox_.ClaimNotification(task_id, hook, options_.owner, now, now + options_.claim_ttl);
  if (!claim.ok()) {
    if (claim.status().code() == StatusCode::kNotFound) return finish();
    logger_.Error("notification " + DeliveryId(task_id, hook) +
                  ": cannot claim it: " + claim.status().ToString());
    return retry_at(options_.retry_base);
  }
  // Delivered meanwhile (finished below), or another instance holds it: looked at again once
  // that claim may have expired.
  if (!*claim) return retry_at(options_.claim_ttl);
  const HookDelivery delivery = **claim;

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
  Status saved = outbox_.RecordNotificationAttempt(task_id, after, event);
  const std::string what = "task " + task_id + ": " + delivery.channel + " notification to " +
                           HookTargetForLog(delivery.channel, delivery.target) + " (attempt " +
                           std::to_string(after.attempts) + "/" + std::to_string(max_attempts) +
                           ")";
  if (!saved.ok()) {
    // At least once: a delivered hook whose record was lost is delivered again after a
    // restart; a failed attempt is retried below either way.
    logger_.Error(what + ": cannot record the attempt: " + saved.ToString());
  }
  Telemetry& telemetry = options_.telemetry != nullptr ? *options_.telemetry : NoTelemetry();
  telemetry.NotificationAttempted(delivery.channel,
                                  after.status == DeliveryStatus::kDelivered ? "delivered"
                                  : after.status == DeliveryStatus::kFailed  ? "failed"
                                                                             : "retry");
  switch (after.status) {
    case DeliveryStatus::kDelivered:
      logger_.Info(what + ": delivered");
      return finish();
    case DeliveryStatus::kFailed:
      logger_.Warn(what + ": giving up: " + after.last_error.value_or(""));
      return finish();
    case DeliveryStatus::kPending: {
      const Millis delay = NotificationRetryDelay(options_.retry_base, after.attempts);
      logger_.Warn(what + ": " + after.last_error.value_or("") + "; retrying in " +
                   std::to_string(delay.count()) + " ms");
      return retry_at(delay);
    }
  }
}

}  // namespace exportd
