#include "storage/postgres/pg_pool.h"

#include <utility>

namespace exportd {

Result<std::unique_ptr<PgPool>> PgPool::Open(const std::string& url, int size) {
  if (size < 1) return InvalidArgument("pool_size must be at least 1");
  auto pool = std::unique_ptr<PgPool>(new PgPool(url, size));
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> first, PgConnection::Open(url));
  std::lock_guard<std::mutex> lock(pool->mu_);
  pool->idle_.push_back(std::move(first));
  pool->open_ = 1;
  return pool;
}

PgPool::Lease::~Lease() {
  if (conn_) pool_->Release(std::move(conn_));
}

void PgPool::Release(std::unique_ptr<PgConnection> conn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (conn->ok()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;  // destroyed below, outside nothing that matters: PQfinish of a dead connection
  }
  freed_.notify_one();
}

Result<PgPool::Lease> PgPool::Acquire(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!freed_.wait_for(lock, wait, [&] { return !idle_.empty() || open_ < size_; })) {
    return Unavailable("no PostgreSQL connection came free within " + std::to_string(wait.count()) +
                       " ms (pool_size " + std::to_string(size_) + ")");
  }
  if (!idle_.empty()) {
    std::unique_ptr<PgConnection> conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn));
  }
  ++open_;
  lock.unlock();
  Result<std::unique_ptr<PgConnection>> conn = PgConnection::Open(url_);
  if (!conn.ok()) {
    lock.lock();
    --open_;
    freed_.notify_one();
    return conn.status();
  }
  return Lease(this, std::move(conn).value());
}

Status PgPool::Transact(const std::function<Status(PgConnection&)>& body) {
  Status last;
  for (int round = 0; round < 2; ++round) {
    ASSIGN_OR_RETURN(Lease conn, Acquire());
    bool commit_sent = false;
    Status status = conn->ExecScript("BEGIN");
    if (status.ok()) status = body(*conn);
    if (status.ok()) {
      commit_sent = true;
      status = conn->ExecScript("COMMIT");
    }
    if (status.ok()) return status;
    if (conn->ok()) {
      // The connection lives: end the transaction (a failed statement left it aborted).
      (void)conn->ExecScript("ROLLBACK");
      return status;
    }
    // Lost: safe to run again only if COMMIT never left.
    if (commit_sent) return status;
    last = status;
  }
  return last;
}

Status PgPool::Run(const std::function<Status(PgConnection&)>& body) {
  Status status;
  for (int round = 0; round < 2; ++round) {
    ASSIGN_OR_RETURN(Lease conn, Acquire());
    status = body(*conn);
    if (status.ok() || conn->ok()) return status;
  }
  return status;
}

}  // namespace exportd
