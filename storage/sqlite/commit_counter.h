// Counts the commits made to one SQLite database by every exportd process that has it open, so
// that what a store read from it can be reused until the next commit, after one atomic load
// instead of a read transaction (the per-request reads of API keys and task revisions).
#ifndef EXPORTD_STORAGE_SQLITE_COMMIT_COUNTER_H_
#define EXPORTD_STORAGE_SQLITE_COMMIT_COUNTER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "storage/base/posix_error.h"

namespace exportd {

// Two counters in a small file beside the database (`<db>-commits`), mapped shared by each
// process that opens it: `started` is raised before a commit happens, `ended` once the call that
// committed has returned, committed or not. A read that began while no commit was in flight
// (StampBeforeRead) stays true for as long as no commit starts after it (Unchanged), whichever
// process commits.
//
// It counts only what is committed through a Database that watches it (storage/sqlite/sqlite_db.h);
// another tool writing the file (the sqlite3 shell) goes unseen, which is why users of it also
// bound how long they trust a read (storage/sqlite/committed_read_cache.h).
//
// A process killed inside a commit leaves `started` ahead of `ended`: reads are then never
// stamped, which costs speed, not correctness, until a process opens the counter while no other
// has it open, and sets `ended` to `started`.
//
// Thread-safe. The counters live in the mapping; every Open of the same file, in this process or
// another, sees the same ones.
class CommitCounter {
 public:
  // Maps `<db_path>-commits`, creating it if needed (with the database's mode and, when run as
  // root, its owner; 0600 without a database), and holds a shared lock on it until destroyed.
  // For ":memory:" or an empty path the counters are this object's alone.
  static Result<std::shared_ptr<CommitCounter>> Open(const std::string& db_path);

  CommitCounter(const CommitCounter&) = delete;
  CommitCounter& operator=(const CommitCounter&) = delete;
  ~CommitCounter();

  // Brackets one commit or more. REQUIRES: each Starting is followed by one Ended.
  void Starting();
  void Ended();

  // Taken before a read: the stamp to keep with what it read, or nullopt while a commit is in
  // flight (what the read sees may change before the commit returns).
  std::optional<uint64_t> StampBeforeRead() const;
  // Whether no commit has started since `stamp` was taken: checked after the read before keeping
  // it, and before each reuse.
  bool Unchanged(uint64_t stamp) const;

  // For tests and diagnostics.
  uint64_t started() const;
  uint64_t ended() const;

 private:
  struct Counters;
  CommitCounter(UniqueFd file, Counters* mapped, std::unique_ptr<Counters> owned);

  UniqueFd file_;                    // holds the shared lock; invalid for a private counter
  Counters* const mapped_;           // the file's mapping, or null
  std::unique_ptr<Counters> owned_;  // a private counter's
  Counters* const counters_;         // mapped_ or owned_
};

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_COMMIT_COUNTER_H_
