#include "server/signal_watcher.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

namespace exportd {

SignalWatcher::SignalWatcher(api::ApiServer& server)
    : thread_([&server] {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGUSR1);  // sent by ~SignalWatcher to end the wait
        int sig = 0;
        sigwait(&set, &sig);
        if (sig != SIGUSR1) {
          spdlog::info("received {}; shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        }
        server.Stop();
      }) {}

SignalWatcher::~SignalWatcher() {
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
}

}  // namespace exportd
