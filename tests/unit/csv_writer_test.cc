#include "core/formats/csv_writer.h"

#include <gtest/gtest.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace exportd {
namespace {

std::string WriteCsv(const std::vector<std::string>& columns,
                     const std::vector<std::vector<Cell>>& rows) {
  auto writer = MakeFormatWriter(Format::kCsv);
  std::string out;
  writer->BeginFile(columns, out);
  for (const auto& row : rows) writer->WriteRow(row, out);
  writer->EndFile(out);
  return out;
}

std::string Field(std::string_view text) {
  std::string out;
  AppendCsvField(text, out);
  return out;
}

// Every value length from 0 to 40 bytes (the writer copies short values in words), as numbers and
// as text with a quote at each end, against the row built byte by byte here.
TEST(CsvWriterTest, ValuesOfEveryLengthAreCopiedWhole) {
  for (size_t n = 0; n <= 40; ++n) {
    std::string digits;
    for (size_t i = 0; i < n; ++i) digits.push_back(static_cast<char>('1' + i % 9));
    const std::string quoted = "\"" + digits + "\"";
    const std::vector<Cell> row = {{CellKind::kNumber, digits},
                                   {CellKind::kText, quoted},
                                   {CellKind::kNull, ""},
                                   {CellKind::kText, digits}};
    std::string expected = n == 0 ? "\"\"" : digits;
    expected += ",\"\"\"" + digits + "\"\"\",,";
    expected += n == 0 ? "\"\"" : digits;
    expected += "\r\n";
    CsvWriter writer;
    std::string out = "prefix";
    writer.WriteRow(row, out);
    EXPECT_EQ(out, "prefix" + expected) << n;
  }
}

TEST(CsvWriterTest, PlainValuesAreNotQuoted) {
  EXPECT_EQ(Field("basalt"), "basalt");
  EXPECT_EQ(Field(" leading and trailing "), " leading and trailing ");
  EXPECT_EQ(Field("tab\there"), "tab\there");
  EXPECT_EQ(Field("back\\slash"), "back\\slash");
}

TEST(CsvWriterTest, QuotesWhatRfc4180Requires) {
  EXPECT_EQ(Field("a,b"), "\"a,b\"");
  EXPECT_EQ(Field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(Field("\""), "\"\"\"\"");
  EXPECT_EQ(Field("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(Field("lf\nhere"), "\"lf\nhere\"");
  EXPECT_EQ(Field("crlf\r\nhere"), "\"crlf\r\nhere\"");
}

TEST(CsvWriterTest, EmptyStringIsQuotedAndNullIsEmpty) {
  const std::string out = WriteCsv(
      {"a", "b", "c"},
      {{Cell{CellKind::kText, ""}, Cell{CellKind::kNull, {}}, Cell{CellKind::kText, "x"}}});
  EXPECT_EQ(out, "a,b,c\r\n\"\",,x\r\n");
}

TEST(CsvWriterTest, WritesEveryKindAndHeader) {
  const std::string out = WriteCsv(
      {"id", "name, full", "ok", "doc"},
      {{Cell{CellKind::kNumber, "-1.5e-05"}, Cell{CellKind::kText, "Ä rock \xF0\x9F\xAA\xA8"},
        Cell{CellKind::kBool, "true"}, Cell{CellKind::kJson, "{\"a\":[1,2]}"}},
       {Cell{CellKind::kNumber, "42"}, Cell{CellKind::kNull, {}}, Cell{CellKind::kBool, "false"},
        Cell{CellKind::kNull, {}}}});
  EXPECT_EQ(out,
            "id,\"name, full\",ok,doc\r\n"
            "-1.5e-05,Ä rock \xF0\x9F\xAA\xA8,true,\"{\"\"a\"\":[1,2]}\"\r\n"
            "42,,false,\r\n");
}

TEST(CsvWriterTest, FileWithoutRowsIsTheHeader) {
  EXPECT_EQ(WriteCsv({"id", "name"}, {}), "id,name\r\n");
}

TEST(CsvWriterTest, AppendsToTheCallersBuffer) {
  std::string out = "existing";
  CsvWriter writer;
  const std::vector<std::string> columns = {"a"};
  writer.BeginFile(columns, out);
  EXPECT_EQ(out, "existinga\r\n");
}

Cell Text(std::string_view text) { return Cell{CellKind::kText, text}; }

struct Written {
  std::string bytes;
  std::optional<bool> formulas;
};

// One file with one column, one row per cell.
Written WriteColumn(bool escape_formulas, const std::vector<Cell>& cells) {
  CsvWriter writer(escape_formulas);
  const std::vector<std::string> columns = {"v"};
  Written w;
  writer.BeginFile(columns, w.bytes);
  for (const Cell& cell : cells) writer.WriteRow(std::span<const Cell>(&cell, 1), w.bytes);
  writer.EndFile(w.bytes);
  w.formulas = writer.file_contains_formulas();
  return w;
}

TEST(CsvWriterFormulaTest, EachTriggerFlagsTheFileAndIsWrittenExactlyByDefault) {
  for (std::string_view text : {"=1+2", "+A1", "-A1", "@SUM(A1)", "\tx", "\rx"}) {
    const Written w = WriteColumn(false, {Text("plain"), Text(text)});
    EXPECT_EQ(w.formulas, true) << text;
    std::string expected = "v\r\nplain\r\n";
    AppendCsvField(text, expected);
    expected += "\r\n";
    EXPECT_EQ(w.bytes, expected) << text;
  }
}

TEST(CsvWriterFormulaTest, EscapingPrefixesAQuoteInsideTheField) {
  EXPECT_EQ(WriteColumn(true, {Text("=1+2")}).bytes, "v\r\n'=1+2\r\n");
  EXPECT_EQ(WriteColumn(true, {Text("+A1")}).bytes, "v\r\n'+A1\r\n");
  EXPECT_EQ(WriteColumn(true, {Text("-A1")}).bytes, "v\r\n'-A1\r\n");
  EXPECT_EQ(WriteColumn(true, {Text("@x")}).bytes, "v\r\n'@x\r\n");
  EXPECT_EQ(WriteColumn(true, {Text("\tx")}).bytes, "v\r\n'\tx\r\n");
  // CR needs quotes: the quote character goes inside them.
  EXPECT_EQ(WriteColumn(true, {Text("\rx")}).bytes, "v\r\n\"'\rx\"\r\n");
  EXPECT_EQ(WriteColumn(true, {Text("=1+2")}).formulas, true);
}

TEST(CsvWriterFormulaTest, EscapingAndRfc4180QuotingTogether) {
  // The cell =a,"b" becomes the value '=a,"b", then quoted with its quotes doubled.
  EXPECT_EQ(WriteColumn(true, {Text("=a,\"b\"")}).bytes, "v\r\n\"'=a,\"\"b\"\"\"\r\n");
  EXPECT_EQ(WriteColumn(false, {Text("=a,\"b\"")}).bytes, "v\r\n\"=a,\"\"b\"\"\"\r\n");
  std::string field;
  AppendEscapedCsvField("-1\n2", field);
  EXPECT_EQ(field, "\"'-1\n2\"");
}

TEST(CsvWriterFormulaTest, NumbersAndNumericTextAreUntouched) {
  const std::vector<Cell> cells = {Cell{CellKind::kNumber, "-3.5"},
                                   Cell{CellKind::kNumber, "-1"},
                                   Text("-3.5"),
                                   Text("+1e5"),
                                   Text("-0.25E-3"),
                                   Cell{CellKind::kBool, "true"},
                                   Cell{CellKind::kNull, {}},
                                   Cell{CellKind::kJson, "{\"a\":\"=1\"}"},
                                   Text(""),
                                   Text("basalt"),
                                   Text(" =1"),
                                   Text("a=b")};
  for (bool escape : {false, true}) {
    const Written w = WriteColumn(escape, cells);
    EXPECT_EQ(w.formulas, false) << escape;
    EXPECT_EQ(w.bytes,
              "v\r\n-3.5\r\n-1\r\n-3.5\r\n+1e5\r\n-0.25E-3\r\ntrue\r\n\r\n"
              "\"{\"\"a\"\":\"\"=1\"\"}\"\r\n\"\"\r\nbasalt\r\n =1\r\na=b\r\n")
        << escape;
  }
}

TEST(CsvWriterFormulaTest, TheFlagIsPerFileAndTheHeaderIsNotData) {
  CsvWriter writer(false);
  const std::vector<std::string> columns = {"=header"};
  std::string out;
  writer.BeginFile(columns, out);
  EXPECT_EQ(writer.file_contains_formulas(), false);
  const Cell formula = Text("=1");
  writer.WriteRow(std::span<const Cell>(&formula, 1), out);
  writer.EndFile(out);
  EXPECT_EQ(writer.file_contains_formulas(), true);  // still readable after EndFile
  writer.BeginFile(columns, out);
  const Cell plain = Text("1");
  writer.WriteRow(std::span<const Cell>(&plain, 1), out);
  writer.EndFile(out);
  EXPECT_EQ(writer.file_contains_formulas(), false);
}

TEST(CsvWriterFormulaTest, MakeFormatWriterPassesTheOption) {
  auto writer = MakeFormatWriter(Format::kCsv, /*escape_formulas=*/true);
  const std::vector<std::string> columns = {"v"};
  const Cell cell = Text("=1");
  std::string out;
  writer->BeginFile(columns, out);
  writer->WriteRow(std::span<const Cell>(&cell, 1), out);
  EXPECT_EQ(out, "v\r\n'=1\r\n");
  EXPECT_EQ(writer->file_contains_formulas(), true);
  EXPECT_EQ(MakeFormatWriter(Format::kJson, true)->file_contains_formulas(), std::nullopt);
  EXPECT_EQ(MakeFormatWriter(Format::kNdjson, true)->file_contains_formulas(), std::nullopt);
}

}  // namespace
}  // namespace exportd
