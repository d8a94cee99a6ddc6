// An in-memory Source over a vector of rows, for tests of what sits downstream of a Source.
// Rows are served in order (the key is the 1-based row number); filters are ignored, the
// projection in SourceQuery::fields and a keyset resume (SourceQuery::after_key, an int64_t)
// are honoured; with SetPartitionColumn, so are SourceQuery::partitions and ::null_partition, and
// Partitions() lists the column's values. Faults: Count() or Read() can fail, and the
// reader can stop with a given Status at the Nth row.
// Not thread-safe (unlike a real Source): one test thread drives it.
#ifndef EXPORTD_TESTS_FAKES_FAKE_SOURCE_H_
#define EXPORTD_TESTS_FAKES_FAKE_SOURCE_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/source.h"
#include "core/status.h"

namespace exportd::fakes {

// An owned cell value; Cell::text points into it while a row is current.
struct FakeValue {
  CellKind kind = CellKind::kNull;
  std::string text;
};

inline FakeValue NullValue() { return {CellKind::kNull, ""}; }
inline FakeValue Num(std::string text) { return {CellKind::kNumber, std::move(text)}; }
inline FakeValue Text(std::string text) { return {CellKind::kText, std::move(text)}; }
inline FakeValue Bool(bool b) { return {CellKind::kBool, b ? "true" : "false"}; }
inline FakeValue Json(std::string text) { return {CellKind::kJson, std::move(text)}; }

using FakeRow = std::vector<FakeValue>;

class FakeRecordReader final : public RecordReader {
 public:
  // `rows` and `columns` index into them; both must outlive the reader.
  // Starts after the row numbered `after` (0: from the first row).
  // `skip`, when not empty, has one entry per row: true for the rows the reader passes over
  // (a failure at such a row does not happen).
  FakeRecordReader(const std::vector<FakeRow>& rows, std::vector<size_t> columns,
                   std::optional<std::pair<int64_t, Status>> fail_at, int64_t after = 0,
                   std::vector<bool> skip = {})
      : rows_(rows),
        columns_(std::move(columns)),
        fail_at_(std::move(fail_at)),
        skip_(std::move(skip)),
        position_(after) {
    cells_.resize(columns_.size());
  }

  bool Next() override {
    if (!status_.ok()) return false;
    while (!skip_.empty() && static_cast<size_t>(position_) < rows_.size() &&
           skip_[static_cast<size_t>(position_)]) {
      ++position_;
    }
    const int64_t next_row = position_ + 1;  // 1-based number of the row Next() would yield
    if (fail_at_ && next_row == fail_at_->first) {
      status_ = fail_at_->second;
      return false;
    }
    if (static_cast<size_t>(position_) >= rows_.size()) return false;
    const FakeRow& row = rows_[static_cast<size_t>(position_)];
    for (size_t i = 0; i < columns_.size(); ++i) {
      cells_[i] = Cell{row[columns_[i]].kind, row[columns_[i]].text};
    }
    position_ = next_row;
    return true;
  }

  std::span<const Cell> row() const override { return cells_; }
  FilterValue key() const override { return position_; }
  Status status() const override { return status_; }

 private:
  const std::vector<FakeRow>& rows_;
  const std::vector<size_t> columns_;
  const std::optional<std::pair<int64_t, Status>> fail_at_;
  const std::vector<bool> skip_;
  std::vector<Cell> cells_;
  int64_t position_ = 0;  // number of the last row delivered
  Status status_;
};

class FakeSource final : public Source {
 public:
  FakeSource(std::vector<std::string> columns, std::vector<FakeRow> rows)
      : columns_(std::move(columns)), rows_(std::move(rows)) {}

  // Next() for the `row`th row (1-based) returns false and status() becomes `status`.
  void FailAtRow(int64_t row, Status status) { fail_at_ = {row, std::move(status)}; }
  void FailCount(Status status) { count_status_ = std::move(status); }
  void FailRead(Status status) { read_status_ = std::move(status); }
  // The column holding each row's partition (a kNull value: the NULL partition).
  void SetPartitionColumn(size_t column) { partition_column_ = column; }

  Result<std::vector<std::string>> Partitions() override {
    if (!partition_column_) return FailedPrecondition("fake source has no partition column");
    std::vector<std::string> values;
    for (const FakeRow& row : rows_) {
      const FakeValue& v = row[*partition_column_];
      if (v.kind != CellKind::kNull) values.push_back(v.text);
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    return values;
  }

  const std::optional<SourceQuery>& last_query() const { return last_query_; }
  int reads() const { return reads_; }

  Result<int64_t> Count(const SourceQuery& query) override {
    last_query_ = query;
    if (!count_status_.ok()) return count_status_;
    ASSIGN_OR_RETURN(int64_t after, After(query));
    const std::vector<bool> skip = Skipped(query);
    int64_t count = 0;
    for (size_t i = static_cast<size_t>(std::max<int64_t>(0, after)); i < rows_.size(); ++i) {
      if (skip.empty() || !skip[i]) ++count;
    }
    return count;
  }

  Result<std::unique_ptr<RecordReader>> Read(const SourceQuery& query) override {
    last_query_ = query;
    ++reads_;
    if (!read_status_.ok()) return read_status_;
    std::vector<size_t> indexes;
    for (const std::string& field : query.fields) {
      size_t i = 0;
      while (i < columns_.size() && columns_[i] != field) ++i;
      if (i == columns_.size()) return FailedPrecondition("fake source has no column " + field);
      indexes.push_back(i);
    }
    ASSIGN_OR_RETURN(int64_t after, After(query));
    return std::unique_ptr<RecordReader>(std::make_unique<FakeRecordReader>(
        rows_, std::move(indexes), fail_at_, after, Skipped(query)));
  }

  // The fake has no partition column: every row counts under "" (as a dataset without a
  // partition field), and no distinct values are counted.
  Result<SourceSummary> Summarize(const SourceQuery& query,
                                  const std::vector<std::string>& count_distinct) override {
    (void)count_distinct;
    SourceQuery all = query;
    all.after_key.reset();
    ASSIGN_OR_RETURN(int64_t rows, Count(all));
    SourceSummary summary;
    if (rows > 0) summary.rows_by_partition[""] = rows;
    return summary;
  }
  // Keys are 1..rows.
  Result<std::vector<FilterValue>> MissingKeys(const SourceQuery& query) override {
    std::vector<FilterValue> missing;
    for (const FilterValue& key : query.keys.value_or(std::vector<FilterValue>())) {
      const int64_t* k = std::get_if<int64_t>(&key);
      if (k == nullptr || *k < 1 || *k > static_cast<int64_t>(rows_.size())) missing.push_back(key);
    }
    return missing;
  }

  // `count` independent readers over the same rows (which never change).
  Result<std::vector<std::unique_ptr<RecordReader>>> ReadShared(const SourceQuery& query,
                                                                int count) override {
    std::vector<std::unique_ptr<RecordReader>> readers;
    for (int i = 0; i < std::max(count, 1); ++i) {
      ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader, Read(query));
      readers.push_back(std::move(reader));
    }
    return readers;
  }

 private:
  // One entry per row, true for the rows the query's partition conditions leave out; empty
  // when they leave none out.
  std::vector<bool> Skipped(const SourceQuery& query) const {
    if (!partition_column_ || (query.partitions.empty() && !query.null_partition)) return {};
    std::vector<bool> skip(rows_.size());
    for (size_t i = 0; i < rows_.size(); ++i) {
      const FakeValue& v = rows_[i][*partition_column_];
      const bool is_null = v.kind == CellKind::kNull;
      bool keep = !query.null_partition || is_null;
      if (!query.partitions.empty()) {
        keep = keep && !is_null &&
               std::find(query.partitions.begin(), query.partitions.end(), v.text) !=
                   query.partitions.end();
      }
      skip[i] = !keep;
    }
    return skip;
  }

  static Result<int64_t> After(const SourceQuery& query) {
    if (!query.after_key) return int64_t{0};
    const int64_t* key = std::get_if<int64_t>(&*query.after_key);
    if (key == nullptr) return InvalidArgument("fake source keys are integers");
    return std::max<int64_t>(0, *key);
  }

  const std::vector<std::string> columns_;
  const std::vector<FakeRow> rows_;
  std::optional<std::pair<int64_t, Status>> fail_at_;
  Status count_status_;
  Status read_status_;
  std::optional<SourceQuery> last_query_;
  int reads_ = 0;
  std::optional<size_t> partition_column_;
};

}  // namespace exportd::fakes

#endif  // EXPORTD_TESTS_FAKES_FAKE_SOURCE_H_
