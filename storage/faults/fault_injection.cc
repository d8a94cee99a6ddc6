#include "storage/faults/fault_injection.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <random>
#include <utility>

#include "storage/base/object_writer_pipeline.h"
#include "storage/base/posix_error.h"

namespace exportd {

// Everything here is guarded by mu_; the wrappers lock it for one decision at a time, so the
// sequence of draws follows the sequence of calls.
class FaultState {
 public:
  FaultState(uint64_t seed, int64_t max_faults) : rng_(seed), max_faults_(max_faults) {}

  std::mutex mu;

  // REQUIRES: mu held. True with probability `rate`; draws only when 0 < rate < 1.
  bool Chance(double rate) {
    if (rate <= 0.0) return false;
    if (rate >= 1.0) return true;
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < rate;
  }
  // REQUIRES: mu held, n > 0. Uniform in [0, n).
  int64_t Uniform(int64_t n) { return std::uniform_int_distribution<int64_t>(0, n - 1)(rng_); }
  // REQUIRES: mu held. Records one injected fault unless max_faults is spent.
  bool Take() {
    if (max_faults_ > 0 && faults_ >= max_faults_) return false;
    ++faults_;
    return true;
  }
  int64_t faults() {
    std::lock_guard<std::mutex> lock(mu);
    return faults_;
  }

  // Calls so far (guarded by mu).
  int64_t counts = 0;
  int64_t reads = 0;
  int64_t writes = 0;
  int64_t commits = 0;
  int64_t accepted_bytes = 0;  // bytes passed on by Write()

 private:
  std::mt19937_64 rng_;
  const int64_t max_faults_;
  int64_t faults_ = 0;
};

namespace {

std::string_view ModeName(FaultMode mode) {
  return mode == FaultMode::kPermanent ? "permanent" : "transient";
}

Status SourceFault(FaultMode mode, const std::string& name, std::string_view where) {
  const std::string what = "(injected fault at " + std::string(where) + ")";
  if (mode == FaultMode::kPermanent) {
    return FailedPrecondition(name + ": source failed permanently " + what);
  }
  return Unavailable(name + ": source busy " + what);
}

std::string Rate(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", r);
  return buf;
}

// Fails Next() once `fail_at` rows have been delivered (if the state still allows a fault).
class FaultInjectingReader final : public RecordReader {
 public:
  FaultInjectingReader(std::unique_ptr<RecordReader> inner, std::shared_ptr<FaultState> state,
                       int64_t fail_at, Status fault)
      : inner_(std::move(inner)),
        state_(std::move(state)),
        fail_at_(fail_at),
        fault_(std::move(fault)) {}

  bool Next() override {
    if (!status_.ok()) return false;
    if (fail_at_ >= 0 && rows_ == fail_at_) {
      fail_at_ = -1;
      std::lock_guard<std::mutex> lock(state_->mu);
      if (state_->Take()) {
        status_ = fault_;
        return false;
      }
    }
    if (!inner_->Next()) return false;
    ++rows_;
    return true;
  }
  std::span<const Cell> row() const override { return inner_->row(); }
  std::optional<std::span<const uint32_t>> non_null_cells() const override {
    return inner_->non_null_cells();
  }
  FilterValue key() const override { return inner_->key(); }
  Status status() const override { return status_.ok() ? inner_->status() : status_; }

 private:
  const std::unique_ptr<RecordReader> inner_;
  const std::shared_ptr<FaultState> state_;
  int64_t fail_at_;  // -1: no fault planned
  const Status fault_;
  int64_t rows_ = 0;
  Status status_;
};

// Fails chosen Write() and Commit() calls, one more layer of the object-writer pipeline
// (storage/base/object_writer_pipeline.h); the GuardedWriter above it makes a fault stick, as
// an error of the real writers does. REQUIRES: the calling rules of GuardedWriter.
class FaultInjectingWriter final : public ObjectWriterWrapper {
 public:
  FaultInjectingWriter(std::unique_ptr<ObjectWriter> inner, const ObjectStoreFaultOptions& options,
                       std::shared_ptr<FaultState> state, std::string path)
      : ObjectWriterWrapper(std::move(inner)),
        options_(options),
        state_(std::move(state)),
        path_(std::move(path)) {}

  Status Write(std::string_view data) override {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      const int64_t n = ++state_->writes;
      const auto size = static_cast<int64_t>(data.size());
      if (options_.enospc && state_->accepted_bytes + size > options_.enospc_after_bytes &&
          state_->Take()) {
        return PosixError("write " + path_ + " (injected fault)", ENOSPC);
      }
      if ((options_.fail_nth_write == n || state_->Chance(options_.write_fail_rate)) &&
          state_->Take()) {
        return PosixError(
            "write " + path_ + " (injected fault at Write #" + std::to_string(n) + ")", EIO);
      }
      state_->accepted_bytes += size;
    }
    return target().Write(data);
  }

  // An injected failure leaves the inner writer uncommitted: it is discarded with this one.
  Result<ObjectInfo> Commit() override {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      const int64_t n = ++state_->commits;
      if (options_.enospc && state_->accepted_bytes >= options_.enospc_after_bytes &&
          state_->Take()) {
        return PosixError("write " + path_ + " (injected fault)", ENOSPC);
      }
      if ((options_.fail_nth_commit == n || state_->Chance(options_.commit_fail_rate)) &&
          state_->Take()) {
        return PosixError(
            "fsync " + path_ + " (injected fault at Commit #" + std::to_string(n) + ")", EIO);
      }
    }
    return target().Commit();
  }

 private:
  const ObjectStoreFaultOptions& options_;  // owned by the store, which outlives its writers
  const std::shared_ptr<FaultState> state_;
  const std::string path_;  // "<task_id>/<name>", for messages
};

}  // namespace

Status FaultInjectionOptions::Validate() const {
  auto bad = [](const std::string& key, const std::string& what) {
    return InvalidArgument("configuration: fault_injection." + key + " " + what);
  };
  auto rate = [&](const char* key, double r) {
    return (r >= 0.0 && r <= 1.0) ? Status::Ok() : bad(key, "must be within 0..1");
  };
  auto count = [&](const char* key, int64_t n) {
    return n >= 0 ? Status::Ok() : bad(key, "must be >= 0");
  };
  RETURN_IF_ERROR(rate("source.fail_rate", source.fail_rate));
  if (source.fail_window_rows < 1) return bad("source.fail_window_rows", "must be >= 1");
  RETURN_IF_ERROR(count("source.fail_nth_count", source.fail_nth_count));
  RETURN_IF_ERROR(count("source.fail_nth_read", source.fail_nth_read));
  RETURN_IF_ERROR(count("source.fail_after_rows", source.fail_after_rows));
  RETURN_IF_ERROR(count("source.max_faults", source.max_faults));
  RETURN_IF_ERROR(rate("object_store.write_fail_rate", object_store.write_fail_rate));
  RETURN_IF_ERROR(rate("object_store.commit_fail_rate", object_store.commit_fail_rate));
  RETURN_IF_ERROR(count("object_store.fail_nth_write", object_store.fail_nth_write));
  RETURN_IF_ERROR(count("object_store.fail_nth_commit", object_store.fail_nth_commit));
  RETURN_IF_ERROR(count("object_store.enospc_after_bytes", object_store.enospc_after_bytes));
  RETURN_IF_ERROR(count("object_store.max_faults", object_store.max_faults));
  return Status::Ok();
}

std::string FaultInjectionOptions::Describe() const {
  const SourceFaultOptions& s = source;
  const ObjectStoreFaultOptions& o = object_store;
  return "seed=" + std::to_string(seed) + "; source: " + std::string(ModeName(s.mode)) +
         " fail_rate=" + Rate(s.fail_rate) +
         " fail_window_rows=" + std::to_string(s.fail_window_rows) +
         " fail_nth_count=" + std::to_string(s.fail_nth_count) +
         " fail_nth_read=" + std::to_string(s.fail_nth_read) +
         " fail_after_rows=" + std::to_string(s.fail_after_rows) +
         " max_faults=" + std::to_string(s.max_faults) +
         "; object_store: write_fail_rate=" + Rate(o.write_fail_rate) +
         " commit_fail_rate=" + Rate(o.commit_fail_rate) +
         " fail_nth_write=" + std::to_string(o.fail_nth_write) +
         " fail_nth_commit=" + std::to_string(o.fail_nth_commit) +
         " enospc=" + (o.enospc ? "true" : "false") +
         " enospc_after_bytes=" + std::to_string(o.enospc_after_bytes) +
         " max_faults=" + std::to_string(o.max_faults);
}

uint64_t ObjectStoreFaultSeed(uint64_t seed) { return seed ^ 0x9e3779b97f4a7c15ULL; }

// ---- FaultInjectingSource ---------------------------------------------------------------------

FaultInjectingSource::FaultInjectingSource(std::shared_ptr<Source> inner,
                                           SourceFaultOptions options, uint64_t seed,
                                           std::string name)
    : inner_(std::move(inner)),
      options_(options),
      name_(std::move(name)),
      state_(std::make_shared<FaultState>(seed, options.max_faults)) {}

int64_t FaultInjectingSource::faults_injected() const { return state_->faults(); }

Result<int64_t> FaultInjectingSource::Count(const SourceQuery& query) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    const int64_t n = ++state_->counts;
    if ((options_.fail_nth_count == n || state_->Chance(options_.fail_rate)) && state_->Take()) {
      return SourceFault(options_.mode, name_, "Count #" + std::to_string(n));
    }
  }
  return inner_->Count(query);
}

Result<std::unique_ptr<RecordReader>> FaultInjectingSource::Read(const SourceQuery& query) {
  int64_t n = 0;
  int64_t fail_at = -1;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    n = ++state_->reads;
    if ((options_.fail_nth_read == n || state_->Chance(options_.fail_rate)) && state_->Take()) {
      return SourceFault(options_.mode, name_, "Read #" + std::to_string(n));
    }
    if (options_.fail_after_rows > 0) fail_at = options_.fail_after_rows;
    if (state_->Chance(options_.fail_rate)) {
      const int64_t at = state_->Uniform(options_.fail_window_rows);
      fail_at = fail_at < 0 ? at : std::min(fail_at, at);
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader, inner_->Read(query));
  if (fail_at < 0) return reader;
  Status fault =
      SourceFault(options_.mode, name_,
                  "row " + std::to_string(fail_at + 1) + " of Read #" + std::to_string(n));
  return std::unique_ptr<RecordReader>(
      std::make_unique<FaultInjectingReader>(std::move(reader), state_, fail_at, std::move(fault)));
}

// ---- FaultInjectingObjectStore ----------------------------------------------------------------

FaultInjectingObjectStore::FaultInjectingObjectStore(ObjectStore& inner,
                                                     ObjectStoreFaultOptions options, uint64_t seed)
    : inner_(inner),
      options_(options),
      state_(std::make_shared<FaultState>(seed, options.max_faults)) {}

int64_t FaultInjectingObjectStore::faults_injected() const { return state_->faults(); }

Result<std::unique_ptr<ObjectWriter>> FaultInjectingObjectStore::Create(
    std::string_view task_id, std::string_view name, const ObjectOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> writer, inner_.Create(task_id, name, options));
  return std::unique_ptr<ObjectWriter>(
      std::make_unique<GuardedWriter>(std::make_unique<FaultInjectingWriter>(
          std::move(writer), options_, state_, std::string(task_id) + "/" + std::string(name))));
}

Result<std::unique_ptr<ObjectReader>> FaultInjectingObjectStore::Open(std::string_view task_id,
                                                                      std::string_view name) {
  return inner_.Open(task_id, name);
}

Status FaultInjectingObjectStore::DeleteAll(std::string_view task_id) {
  return inner_.DeleteAll(task_id);
}

Status FaultInjectingObjectStore::DeleteExcept(std::string_view task_id,
                                               const std::vector<std::string>& keep) {
  return inner_.DeleteExcept(task_id, keep);
}

Result<std::string> FaultInjectingObjectStore::DownloadUrl(std::string_view task_id,
                                                           std::string_view name,
                                                           TimePoint expires_at) {
  return inner_.DownloadUrl(task_id, name, expires_at);
}

DatasetCatalog WithSourceFaults(const DatasetCatalog& catalog,
                                const FaultInjectionOptions& options) {
  DatasetCatalog wrapped;
  uint64_t seed = options.seed;
  for (const DatasetCatalog::Entry* entry : catalog.List()) {
    auto source = std::make_shared<FaultInjectingSource>(entry->source, options.source, seed++,
                                                         entry->dataset->name());
    // The names were unique in `catalog`, so Add cannot fail.
    Status added = wrapped.Add({entry->dataset, std::move(source)});
    assert(added.ok());
    (void)added;
  }
  return wrapped;
}

}  // namespace exportd
