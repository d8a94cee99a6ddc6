#include "storage/sqlite/commit_counter.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace exportd {

// The file's layout: two little-endian 64-bit counters at offset 0, the rest of the page zero.
// Lock-free atomics on memory shared between processes (std::atomic_ref over the mapping).
struct CommitCounter::Counters {
  alignas(64) uint64_t started = 0;
  uint64_t ended = 0;
};

namespace {

constexpr size_t kFileSize = 4096;
static_assert(sizeof(uint64_t) == 8 && std::atomic_ref<uint64_t>::is_always_lock_free,
              "the counters are shared between processes: they must be lock-free");

std::atomic_ref<uint64_t> Ref(uint64_t& counter) { return std::atomic_ref<uint64_t>(counter); }

// flock, retried when a signal interrupts it.
int Flock(int fd, int operation) {
  int rc;
  do {
    rc = ::flock(fd, operation);
  } while (rc != 0 && errno == EINTR);
  return rc;
}

}  // namespace

Result<std::shared_ptr<CommitCounter>> CommitCounter::Open(const std::string& db_path) {
  if (db_path.empty() || db_path == ":memory:") {
    return std::shared_ptr<CommitCounter>(
        new CommitCounter(UniqueFd(), nullptr, std::make_unique<Counters>()));
  }
  const std::string path = db_path + "-commits";
  UniqueFd file(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!file.valid()) return PosixError("open " + path, errno);
  // Alone with the file: no other process can be inside a commit, so counters that one killed
  // inside a commit left unequal can be made equal again. Then share it, like the others.
  const bool alone = Flock(file.get(), LOCK_EX | LOCK_NB) == 0;
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return PosixError("stat " + path, errno);
  if (st.st_size < static_cast<off_t>(kFileSize)) {
    // New: made like SQLite makes its -wal and -shm files, with the database's permissions and,
    // when root creates it (`exportd keys` run by root on a service's data dir), its owner, so
    // that whoever can open the database can open this file too.
    struct stat db {};
    if (::stat(db_path.c_str(), &db) == 0) {
      if (::fchmod(file.get(), db.st_mode & 0777) != 0) return PosixError("chmod " + path, errno);
      if (::geteuid() == 0 && (db.st_uid != st.st_uid || db.st_gid != st.st_gid) &&
          ::fchown(file.get(), db.st_uid, db.st_gid) != 0) {
        return PosixError("chown " + path, errno);
      }
    }
    // Safe to race: every process grows it to the same size, zero-filled.
    if (::ftruncate(file.get(), static_cast<off_t>(kFileSize)) != 0) {
      return PosixError("size " + path, errno);
    }
  }
  void* mapping = ::mmap(nullptr, kFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, file.get(), 0);
  if (mapping == MAP_FAILED) return PosixError("map " + path, errno);
  auto* counters = static_cast<Counters*>(mapping);
  if (alone) Ref(counters->ended).store(Ref(counters->started).load());
  if (Flock(file.get(), LOCK_SH) != 0) {
    const int err = errno;
    ::munmap(mapping, kFileSize);
    return PosixError("lock " + path, err);
  }
  return std::shared_ptr<CommitCounter>(new CommitCounter(std::move(file), counters, nullptr));
}

CommitCounter::CommitCounter(UniqueFd file, Counters* mapped, std::unique_ptr<Counters> owned)
    : file_(std::move(file)),
      mapped_(mapped),
      owned_(std::move(owned)),
      counters_(mapped_ != nullptr ? mapped_ : owned_.get()) {}

CommitCounter::~CommitCounter() {
  if (mapped_ != nullptr) ::munmap(mapped_, kFileSize);
}

void CommitCounter::Starting() { Ref(counters_->started).fetch_add(1); }

void CommitCounter::Ended() { Ref(counters_->ended).fetch_add(1); }

std::optional<uint64_t> CommitCounter::StampBeforeRead() const {
  // `started` first: a commit that starts between the two loads makes them differ, or makes the
  // stamp one that Unchanged never accepts again.
  const uint64_t started = Ref(counters_->started).load();
  if (Ref(counters_->ended).load() != started) return std::nullopt;
  return started;
}

bool CommitCounter::Unchanged(uint64_t stamp) const {
  return Ref(counters_->started).load() == stamp;
}

uint64_t CommitCounter::started() const { return Ref(counters_->started).load(); }

uint64_t CommitCounter::ended() const { return Ref(counters_->ended).load(); }

}  // namespace exportd
