#include "core/formats/tsv_writer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace exportd {
namespace {

std::string WriteTsv(const std::vector<std::string>& columns,
                     const std::vector<std::vector<Cell>>& rows) {
  auto writer = MakeFormatWriter(Format::kTsv);
  std::string out;
  writer->BeginFile(columns, out);
  for (const auto& row : rows) writer->WriteRow(row, out);
  writer->EndFile(out);
  return out;
}

std::string Escaped(std::string_view text) {
  std::string out;
  AppendTsvEscaped(text, out);
  return out;
}

TEST(TsvWriterTest, EscapesTabNewlineCarriageReturnAndBackslash) {
  EXPECT_EQ(Escaped("a\tb"), "a\\tb");
  EXPECT_EQ(Escaped("a\nb"), "a\\nb");
  EXPECT_EQ(Escaped("a\rb"), "a\\rb");
  EXPECT_EQ(Escaped("a\r\nb"), "a\\r\\nb");
  EXPECT_EQ(Escaped("a\\b"), "a\\\\b");
  EXPECT_EQ(Escaped("\\n"), "\\\\n");  // a literal backslash-n stays distinguishable
  EXPECT_EQ(Escaped("\t"), "\\t");
}

TEST(TsvWriterTest, LeavesEverythingElseAlone) {
  EXPECT_EQ(Escaped("a,b \"q\" Ä \xE6\x97\xA5"), "a,b \"q\" Ä \xE6\x97\xA5");
  EXPECT_EQ(Escaped(""), "");
}

TEST(TsvWriterTest, WritesHeaderAndRows) {
  const std::string out = WriteTsv(
      {"id", "note\tx", "ok"},
      {{Cell{CellKind::kNumber, "1"}, Cell{CellKind::kText, "two\nlines"},
        Cell{CellKind::kBool, "true"}},
       {Cell{CellKind::kNumber, "2"}, Cell{CellKind::kNull, {}}, Cell{CellKind::kText, ""}}});
  EXPECT_EQ(out,
            "id\tnote\\tx\tok\n"
            "1\ttwo\\nlines\ttrue\n"
            "2\t\t\n");
}

TEST(TsvWriterTest, FileWithoutRowsIsTheHeader) { EXPECT_EQ(WriteTsv({"a", "b"}, {}), "a\tb\n"); }

}  // namespace
}  // namespace exportd
