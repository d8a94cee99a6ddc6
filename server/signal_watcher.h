// Stops the HTTP listener on SIGTERM or SIGINT.
#ifndef EXPORTD_SERVER_SIGNAL_WATCHER_H_
#define EXPORTD_SERVER_SIGNAL_WATCHER_H_

#include <thread>

#include "api/api_server.h"

namespace exportd {

// Waits for SIGTERM/SIGINT on a thread of its own, then calls server.Stop(). Destroying it ends
// the wait (with SIGUSR1) and joins the thread. REQUIRES: SIGTERM, SIGINT and SIGUSR1 are
// blocked in every thread (main blocks them before any thread starts); `server` outlives it.
class SignalWatcher {
 public:
  explicit SignalWatcher(api::ApiServer& server);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::thread thread_;
};

}  // namespace exportd

#endif  // EXPORTD_SERVER_SIGNAL_WATCHER_H_
