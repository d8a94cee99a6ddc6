// The contract every FormatWriter shares: WriteSparseRowBody writes what WriteRowBody writes.
#include "core/formats/format_writer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace exportd {
namespace {

// Values of every kind, with the bytes each format must quote or escape and formula triggers.
const std::vector<Cell>& SampleCells() {
  static const std::vector<Cell> cells = {
      {CellKind::kNumber, "1"},
      {CellKind::kNumber, "-12.5e3"},
      {CellKind::kBool, "true"},
      {CellKind::kText, ""},
      {CellKind::kText, "plain"},
      {CellKind::kText, "a,b"},
      {CellKind::kText, "say \"hi\""},
      {CellKind::kText, "tab\there"},
      {CellKind::kText, "line\r\nnext"},
      {CellKind::kText, "back\\slash"},
      {CellKind::kText, "=1+1"},
      {CellKind::kText, "@sum"},
      {CellKind::kJson, "[1,\"x\"]"},
      {CellKind::kJson, "{\"k\":\"v,w\"}"},
      {CellKind::kNull, ""},
  };
  return cells;
}

// Rows of 0 to 60 cells, each set with some probability from SampleCells and NULL otherwise;
// the listed cells are every set one plus, now and then, a NULL one (a JSON null a document
// named is listed too).
TEST(FormatWriterTest, SparseRowsAreWrittenAsWholeRows) {
  std::mt19937 rng(5);
  for (Format format : {Format::kCsv, Format::kTsv, Format::kJson, Format::kNdjson}) {
    for (bool escape : {false, true}) {
      for (int round = 0; round < 300; ++round) {
        const size_t n = round == 0 ? 0 : 1 + rng() % 60;  // a row without columns first
        std::vector<std::string> columns;
        for (size_t i = 0; i < n; ++i) columns.push_back("c" + std::to_string(i));
        std::vector<Cell> row(n);
        std::vector<uint32_t> listed;
        const unsigned density = 1 + rng() % 4;  // out of 8
        for (size_t i = 0; i < n; ++i) {
          if (rng() % 8 < density) {
            row[i] = SampleCells()[rng() % SampleCells().size()];
            listed.push_back(static_cast<uint32_t>(i));
          } else if (rng() % 10 == 0) {
            listed.push_back(static_cast<uint32_t>(i));
          }
        }
        auto whole = MakeFormatWriter(format, escape);
        auto sparse = MakeFormatWriter(format, escape);
        std::string header;
        whole->BeginFile(columns, header);
        sparse->BeginFile(columns, header);
        std::string expected = "before|";
        std::string got = "before|";
        whole->WriteRowBody(row, expected);
        sparse->WriteSparseRowBody(row, listed, got);
        ASSERT_EQ(got, expected) << "format " << static_cast<int>(format) << ", round " << round;
        EXPECT_EQ(sparse->file_contains_formulas(), whole->file_contains_formulas());
      }
    }
  }
}

}  // namespace
}  // namespace exportd
