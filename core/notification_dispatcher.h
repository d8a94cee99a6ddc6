// NotificationDispatcher: delivers the hooks of finished tasks, at least once, off the export
// path.
//
// The Scheduler and ExportService report each task that reaches a terminal state (OnTerminal);
// that only queues its hooks, so delivery never blocks or slows an export and cannot change its
// outcome. Worker threads deliver each hook through the Notifier of its channel; a failed
// attempt is retried after NotificationRetryDelay (about 1, 2, 4, 8 s with the default base)
// until `attempts` attempts are spent. Each attempt's result is saved with its "notification"
// event in one store transaction (NotificationOutbox::RecordNotificationAttempt).
//
// Fairness: each delivery belongs to a lane, the receiver it goes to (a webhook's origin:
// scheme, host and port; all email goes to the one SMTP server, one lane). At most
// `per_lane` attempts of one lane are in flight at once, and threads are started on demand up
// to `workers`, so receivers that hang until the timeout hold only their own lanes' slots: a
// healthy receiver's delivery starts at once while up to workers - 1 others hang.
//
// Durability: the store records pending deliveries together with the terminal transition, and
// Start() re-queues every pending delivery it finds, so hooks survive a crash or restart.
//
// Several instances: each attempt is made under a claim in the store
// (NotificationOutbox::ClaimNotification) held by `owner` for `claim_ttl`, so dispatchers of
// several instances sharing one store never attempt one delivery at once, and one that another
// instance has delivered is not sent again. The owner keeps its claim across its retries. A
// delivery whose claim is held elsewhere is looked at again after `claim_ttl`; every `rescan`
// the dispatcher also re-reads the pending deliveries, so those of an instance that died are
// taken over once its claims expire. Only a delivery whose owner died mid-attempt (or stalled
// past claim_ttl) may be sent twice; receivers de-duplicate by delivery id. Retry waits use the
// steady clock; timestamps and claims use `clock`.
#ifndef EXPORTD_CORE_NOTIFICATION_DISPATCHER_H_
#define EXPORTD_CORE_NOTIFICATION_DISPATCHER_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/logger.h"
#include "core/notification_outbox.h"
#include "core/notifier.h"
#include "core/task.h"
#include "core/task_records.h"
#include "core/telemetry.h"

namespace exportd {

struct DispatcherOptions {
  Millis retry_base{1000};
  int attempts = 5;  // in all, the first included
  int workers = 32;  // deliveries in flight at once, over all lanes (threads started on demand)
  int per_lane = 2;  // deliveries in flight at once to one receiver (lane)
  // Where each attempt's outcome is counted (for /metrics); null: nowhere.
  Telemetry* telemetry = nullptr;
  std::string owner = "local";  // the claimant's id in the store (the instance id)
  Millis claim_ttl{60'000};     // longer than any one attempt may take (a notifier's timeout)
  Millis rescan{30'000};        // how often the pending deliveries are re-read
};

// The lane of a delivery: a webhook's origin ("http://host:port"), or the channel for others.
std::string DeliveryLane(std::string_view channel, std::string_view target);

// Thread-safe. The referenced objects (and the notifiers) must outlive the dispatcher.
class NotificationDispatcher {
 public:
  // `tasks` and `outbox` are usually one TaskStore.
  NotificationDispatcher(TaskRecords& tasks, NotificationOutbox& outbox, const Clock& clock,
                         Logger& logger, DispatcherOptions options);
  ~NotificationDispatcher();  // Stop()
  NotificationDispatcher(const NotificationDispatcher&) = delete;
  NotificationDispatcher& operator=(const NotificationDispatcher&) = delete;

  // Routes deliveries of `channel` (kWebhookChannel, kEmailChannel) to `notifier`. A delivery
  // whose channel has no notifier fails at its first attempt. REQUIRES: before Start().
  void SetNotifier(std::string_view channel, Notifier& notifier);

  // Re-queues the pending deliveries of every terminal task in the store, then starts the
  // workers and the periodic rescan. Errors only if the store cannot be read.
  Status Start();
  // Queues the pending deliveries of `task` (as returned by the terminal transition). Never
  // blocks on delivery; may be called before Start() (the workers pick them up once started).
  void OnTerminal(const Task& task);
  // Stops the workers after the attempts in flight end; queued deliveries stay pending in the
  // store for the next start. Idempotent.
  void Stop();

  // Deliveries queued or in flight now (for tests and metrics).
  size_t queued() const;

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  using Key = std::pair<std::string, int>;  // task id, hook
  struct Item {
    Key key;
    std::string lane;
  };

  // False if the delivery is already queued or in flight.
  bool Enqueue(const std::string& task_id, int hook, std::string lane, SteadyTime due);
  // Starts one more worker if every worker is busy and there is room. REQUIRES: mu_ held.
  void MaybeAddWorkerLocked();
  void WorkerLoop();
  // The first due item whose lane has a free slot, or queue_.end(); sets *next_due to the
  // earliest due time among the items that are not due yet (unchanged if there is none).
  // REQUIRES: mu_ held.
  std::multimap<SteadyTime, Item>::iterator NextRunnableLocked(SteadyTime now,
                                                               std::optional<SteadyTime>* next_due);
  void Attempt(const Item& item);
  // Queues every pending delivery in the store that is not queued or in flight here.
  Status RequeuePending();
  void RescanLoop();

  TaskRecords& tasks_;
  NotificationOutbox& outbox_;
  const Clock& clock_;
  Logger& logger_;
  const DispatcherOptions options_;
  std::map<std::string, Notifier*, std::less<>> notifiers_;  // written before Start() only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<SteadyTime, Item> queue_;  // guarded by mu_; by due time
  std::set<Key> known_;                    // guarded by mu_; queued or in flight
  std::map<std::string, int> in_flight_;   // guarded by mu_; attempts running per lane
  int idle_ = 0;                           // guarded by mu_; workers waiting for an item
  bool started_ = false;                   // guarded by mu_
  bool stopping_ = false;                  // guarded by mu_
  std::vector<std::thread> threads_;       // guarded by mu_
  std::thread rescanner_;                  // guarded by mu_
};

}  // namespace exportd

#endif  // EXPORTD_CORE_NOTIFICATION_DISPATCHER_H_
