#include "storage/postgres/pg_wake_listener.h"

#include <poll.h>

#include <chrono>
#include <memory>
#include <string_view>

#include "storage/postgres/pg_connection.h"

namespace exportd {
namespace {

// How often the thread looks at stop_ while waiting, and waits between reconnections.
constexpr int kPollMillis = 200;
constexpr auto kReconnectDelay = std::chrono::seconds(2);
// The payload of a cancel request (PgTaskStore::RequestCancel) before the task id.
constexpr std::string_view kCancelPrefix = "cancel ";

}  // namespace

PgWakeListener::PgWakeListener(std::string url, std::function<void()> on_wake,
                               std::function<void(const std::string& task_id)> on_cancel)
    : url_(std::move(url)),
      on_wake_(std::move(on_wake)),
      on_cancel_(std::move(on_cancel)),
      thread_([this] { Loop(); }) {}

PgWakeListener::~PgWakeListener() {
  stop_ = true;
  thread_.join();
}

void PgWakeListener::Loop() {
  while (!stop_) {
    std::unique_ptr<PgConnection> conn;
    if (Result<std::unique_ptr<PgConnection>> opened = PgConnection::Open(url_); opened.ok()) {
      conn = std::move(opened).value();
    }
    // The channel is per schema, so deployments in separate schemas do not wake each other.
    Result<PgResult> channel =
        conn ? conn->Exec("SELECT quote_ident('exportd_tasks_' || current_schema())")
             : Result<PgResult>(Unavailable("not connected"));
    if (!channel.ok() || !conn->ExecScript("LISTEN " + channel->Text(0, 0)).ok()) {
      const auto until = std::chrono::steady_clock::now() + kReconnectDelay;
      while (!stop_ && std::chrono::steady_clock::now() < until) {
        ::poll(nullptr, 0, kPollMillis);
      }
      continue;
    }
    listening_ = true;
    on_wake_();  // whatever became Pending while no one listened
    while (!stop_ && conn->ok()) {
      pollfd fd{PQsocket(conn->get()), POLLIN, 0};
      if (::poll(&fd, 1, kPollMillis) <= 0) continue;
      if (PQconsumeInput(conn->get()) == 0) break;  // lost
      bool woken = false;
      while (PGnotify* n = PQnotifies(conn->get())) {
        const std::string_view payload = n->extra != nullptr ? n->extra : "";
        if (payload.starts_with(kCancelPrefix)) {
          if (on_cancel_) on_cancel_(std::string(payload.substr(kCancelPrefix.size())));
        } else {
          woken = true;
        }
        PQfreemem(n);
      }
      if (woken) on_wake_();
    }
    listening_ = false;
  }
}

}  // namespace exportd
