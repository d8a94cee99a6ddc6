// Fault injection for tests: wrappers of Source and ObjectStore that fail chosen calls, switched
// on only by the "fault_injection" section of the configuration (absent = off; server/app.cc
// wraps each dataset's Source and the ObjectStore when it is present).
//
// Faults are decided by counters ("the Nth call") and by seeded randomness (std::mt19937_64), so
// a run with one worker is reproducible from its seed. The source and the store draw from
// separate generators (the store's is seeded with seed ^ a constant), so faults on one side do
// not shift those on the other.
//
// Errors look like the real adapters' errors, so core cannot tell them apart:
//   source, transient   kUnavailable        "... database is busy (injected fault ...)"
//   source, permanent   kFailedPrecondition "... no such table (injected fault ...)"
//   store Write         PosixError(EIO)     kUnavailable "...: Input/output error"
//   store Commit        PosixError(EIO) of an fsync; the object is not published
//   store full disk     PosixError(ENOSPC)  kUnavailable "...: No space left on device", as
//                                           LocalObjectStore maps it
#ifndef EXPORTD_STORAGE_FAULTS_FAULT_INJECTION_H_
#define EXPORTD_STORAGE_FAULTS_FAULT_INJECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/dataset.h"
#include "core/object_store.h"
#include "core/source.h"
#include "core/status.h"

namespace exportd {

enum class FaultMode : uint8_t {
  kTransient,  // kUnavailable: "source busy", retried by the scheduler
  kPermanent,  // kFailedPrecondition: fails the task at once
};

struct SourceFaultOptions {
  // Probability that a Count() fails, that a Read() fails, and that a reader fails mid-stream
  // (each decided independently). A reader picked to fail does so after a number of rows drawn
  // uniformly from [0, fail_window_rows).
  double fail_rate = 0.0;
  int64_t fail_window_rows = 1000;
  FaultMode mode = FaultMode::kTransient;
  int64_t fail_nth_count = 0;  // the Nth Count() call fails (1-based); 0 = off
  int64_t fail_nth_read = 0;   // the Nth Read() call fails (1-based); 0 = off
  // Every reader's Next() fails after delivering this many rows; 0 = off.
  int64_t fail_after_rows = 0;
  // Injects no more faults after this many; 0 = no limit.
  int64_t max_faults = 0;
};

struct ObjectStoreFaultOptions {
  double write_fail_rate = 0.0;   // probability that a Write() fails (EIO)
  double commit_fail_rate = 0.0;  // probability that a Commit() fails as its fsync would (EIO)
  int64_t fail_nth_write = 0;     // the Nth Write() (1-based, across the store); 0 = off
  int64_t fail_nth_commit = 0;    // the Nth Commit() (1-based, across the store); 0 = off
  // A full disk: once `enospc_after_bytes` bytes have been accepted by Write() across the store,
  // every Write() that would go beyond fails with ENOSPC, and so does every Commit().
  bool enospc = false;
  int64_t enospc_after_bytes = 0;
  int64_t max_faults = 0;  // injects no more faults after this many; 0 = no limit
};

struct FaultInjectionOptions {
  uint64_t seed = 1;
  SourceFaultOptions source;
  ObjectStoreFaultOptions object_store;

  // kInvalidArgument naming the offending key ("fault_injection.source.fail_rate ...").
  Status Validate() const;
  // One line for the start-up warning.
  std::string Describe() const;
};

// The generator and counters one wrapper shares with its readers or writers (in the .cc).
class FaultState;

// Thread-safe, like the Source it wraps.
class FaultInjectingSource final : public Source {
 public:
  // `name` (the dataset's) prefixes error messages.
  FaultInjectingSource(std::shared_ptr<Source> inner, SourceFaultOptions options, uint64_t seed,
                       std::string name);

  Status CheckSchema() override { return inner_->CheckSchema(); }  // no faults injected
  Result<int64_t> Count(const SourceQuery& query) override;
  Result<std::unique_ptr<RecordReader>> Read(const SourceQuery& query) override;
  // Not faulted: metrics and scopes come from the source as it is.
  Result<std::vector<std::string>> Partitions() override { return inner_->Partitions(); }
  Result<SourceSummary> Summarize(const SourceQuery& query,
                                  const std::vector<std::string>& count_distinct) override {
    return inner_->Summarize(query, count_distinct);
  }
  Result<std::vector<FilterValue>> MissingKeys(const SourceQuery& query) override {
    return inner_->MissingKeys(query);
  }

  // Faults injected so far.
  int64_t faults_injected() const;

 private:
  const std::shared_ptr<Source> inner_;
  const SourceFaultOptions options_;
  const std::string name_;
  const std::shared_ptr<FaultState> state_;
};

// Thread-safe, like the ObjectStore it wraps. Open, DeleteAll, DeleteExcept, List and
// DownloadUrl pass through.
class FaultInjectingObjectStore final : public ObjectStore {
 public:
  // `inner` must outlive this store and every writer it creates.
  FaultInjectingObjectStore(ObjectStore& inner, ObjectStoreFaultOptions options, uint64_t seed);

  Result<std::unique_ptr<ObjectWriter>> Create(std::string_view task_id, std::string_view name,
                                               const ObjectOptions& options) override;
  Result<std::unique_ptr<ObjectReader>> Open(std::string_view task_id,
                                             std::string_view name) override;
  Status DeleteAll(std::string_view task_id) override;
  Status DeleteExcept(std::string_view task_id, const std::vector<std::string>& keep) override;
  Result<ObjectPage> List(std::string_view prefix, std::string_view page_token,
                          size_t max_objects) override {
    return inner_.List(prefix, page_token, max_objects);
  }
  Result<std::string> DownloadUrl(std::string_view task_id, std::string_view name,
                                  TimePoint expires_at) override;

  // Faults injected so far.
  int64_t faults_injected() const;

 private:
  ObjectStore& inner_;
  const ObjectStoreFaultOptions options_;
  const std::shared_ptr<FaultState> state_;
};

// The seed of the store's generator, derived from the configured seed.
uint64_t ObjectStoreFaultSeed(uint64_t seed);

// A copy of `catalog` whose sources are wrapped in FaultInjectingSource (the i-th dataset, by
// name, with seed + i).
DatasetCatalog WithSourceFaults(const DatasetCatalog& catalog,
                                const FaultInjectionOptions& options);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_FAULTS_FAULT_INJECTION_H_
