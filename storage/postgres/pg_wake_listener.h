// LISTEN for the notifications of migration 002 (a task became Pending somewhere): the way an
// idle instance learns at once of a task another instance created or put back. The same channel
// carries cancel requests ("cancel <task id>", sent by PgTaskStore::RequestCancel for a task
// that is Processing), so the instance running that task stops it at once, whichever instance
// accepted the request.
#ifndef EXPORTD_STORAGE_POSTGRES_PG_WAKE_LISTENER_H_
#define EXPORTD_STORAGE_POSTGRES_PG_WAKE_LISTENER_H_

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace exportd {

// Runs a thread with a connection of its own that LISTENs on the schema's channel and calls
// `on_wake` (on that thread) after each batch of wake-up notifications, and `on_cancel` (when
// given) with the task id of each cancel request. A lost connection is opened again (every
// few seconds until it works), and `on_wake` is called once it listens again, since
// notifications sent meanwhile are lost. The destructor stops the thread: destroy the listener
// before whatever `on_wake` uses.
class PgWakeListener {
 public:
  PgWakeListener(std::string url, std::function<void()> on_wake,
                 std::function<void(const std::string& task_id)> on_cancel = nullptr);
  ~PgWakeListener();
  PgWakeListener(const PgWakeListener&) = delete;
  PgWakeListener& operator=(const PgWakeListener&) = delete;

  // Whether the listener is connected and listening now (for tests).
  bool listening() const { return listening_.load(); }

 private:
  void Loop();

  const std::string url_;
  const std::function<void()> on_wake_;
  const std::function<void(const std::string&)> on_cancel_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> listening_{false};
  std::thread thread_;
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_POSTGRES_PG_WAKE_LISTENER_H_
