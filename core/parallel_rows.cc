#include "core/parallel_rows.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "core/formats/format_writer.h"

namespace exportd {
namespace {

// Threads for the lanes, kept for the life of the process and reused by later exports: with a new
// thread per lane, glibc's malloc gave each export's lanes fresh arenas and the process kept
// ~10 MB more after every export (to ~100 MB); reused threads reuse their arenas. Grows to the
// most lanes ever running at once, so a job never waits for a thread. Thread-safe.
class LaneThreads {
 public:
  static LaneThreads& Shared() {
    static LaneThreads* const threads = new LaneThreads();  // never destroyed: idle at exit
    return *threads;
  }

  // Runs `job` on an idle thread, starting one when none is idle.
  void Run(std::function<void()> job) {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
    if (idle_ < jobs_.size()) {
      std::thread([this] { Loop(); }).detach();
      ++idle_;  // counted as idle from now, so the next Run() does not start another for this job
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return !jobs_.empty(); });
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      --idle_;
      lock.unlock();
      job();
      job = nullptr;  // destroys what the job holds before the thread counts as idle
      lock.lock();
      ++idle_;
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  size_t idle_ = 0;  // threads waiting for a job, or started for one not yet taken
};

}  // namespace

// Consecutive rows formatted by one lane.
struct ParallelRows::Batch {
  std::string bytes;                 // the rows' bodies back to back
  std::vector<size_t> ends;          // end offset in `bytes` of each row
  std::vector<FilterValue> keys;     // per row
  std::vector<size_t> formula_rows;  // ascending indexes of rows with a formula-like cell
  Status status;                     // when `last`: why the reader stopped (OK at the end)
  bool last = false;                 // the lane's reader stopped after these rows

  void Clear() {
    bytes.clear();
    ends.clear();
    keys.clear();
    formula_rows.clear();
  }
};

// One reader, the thread that drives it and the batches it has formatted, oldest first.
class ParallelRows::Lane {
 public:
  Lane(std::unique_ptr<RecordReader> reader, const std::vector<std::string>& columns,
       const ParallelRowsOptions& options, size_t index, size_t lanes)
      : reader_(std::move(reader)),
        columns_(columns),
        options_(options),
        index_(index),
        lanes_(lanes) {}

  void Start() {
    LaneThreads::Shared().Run([this] {
      Run();
      std::lock_guard<std::mutex> lock(mu_);
      finished_ = true;
      cv_.notify_all();  // under the lock: the lane may be destroyed as soon as it is released
    });
  }

  // Stops the thread at its next wait or batch and joins it.
  // Stops the lane at its next wait or batch and waits until its job has returned.
  void StopAndWait() {
    std::unique_lock<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return finished_; });
  }

  // The lane's next batch, waiting for it. Every lane ends with a batch marked `last`, and the
  // consumer asks no further.
  std::unique_ptr<Batch> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !ready_.empty(); });
    std::unique_ptr<Batch> batch = std::move(ready_.front());
    ready_.pop_front();
    lock.unlock();
    cv_.notify_all();  // room for one more batch
    return batch;
  }

  // Gives a consumed batch back for reuse (its buffers keep their capacity).
  void Recycle(std::unique_ptr<Batch> batch) {
    batch->Clear();
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(batch));
  }

 private:
  void Run() {
    const std::unique_ptr<FormatWriter> writer =
        MakeFormatWriter(options_.format, options_.escape_formulas);
    std::string header;  // BeginFile sets the writer's columns up; its bytes are not needed
    writer->BeginFile(columns_, header);
    writer->ForgetFormulas();
    const int64_t rows_per_batch = std::max<int64_t>(1, options_.rows_per_batch);
    // Rows of the other lanes before this lane's first batch, then between its batches.
    int64_t skip = static_cast<int64_t>(index_) * rows_per_batch;
    for (;;) {
      for (int64_t i = 0; i < skip; ++i) {
        if (!reader_->Skip()) return Publish(Terminal(reader_->status()));
      }
      skip = static_cast<int64_t>(lanes_ - 1) * rows_per_batch;
      std::unique_ptr<Batch> batch = TakeFree();
      if (batch == nullptr) return;  // stopping
      for (int64_t row = 0; row < rows_per_batch; ++row) {
        if (!reader_->Next()) {
          batch->last = true;
          batch->status = reader_->status();
          break;
        }
        batch->keys.push_back(reader_->key());
        if (const auto cells = reader_->non_null_cells()) {
          writer->WriteSparseRowBody(reader_->row(), *cells, batch->bytes);
        } else {
          writer->WriteRowBody(reader_->row(), batch->bytes);
        }
        batch->ends.push_back(batch->bytes.size());
        if (writer->file_contains_formulas().value_or(false)) {
          batch->formula_rows.push_back(static_cast<size_t>(row));
          writer->ForgetFormulas();
        }
      }
      const bool last = batch->last;
      Publish(std::move(batch));
      if (last) return;
    }
  }

  static std::unique_ptr<Batch> Terminal(Status status) {
    auto batch = std::make_unique<Batch>();
    batch->last = true;
    batch->status = std::move(status);
    return batch;
  }

  // A batch to fill once fewer than batches_ahead wait; null when stopping.
  std::unique_ptr<Batch> TakeFree() {
    std::unique_lock<std::mutex> lock(mu_);
    const size_t ahead = std::max<size_t>(1, options_.batches_ahead);
    cv_.wait(lock, [this, ahead] { return stop_ || ready_.size() < ahead; });
    if (stop_) return nullptr;
    if (free_.empty()) return std::make_unique<Batch>();
    std::unique_ptr<Batch> batch = std::move(free_.back());
    free_.pop_back();
    return batch;
  }

  void Publish(std::unique_ptr<Batch> batch) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_.push_back(std::move(batch));
    }
    cv_.notify_all();
  }

  const std::unique_ptr<RecordReader> reader_;  // used by the lane's job only
  const std::vector<std::string>& columns_;
  const ParallelRowsOptions options_;
  const size_t index_;
  const size_t lanes_;

  std::mutex mu_;
  std::condition_variable cv_;  // ready_ grew or shrank, stop_, or finished_
  std::deque<std::unique_ptr<Batch>> ready_;
  std::vector<std::unique_ptr<Batch>> free_;
  bool stop_ = false;
  bool finished_ = false;  // the job has returned
};

int64_t RowsPerBatch(size_t columns) {
  constexpr int64_t kCellsPerBatch = 131072;
  return std::clamp<int64_t>(kCellsPerBatch / static_cast<int64_t>(std::max<size_t>(1, columns)),
                             16, 4096);
}

ParallelRows::ParallelRows(std::vector<std::unique_ptr<RecordReader>> readers,
                           std::vector<std::string> columns, const ParallelRowsOptions& options)
    : columns_(std::move(columns)) {
  const size_t count = readers.size();
  lanes_.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    lanes_.push_back(std::make_unique<Lane>(std::move(readers[i]), columns_, options, i, count));
  }
  for (auto& lane : lanes_) lane->Start();
}

ParallelRows::~ParallelRows() {
  for (auto& lane : lanes_) lane->StopAndWait();
}

bool ParallelRows::Next() {
  if (done_) return false;
  if (current_ != nullptr) ++row_in_batch_;
  while (current_ == nullptr || row_in_batch_ >= current_->ends.size()) {
    if (current_ != nullptr) {
      if (current_->last) {
        status_ = current_->status;
        done_ = true;
        return false;
      }
      lanes_[(next_batch_ - 1) % lanes_.size()]->Recycle(std::move(current_));
    }
    current_ = lanes_[next_batch_ % lanes_.size()]->Pop();
    ++next_batch_;
    row_in_batch_ = 0;
    formula_index_ = 0;
  }
  const std::vector<size_t>& formulas = current_->formula_rows;
  while (formula_index_ < formulas.size() && formulas[formula_index_] < row_in_batch_) {
    ++formula_index_;
  }
  has_formula_ = formula_index_ < formulas.size() && formulas[formula_index_] == row_in_batch_;
  return true;
}

std::string_view ParallelRows::body() const {
  const size_t begin = row_in_batch_ == 0 ? 0 : current_->ends[row_in_batch_ - 1];
  return std::string_view(current_->bytes).substr(begin, current_->ends[row_in_batch_] - begin);
}

FilterValue& ParallelRows::key() { return current_->keys[row_in_batch_]; }

}  // namespace exportd
