#include "storage/postgres_source/pg_copy_stream.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <utility>

namespace exportd {

PgCopyStream::PgCopyStream(PGconn* conn, ErrorTranslator error)
    : conn_(conn), error_(error), thread_([this] { Drain(); }) {}

PgCopyStream::~PgCopyStream() {
  bool ended = false;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    ended = ended_;
  }
  changed_.notify_all();
  // A thread waiting for the server wakes up to a socket that reads as closed.
  if (!ended) ::shutdown(PQsocket(conn_), SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
}

std::optional<std::string_view> PgCopyStream::Next() {
  if (done_) return std::nullopt;
  while (next_row_ == current_.ends.size()) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [this] { return !ready_.empty() || ended_; });
    if (ready_.empty()) {
      status_ = end_status_;
      done_ = true;
      current_ = Chunk{};
      lock.unlock();
      thread_.join();
      return std::nullopt;
    }
    current_ = std::move(ready_.front());
    ready_.pop_front();
    ready_bytes_ -= current_.bytes.size();
    next_row_ = 0;
    changed_.notify_all();
  }
  const size_t begin = next_row_ == 0 ? 0 : current_.ends[next_row_ - 1];
  const size_t end = current_.ends[next_row_++];
  return std::string_view(current_.bytes).substr(begin, end - begin);
}

void PgCopyStream::Drain() {
  Chunk chunk;
  Status end = Status::Ok();
  for (;;) {
    char* data = nullptr;
    const int length = PQgetCopyData(conn_, &data, /*async=*/1);
    if (length > 0) {
      chunk.bytes.append(data, static_cast<size_t>(length));
      PQfreemem(data);
      chunk.ends.push_back(static_cast<uint32_t>(chunk.bytes.size()));
      if (chunk.bytes.size() >= kChunkBytes && !Hand(chunk)) return;
      continue;
    }
    if (length == 0) {  // nothing complete in hand: wait for more, after passing on what arrived
      // if the consumer has nothing left (otherwise the chunk grows, and hand-overs stay few)
      bool idle = false;
      {
        std::lock_guard lock(mu_);
        idle = ready_.empty();
      }
      if (idle && !Hand(chunk)) return;
      if (!WaitReadable() || PQconsumeInput(conn_) != 1) {
        end = error_(conn_, nullptr);
        break;
      }
      continue;
    }
    if (length == -1) {  // the end: the COPY's own result says whether it ended well
      for (PGresult* r; (r = PQgetResult(conn_)) != nullptr;) {
        if (end.ok() && PQresultStatus(r) != PGRES_COMMAND_OK) end = error_(conn_, r);
        PQclear(r);
      }
      break;
    }
    end = error_(conn_, nullptr);
    break;
  }
  if (!Hand(chunk)) return;
  std::lock_guard lock(mu_);
  ended_ = true;
  end_status_ = std::move(end);
  changed_.notify_all();
}

bool PgCopyStream::Hand(Chunk& chunk) {
  std::unique_lock lock(mu_);
  if (chunk.bytes.empty()) return !stopping_;
  // One chunk may always wait, however large its rows.
  changed_.wait(lock, [&] {
    return stopping_ || ready_.empty() || ready_bytes_ + chunk.bytes.size() <= kMaxAhead;
  });
  if (stopping_) return false;
  ready_bytes_ += chunk.bytes.size();
  ready_.push_back(std::move(chunk));
  changed_.notify_all();
  lock.unlock();
  chunk = Chunk{};
  chunk.bytes.reserve(kChunkBytes);
  return true;
}

bool PgCopyStream::WaitReadable() {
  pollfd fd{.fd = PQsocket(conn_), .events = POLLIN, .revents = 0};
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return false;
    }
    const int ready = ::poll(&fd, 1, -1);
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
}

}  // namespace exportd
