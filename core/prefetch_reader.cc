#include "core/prefetch_reader.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace exportd {
namespace {

// A batch ends once it holds this much cell text, this many cells or this many rows: about
// 1 MB per batch whatever the row width, and few enough hand-overs to keep locking negligible.
constexpr size_t kBatchTextBytes = size_t{512} << 10;
constexpr size_t kBatchCells = size_t{32} << 10;
constexpr size_t kBatchRows = 4096;
// Batches in flight: one being filled, one being consumed, one ready in between.
constexpr size_t kBatches = 3;

// Rows copied out of the inner reader; cells point into `text`.
struct Batch {
  std::vector<Cell> cells;  // rows * width
  std::vector<FilterValue> keys;
  std::unique_ptr<char[]> text;
  size_t text_capacity = 0;
  size_t text_size = 0;
  size_t rows = 0;
  size_t width = 0;  // cells per row
  bool last = false;  // the inner reader ended after these rows, with `status`
  Status status;

  void Clear() {
    cells.clear();
    text_size = 0;
    rows = 0;
  }
};

class PrefetchingReader final : public RecordReader {
 public:
  explicit PrefetchingReader(std::unique_ptr<RecordReader> inner) : inner_(std::move(inner)) {
    for (size_t i = 0; i < kBatches; ++i) {
      batches_.push_back(std::make_unique<Batch>());
      free_.push_back(batches_.back().get());
    }
    thread_ = std::thread([this] { Produce(); });
  }

  ~PrefetchingReader() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true, std::memory_order_relaxed);
    }
    changed_.notify_all();
    thread_.join();
  }

  PrefetchingReader(const PrefetchingReader&) = delete;
  PrefetchingReader& operator=(const PrefetchingReader&) = delete;

  bool Next() override {
    if (current_ != nullptr && position_ + 1 < current_->rows) {
      ++position_;
      return true;
    }
    if (done_) return false;
    std::unique_lock<std::mutex> lock(mu_);
    if (current_ != nullptr) {
      if (current_->last) {
        status_ = current_->status;
        done_ = true;
        return false;
      }
      free_.push_back(current_);
      current_ = nullptr;
      changed_.notify_all();
    }
    changed_.wait(lock, [this] { return !ready_.empty(); });
    current_ = ready_.front();
    ready_.pop_front();
    lock.unlock();
    changed_.notify_all();
    position_ = 0;
    if (current_->rows == 0) {  // only the last batch can be empty
      status_ = current_->status;
      done_ = true;
      return false;
    }
    return true;
  }

  std::span<const Cell> row() const override {
    return std::span<const Cell>(current_->cells).subspan(position_ * current_->width,
                                                          current_->width);
  }
  FilterValue key() const override { return current_->keys[position_]; }
  Status status() const override { return status_; }

 private:
  // The prefetch thread: fills free batches from inner_ until its end, an error or stop_.
  void Produce() {
    for (;;) {
      Batch* batch = nullptr;
      {
        std::unique_lock<std::mutex> lock(mu_);
        changed_.wait(lock,
                      [this] { return stop_.load(std::memory_order_relaxed) || !free_.empty(); });
        if (stop_.load(std::memory_order_relaxed)) return;
        batch = free_.front();
        free_.pop_front();
      }
      Fill(*batch);
      {
        std::lock_guard<std::mutex> lock(mu_);
        ready_.push_back(batch);
      }
      changed_.notify_all();
      if (batch->last) return;
    }
  }

  void Fill(Batch& batch) {
    batch.Clear();
    // A row read but not yet copied: it did not fit in the previous batch.
    if (pending_) {
      pending_ = false;
      if (!Copy(batch)) std::abort();  // cannot fail: an empty batch grows to fit any row
    }
    while (batch.rows < kBatchRows && batch.cells.size() < kBatchCells &&
           batch.text_size < kBatchTextBytes) {
      if (stop_.load(std::memory_order_relaxed)) break;  // the consumer is gone; what is copied is dropped
      if (!inner_->Next()) {
        batch.last = true;
        batch.status = inner_->status();
        return;
      }
      if (!Copy(batch)) {
        pending_ = true;
        return;
      }
    }
  }

  // Appends the inner reader's current row to `batch`; false when its text does not fit in a
  // batch that holds rows already (the cells must not move once pointed to).
  bool Copy(Batch& batch) {
    const std::span<const Cell> row = inner_->row();
    if (batch.rows == 0) batch.width = row.size();
    size_t bytes = 0;
    for (const Cell& cell : row) bytes += cell.text.size();
    if (batch.text_size + bytes > batch.text_capacity) {
      if (batch.rows != 0) return false;
      batch.text_capacity = std::max(bytes, kBatchTextBytes + kBatchTextBytes / 2);
      batch.text = std::make_unique<char[]>(batch.text_capacity);
    }
    char* out = batch.text.get() + batch.text_size;
    for (const Cell& cell : row) {
      const size_t n = cell.text.size();
      if (n != 0) std::memcpy(out, cell.text.data(), n);
      batch.cells.push_back(Cell{cell.kind, std::string_view(out, n)});
      out += n;
    }
    batch.text_size += bytes;
    if (batch.keys.size() <= batch.rows) {
      batch.keys.push_back(inner_->key());
    } else {
      batch.keys[batch.rows] = inner_->key();
    }
    ++batch.rows;
    return true;
  }

  std::unique_ptr<RecordReader> inner_;  // used by the prefetch thread only
  std::vector<std::unique_ptr<Batch>> batches_;
  bool pending_ = false;  // prefetch thread only

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Batch*> free_;   // guarded by mu_
  std::deque<Batch*> ready_;  // guarded by mu_; in row order
  // Set under mu_ (so that waits see it); read without it between rows.
  std::atomic<bool> stop_{false};

  // Consumer side.
  Batch* current_ = nullptr;
  size_t position_ = 0;
  Status status_;
  bool done_ = false;

  std::thread thread_;  // last: started once everything above is constructed
};

}  // namespace

std::unique_ptr<RecordReader> MakePrefetchingReader(std::unique_ptr<RecordReader> inner) {
  return std::make_unique<PrefetchingReader>(std::move(inner));
}

}  // namespace exportd
