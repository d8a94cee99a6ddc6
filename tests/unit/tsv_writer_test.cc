#include "core/formats/tsv_writer.h"

#include <gtest/gtest.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
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

// Every value length from 0 to 40 bytes (the writer copies short values in words), as a number and
// as text with a tab and a backslash, against the row built byte by byte here.
TEST(TsvWriterTest, ValuesOfEveryLengthAreCopiedWhole) {
  for (size_t n = 0; n <= 40; ++n) {
    std::string digits;
    for (size_t i = 0; i < n; ++i) digits.push_back(static_cast<char>('1' + i % 9));
    const std::string text = "\t" + digits + "\\";
    const std::vector<Cell> row = {{CellKind::kNumber, digits},
                                   {CellKind::kText, text},
                                   {CellKind::kNull, ""},
                                   {CellKind::kText, digits}};
    const std::string expected = digits + "\t\\t" + digits + "\\\\\t\t" + digits + "\n";
    TsvWriter writer;
    std::string out = "prefix";
    writer.WriteRow(row, out);
    EXPECT_EQ(out, "prefix" + expected) << n;
  }
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

Cell Text(std::string_view text) { return Cell{CellKind::kText, text}; }

struct Written {
  std::string bytes;
  std::optional<bool> formulas;
};

Written WriteColumn(bool escape_formulas, const std::vector<Cell>& cells) {
  auto writer = MakeFormatWriter(Format::kTsv, escape_formulas);
  const std::vector<std::string> columns = {"v"};
  Written w;
  writer->BeginFile(columns, w.bytes);
  for (const Cell& cell : cells) writer->WriteRow(std::span<const Cell>(&cell, 1), w.bytes);
  writer->EndFile(w.bytes);
  w.formulas = writer->file_contains_formulas();
  return w;
}

TEST(TsvWriterFormulaTest, EachTriggerFlagsTheFileAndIsWrittenExactlyByDefault) {
  for (std::string_view text : {"=1+2", "+A1", "-A1", "@SUM(A1)", "\tx", "\rx"}) {
    const Written w = WriteColumn(false, {Text("plain"), Text(text)});
    EXPECT_EQ(w.formulas, true) << text;
    EXPECT_EQ(w.bytes, "v\nplain\n" + Escaped(text) + "\n") << text;
  }
}

TEST(TsvWriterFormulaTest, EscapingPrefixesAQuoteBeforeTheEscapedValue) {
  EXPECT_EQ(WriteColumn(true, {Text("=1+2")}).bytes, "v\n'=1+2\n");
  EXPECT_EQ(WriteColumn(true, {Text("@x\ty")}).bytes, "v\n'@x\\ty\n");
  // Judged on the value, before TSV escaping turns the leading TAB or CR into \t or \r.
  EXPECT_EQ(WriteColumn(true, {Text("\tx")}).bytes, "v\n'\\tx\n");
  EXPECT_EQ(WriteColumn(true, {Text("\rx")}).bytes, "v\n'\\rx\n");
  EXPECT_EQ(WriteColumn(true, {Text("-x")}).formulas, true);
}

TEST(TsvWriterFormulaTest, NumbersAndNumericTextAreUntouched) {
  const std::vector<Cell> cells = {
      Cell{CellKind::kNumber, "-3.5"}, Text("-3.5"),   Text("+1e5"), Cell{CellKind::kBool, "false"},
      Cell{CellKind::kNull, {}},       Text("basalt"), Text("a=b")};
  for (bool escape : {false, true}) {
    const Written w = WriteColumn(escape, cells);
    EXPECT_EQ(w.formulas, false) << escape;
    EXPECT_EQ(w.bytes, "v\n-3.5\n-3.5\n+1e5\nfalse\n\nbasalt\na=b\n") << escape;
  }
}

}  // namespace
}  // namespace exportd
