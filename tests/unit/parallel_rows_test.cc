#include "core/parallel_rows.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/formats/format_writer.h"
#include "tests/fakes/fake_source.h"

namespace exportd {
namespace {

using fakes::FakeRow;
using fakes::FakeSource;

const std::vector<std::string> kColumns = {"n", "text", "nothing", "flag"};

// Rows 1..n: a number, a text of varying length (a formula-like one every 5th row, a comma and a
// quote every 7th), a NULL and a boolean.
std::vector<FakeRow> MakeRows(int n) {
  std::vector<FakeRow> rows;
  for (int i = 1; i <= n; ++i) {
    std::string text(static_cast<size_t>(i % 13), static_cast<char>('a' + i % 26));
    if (i % 5 == 0) text = "=SUM(A" + std::to_string(i) + ")";
    if (i % 7 == 0) text += ",\"q\"";
    rows.push_back({fakes::Num(std::to_string(i)), fakes::Text(text), fakes::NullValue(),
                    fakes::Bool(i % 2 == 0)});
  }
  return rows;
}

SourceQuery AllColumns() {
  SourceQuery query;
  query.fields = kColumns;
  return query;
}

std::vector<std::unique_ptr<RecordReader>> Readers(FakeSource& source, int count) {
  std::vector<std::unique_ptr<RecordReader>> readers;
  for (int i = 0; i < count; ++i) {
    auto reader = source.Read(AllColumns());
    EXPECT_TRUE(reader.ok());
    readers.push_back(std::move(reader).value());
  }
  return readers;
}

// One file written the ordinary way: BeginFile, WriteRow per row, EndFile.
struct Serial {
  std::string file;
  bool formulas = false;
};
Serial WriteSerially(FakeSource& source, Format format) {
  Serial out;
  auto writer = MakeFormatWriter(format);
  writer->BeginFile(kColumns, out.file);
  auto reader = source.Read(AllColumns());
  EXPECT_TRUE(reader.ok());
  while ((*reader)->Next()) writer->WriteRow((*reader)->row(), out.file);
  writer->EndFile(out.file);
  out.formulas = writer->file_contains_formulas().value_or(false);
  return out;
}

// The same file from ParallelRows, laid out with BeginRow and the rows' bodies.
struct Parallel {
  std::string file;
  std::vector<int64_t> keys;
  std::vector<int64_t> formula_keys;
  Status status;
};
Parallel WriteInParallel(FakeSource& source, Format format, int lanes, int64_t rows_per_batch) {
  Parallel out;
  auto framing = MakeFormatWriter(format);
  framing->BeginFile(kColumns, out.file);
  ParallelRows rows(Readers(source, lanes), kColumns,
                    {.format = format, .rows_per_batch = rows_per_batch, .batches_ahead = 1});
  while (rows.Next()) {
    framing->BeginRow(out.file);
    out.file.append(rows.body());
    const int64_t key = std::get<int64_t>(rows.key());
    out.keys.push_back(key);
    if (rows.has_formula()) out.formula_keys.push_back(key);
  }
  out.status = rows.status();
  framing->EndFile(out.file);
  return out;
}

TEST(ParallelRowsTest, EveryFormatGivesTheBytesOfOneThreadWhateverTheLanesAndBatches) {
  for (const int n : {0, 1, 10, 23}) {
    FakeSource source(kColumns, MakeRows(n));
    for (const Format format : {Format::kCsv, Format::kTsv, Format::kJson, Format::kNdjson}) {
      const Serial serial = WriteSerially(source, format);
      for (const int lanes : {1, 2, 3}) {
        for (const int64_t batch : {1, 3, 7, 100}) {
          SCOPED_TRACE("rows " + std::to_string(n) + ", format " + std::string(FormatName(format)) +
                       ", lanes " + std::to_string(lanes) + ", batch " + std::to_string(batch));
          const Parallel parallel = WriteInParallel(source, format, lanes, batch);
          EXPECT_TRUE(parallel.status.ok()) << parallel.status.ToString();
          EXPECT_EQ(parallel.file, serial.file);
          ASSERT_EQ(parallel.keys.size(), static_cast<size_t>(n));
          for (int i = 0; i < n; ++i) EXPECT_EQ(parallel.keys[i], i + 1);
          std::vector<int64_t> expected_formulas;
          if (format == Format::kCsv || format == Format::kTsv) {
            for (int i = 5; i <= n; i += 5) expected_formulas.push_back(i);
          }
          EXPECT_EQ(parallel.formula_keys, expected_formulas);
          EXPECT_EQ(!parallel.formula_keys.empty(), serial.formulas);
        }
      }
    }
  }
}

TEST(ParallelRowsTest, AReaderErrorEndsTheRowsAfterEveryRowBeforeIt) {
  FakeSource source(kColumns, MakeRows(40));
  source.FailAtRow(18, Unavailable("disk I/O error"));
  for (const int lanes : {1, 2, 3}) {
    const Parallel parallel = WriteInParallel(source, Format::kCsv, lanes, 4);
    EXPECT_EQ(parallel.status.code(), StatusCode::kUnavailable) << lanes;
    ASSERT_EQ(parallel.keys.size(), 17u) << lanes;
    EXPECT_EQ(parallel.keys.back(), 17);
  }
}

// Fails Skip() after `skips` successful ones; Next() as the inner reader.
class FailingSkips final : public RecordReader {
 public:
  FailingSkips(std::unique_ptr<RecordReader> inner, int skips)
      : inner_(std::move(inner)), skips_left_(skips) {}
  bool Next() override { return failed_.ok() && inner_->Next(); }
  bool Skip() override {
    if (skips_left_-- == 0) {
      failed_ = Unavailable("lost the connection while skipping");
      return false;
    }
    return inner_->Skip();
  }
  std::span<const Cell> row() const override { return inner_->row(); }
  FilterValue key() const override { return inner_->key(); }
  Status status() const override { return failed_.ok() ? inner_->status() : failed_; }

 private:
  std::unique_ptr<RecordReader> inner_;
  int skips_left_;
  Status failed_;
};

TEST(ParallelRowsTest, ALaneThatFailsWhileSkippingFailsTheRowsAtItsNextBatch) {
  FakeSource source(kColumns, MakeRows(40));
  std::vector<std::unique_ptr<RecordReader>> readers = Readers(source, 2);
  // Lane 1 skips batch 0 (4 rows), formats batch 1, and fails skipping batch 2 after 2 rows.
  readers[1] = std::make_unique<FailingSkips>(std::move(readers[1]), 6);
  ParallelRows rows(std::move(readers), kColumns, {.rows_per_batch = 4});
  std::vector<int64_t> keys;
  while (rows.Next()) keys.push_back(std::get<int64_t>(rows.key()));
  EXPECT_EQ(rows.status().code(), StatusCode::kUnavailable);
  // Batches 0 (lane 0), 1 (lane 1) and 2 (lane 0) arrive; batch 3 was lane 1's.
  ASSERT_EQ(keys.size(), 12u);
  EXPECT_EQ(keys.back(), 12);
}

TEST(ParallelRowsTest, DestroyingItMidStreamStopsItsThreads) {
  FakeSource source(kColumns, MakeRows(5000));
  for (int round = 0; round < 20; ++round) {
    ParallelRows rows(Readers(source, 3), kColumns, {.rows_per_batch = 2, .batches_ahead = 1});
    for (int i = 0; i < round; ++i) ASSERT_TRUE(rows.Next());
  }  // each destructor joins three threads, some blocked waiting for room
}

TEST(ParallelRowsTest, BatchesHoldAFewHundredKilobytesOfCells) {
  EXPECT_EQ(RowsPerBatch(20), 4096);
  EXPECT_EQ(RowsPerBatch(200), 655);
  EXPECT_EQ(RowsPerBatch(2900), 45);
  EXPECT_EQ(RowsPerBatch(100000), 16);
  EXPECT_EQ(RowsPerBatch(1), 4096);
  EXPECT_EQ(RowsPerBatch(0), 4096);
}

}  // namespace
}  // namespace exportd
