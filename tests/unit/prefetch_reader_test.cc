#include "core/prefetch_reader.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/fakes/fake_source.h"

namespace exportd {
namespace {

using fakes::FakeRow;
using fakes::FakeSource;

// Rows 1..n with a number, a text whose length varies (up to `big_every`th row: 3 MB, larger
// than a batch) and a NULL.
std::vector<FakeRow> MakeRows(int n, int big_every) {
  std::vector<FakeRow> rows;
  for (int i = 1; i <= n; ++i) {
    const size_t len = big_every > 0 && i % big_every == 0 ? size_t{3} << 20 : size_t(i % 97);
    rows.push_back({fakes::Num(std::to_string(i)), fakes::Text(std::string(len, char('a' + i % 26))),
                    fakes::NullValue()});
  }
  return rows;
}

std::unique_ptr<RecordReader> Open(FakeSource& source) {
  SourceQuery query;
  query.fields = {"n", "text", "nothing"};
  auto reader = source.Read(query);
  EXPECT_TRUE(reader.ok());
  return std::move(reader).value();
}

struct Seen {
  std::vector<std::vector<std::pair<CellKind, std::string>>> rows;
  std::vector<FilterValue> keys;
};

Seen Drain(RecordReader& reader) {
  Seen seen;
  while (reader.Next()) {
    std::vector<std::pair<CellKind, std::string>> row;
    for (const Cell& c : reader.row()) row.emplace_back(c.kind, std::string(c.text));
    seen.rows.push_back(std::move(row));
    seen.keys.push_back(reader.key());
  }
  return seen;
}

TEST(PrefetchReaderTest, YieldsTheSameRowsKeysAndStatusAsTheInnerReader) {
  // 20,000 rows span many batches; every 5,000th row is larger than a batch.
  FakeSource source({"n", "text", "nothing"}, MakeRows(20000, 5000));
  Seen direct;
  {
    auto reader = Open(source);
    direct = Drain(*reader);
    ASSERT_TRUE(reader->status().ok());
  }
  auto prefetching = MakePrefetchingReader(Open(source));
  Seen seen = Drain(*prefetching);
  EXPECT_TRUE(prefetching->status().ok());
  ASSERT_EQ(seen.rows.size(), 20000u);
  EXPECT_EQ(seen.rows, direct.rows);
  EXPECT_EQ(seen.keys, direct.keys);
  EXPECT_FALSE(prefetching->Next());  // stays at the end
}

TEST(PrefetchReaderTest, AnErrorArrivesAfterTheRowsBeforeIt) {
  FakeSource source({"n", "text", "nothing"}, MakeRows(10000, 0));
  source.FailAtRow(7001, DataLoss("bad document"));
  auto reader = MakePrefetchingReader(Open(source));
  Seen seen = Drain(*reader);
  EXPECT_EQ(seen.rows.size(), 7000u);
  EXPECT_EQ(std::get<int64_t>(seen.keys.back()), 7000);
  EXPECT_EQ(reader->status().code(), StatusCode::kDataLoss);
}

TEST(PrefetchReaderTest, AnEmptySourceEndsAtOnce) {
  FakeSource source({"n", "text", "nothing"}, {});
  auto reader = MakePrefetchingReader(Open(source));
  EXPECT_FALSE(reader->Next());
  EXPECT_TRUE(reader->status().ok());
}

TEST(PrefetchReaderTest, DestroyingItMidStreamStopsThePrefetchThread) {
  FakeSource source({"n", "text", "nothing"}, MakeRows(50000, 0));
  for (int stop_after : {0, 1, 4096, 30000}) {
    auto reader = MakePrefetchingReader(Open(source));
    for (int i = 0; i < stop_after; ++i) ASSERT_TRUE(reader->Next());
    if (stop_after > 0) {
      EXPECT_EQ(std::get<int64_t>(reader->key()), stop_after);
    }
    reader.reset();  // joins the prefetch thread; must not hang or touch freed memory
  }
}

}  // namespace
}  // namespace exportd
