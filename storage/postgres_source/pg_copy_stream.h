// PgCopyStream: the rows of a COPY ... TO STDOUT, taken off the connection by a thread of its
// own.
//
// A server sending COPY data stops as soon as its socket's buffer is full, which holds a few
// hundred rows. Read on the thread that also formats and stores them, every pause of that
// thread (a file committed, a core shared) stops the server too, and the two take turns
// instead of working side by side. Here a thread drains the socket as the rows arrive and hands
// them over in chunks (whatever had arrived, at most kChunkBytes), keeping at most kMaxAhead
// bytes waiting, so the server runs ahead of the consumer by that much.
#ifndef EXPORTD_STORAGE_POSTGRES_SOURCE_PG_COPY_STREAM_H_
#define EXPORTD_STORAGE_POSTGRES_SOURCE_PG_COPY_STREAM_H_

#include <libpq-fe.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"

namespace exportd {

class PgCopyStream {
 public:
  // Turns a failed call into a Status (the connection's error, or the result's).
  using ErrorTranslator = Status (*)(PGconn* conn, const PGresult* result);

  static constexpr size_t kChunkBytes = 256 << 10;
  static constexpr size_t kMaxAhead = 8 << 20;

  // REQUIRES: `conn` is in the COPY OUT state (PQexec returned PGRES_COPY_OUT) and outlives
  // this object; nothing else uses it until Next() has returned nullopt or this is destroyed.
  PgCopyStream(PGconn* conn, ErrorTranslator error);
  // Stops the thread at once if the COPY has not ended (the connection is then unusable).
  ~PgCopyStream();
  PgCopyStream(const PgCopyStream&) = delete;
  PgCopyStream& operator=(const PgCopyStream&) = delete;

  // The next row, its newline included, valid until the next call; nullopt at the end, after
  // which status() tells whether the COPY completed and the connection is the caller's again.
  std::optional<std::string_view> Next();
  const Status& status() const { return status_; }

 private:
  struct Chunk {
    std::string bytes;
    std::vector<uint32_t> ends;  // where each row ends in `bytes`
  };

  void Drain();
  // Hands `chunk` over unless it is empty; false if the stream is being stopped.
  bool Hand(Chunk& chunk);
  // Until the socket can be read; false if it fails or the stream is being stopped.
  bool WaitReadable();

  PGconn* const conn_;
  const ErrorTranslator error_;

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Chunk> ready_;  // guarded by mu_
  size_t ready_bytes_ = 0;   // guarded by mu_
  bool ended_ = false;       // guarded by mu_: the thread has handed over its last chunk
  bool stopping_ = false;    // guarded by mu_
  Status end_status_;        // guarded by mu_

  // The consumer's side.
  Chunk current_;
  size_t next_row_ = 0;
  Status status_;
  bool done_ = false;

  std::thread thread_;  // last: started once the members above exist
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_POSTGRES_SOURCE_PG_COPY_STREAM_H_
