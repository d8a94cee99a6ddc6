#include "core/formats/csv_writer.h"

#include <gtest/gtest.h>

#include <string>
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

}  // namespace
}  // namespace exportd
