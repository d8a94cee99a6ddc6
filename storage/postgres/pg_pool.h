// A small pool of PostgreSQL connections, and transactions on them.
#ifndef EXPORTD_STORAGE_POSTGRES_PG_POOL_H_
#define EXPORTD_STORAGE_POSTGRES_PG_POOL_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "storage/postgres/pg_connection.h"

namespace exportd {

// At most `size` connections to one database, opened when first needed and kept open; a
// connection that was lost is dropped when it comes back and a new one is opened on demand
// (so the pool heals after a server restart). Thread-safe.
class PgPool {
 public:
  // Opens one connection at once, so that a wrong URL or an unreachable server is reported at
  // start. kInvalidArgument if size < 1.
  static Result<std::unique_ptr<PgPool>> Open(const std::string& url, int size);

  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // A connection for one user; returned to the pool when destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PgConnection& operator*() { return *conn_; }
    PgConnection* operator->() { return conn_.get(); }

   private:
    friend class PgPool;
    Lease(PgPool* pool, std::unique_ptr<PgConnection> conn) : pool_(pool), conn_(std::move(conn)) {}
    PgPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  // Waits for a free connection (at most `wait`), opening one if fewer than size are open.
  // kUnavailable if none came free in time or the server cannot be reached.
  Result<Lease> Acquire(std::chrono::milliseconds wait = std::chrono::seconds(30));

  // Runs `body` inside BEGIN ... COMMIT on one connection. An error from `body` (or from the
  // COMMIT) rolls back and is returned. When the connection turns out to be lost before COMMIT
  // was sent (nothing can have been committed), the whole transaction runs once more on a new
  // connection: a pooled connection that died with a server restart costs no failed call.
  // `body` must therefore only act on the database (and on values it resets itself).
  Status Transact(const std::function<Status(PgConnection&)>& body);

  // Runs `body` (reads, or single self-committing statements) on one connection, outside a
  // transaction; once more on a new connection if the first turned out to be lost.
  Status Run(const std::function<Status(PgConnection&)>& body);

  const std::string& url() const { return url_; }
  int size() const { return size_; }

 private:
  PgPool(std::string url, int size) : url_(std::move(url)), size_(size) {}
  void Release(std::unique_ptr<PgConnection> conn);

  const std::string url_;
  const int size_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mu_
  int open_ = 0;                                     // guarded by mu_: idle and leased
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_POSTGRES_PG_POOL_H_
