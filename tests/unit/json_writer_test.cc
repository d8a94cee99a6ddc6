#include "core/formats/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace exportd {
namespace {

std::string WriteFile(Format format, const std::vector<std::string>& columns,
                      const std::vector<std::vector<Cell>>& rows) {
  auto writer = MakeFormatWriter(format);
  std::string out;
  writer->BeginFile(columns, out);
  for (const auto& row : rows) writer->WriteRow(row, out);
  writer->EndFile(out);
  return out;
}

std::string Escaped(std::string_view text) {
  std::string out;
  AppendJsonEscaped(text, out);
  return out;
}

TEST(AppendJsonEscapedTest, EscapesWhatRfc8259Requires) {
  EXPECT_EQ(Escaped("plain"), "plain");
  EXPECT_EQ(Escaped("q\"b\\"), "q\\\"b\\\\");
  EXPECT_EQ(Escaped("\b\f\n\r\t"), "\\b\\f\\n\\r\\t");
  EXPECT_EQ(Escaped(std::string_view("\x00\x01\x1f", 3)), "\\u0000\\u0001\\u001f");
  EXPECT_EQ(Escaped("/ and \x7f"), "/ and \x7f");
}

TEST(AppendJsonEscapedTest, PassesValidUtf8Through) {
  const std::string text = "Ä \xE6\x97\xA5 \xF0\x9F\xAA\xA8 \xE2\x80\xA8";
  EXPECT_EQ(Escaped(text), text);
}

TEST(AppendJsonEscapedTest, ReplacesInvalidUtf8) {
  EXPECT_EQ(Escaped("a\xFF"
                    "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Escaped("\xC3"), "\xEF\xBF\xBD");                                  // truncated sequence
  EXPECT_EQ(Escaped("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  EXPECT_EQ(Escaped("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST(IsJsonNumberTest, FollowsTheGrammar) {
  for (const char* ok :
       {"0", "-0", "42", "-1.5", "1e-05", "1E+10", "0.25", "123456789012345678901"}) {
    EXPECT_TRUE(IsValidJsonNumber(ok)) << ok;
  }
  for (const char* bad : {"", "-", "01", "+1", "1.", ".5", "1e", "1e+", "inf", "-inf", "nan", "NaN",
                          "Infinity", "0x10", "1 ", " 1", "1,5"}) {
    EXPECT_FALSE(IsValidJsonNumber(bad)) << bad;
  }
}

const std::vector<std::string> kColumns = {"id", "name", "ok", "doc", "missing", "odd \"key\""};

std::vector<std::vector<Cell>> SampleRows() {
  return {{Cell{CellKind::kNumber, "1"}, Cell{CellKind::kText, "tab\there \"q\" \\ \x01 Ä"},
           Cell{CellKind::kBool, "true"}, Cell{CellKind::kJson, "{\"a\":[1,2]}"},
           Cell{CellKind::kNull, {}}, Cell{CellKind::kText, ""}},
          {Cell{CellKind::kNumber, "nan"}, Cell{CellKind::kText, "line\r\nbreak"},
           Cell{CellKind::kBool, "false"}, Cell{CellKind::kJson, "[]"},
           Cell{CellKind::kNumber, "-2.5e-3"}, Cell{CellKind::kNumber, "inf"}}};
}

TEST(JsonWriterTest, WritesExactBytes) {
  EXPECT_EQ(WriteFile(Format::kJson, kColumns, SampleRows()),
            "[\n"
            "{\"id\":1,\"name\":\"tab\\there \\\"q\\\" \\\\ \\u0001 Ä\",\"ok\":true,"
            "\"doc\":{\"a\":[1,2]},\"missing\":null,\"odd \\\"key\\\"\":\"\"},\n"
            "{\"id\":\"nan\",\"name\":\"line\\r\\nbreak\",\"ok\":false,\"doc\":[],"
            "\"missing\":-2.5e-3,\"odd \\\"key\\\"\":\"inf\"}\n"
            "]\n");
}

TEST(JsonWriterTest, OutputParsesBackWithKeysInColumnOrder) {
  const auto parsed =
      nlohmann::ordered_json::parse(WriteFile(Format::kJson, kColumns, SampleRows()));
  ASSERT_TRUE(parsed.is_array());
  ASSERT_EQ(parsed.size(), 2u);
  std::vector<std::string> keys;
  for (const auto& [key, value] : parsed[0].items()) keys.push_back(key);
  EXPECT_EQ(keys, kColumns);
  EXPECT_EQ(parsed[0]["id"], 1);
  EXPECT_EQ(parsed[0]["name"], "tab\there \"q\" \\ \x01 Ä");
  EXPECT_EQ(parsed[0]["ok"], true);
  EXPECT_EQ(parsed[0]["doc"]["a"][1], 2);
  EXPECT_TRUE(parsed[0]["missing"].is_null());
  EXPECT_EQ(parsed[0]["odd \"key\""], "");
  EXPECT_EQ(parsed[1]["id"], "nan");
  EXPECT_EQ(parsed[1]["name"], "line\r\nbreak");
  EXPECT_DOUBLE_EQ(parsed[1]["missing"].get<double>(), -2.5e-3);
}

TEST(JsonWriterTest, FileWithoutRowsIsAnEmptyArray) {
  const std::string out = WriteFile(Format::kJson, kColumns, {});
  EXPECT_EQ(out, "[]\n");
  EXPECT_TRUE(nlohmann::json::parse(out).empty());
}

TEST(JsonWriterTest, WriterIsReusableAcrossFiles) {
  auto writer = MakeFormatWriter(Format::kJson);
  const std::vector<std::string> columns = {"a"};
  const std::vector<Cell> row = {Cell{CellKind::kNumber, "1"}};
  std::string first;
  writer->BeginFile(columns, first);
  writer->WriteRow(row, first);
  writer->EndFile(first);
  std::string second;
  writer->BeginFile(columns, second);
  writer->EndFile(second);
  EXPECT_EQ(first, "[\n{\"a\":1}\n]\n");
  EXPECT_EQ(second, "[]\n");
}

TEST(NdjsonWriterTest, WritesOneObjectPerLine) {
  const std::string out = WriteFile(Format::kNdjson, kColumns, SampleRows());
  EXPECT_EQ(out,
            "{\"id\":1,\"name\":\"tab\\there \\\"q\\\" \\\\ \\u0001 Ä\",\"ok\":true,"
            "\"doc\":{\"a\":[1,2]},\"missing\":null,\"odd \\\"key\\\"\":\"\"}\n"
            "{\"id\":\"nan\",\"name\":\"line\\r\\nbreak\",\"ok\":false,\"doc\":[],"
            "\"missing\":-2.5e-3,\"odd \\\"key\\\"\":\"inf\"}\n");
  size_t start = 0;
  int lines = 0;
  while (start < out.size()) {
    const size_t end = out.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    const auto parsed = nlohmann::json::parse(out.substr(start, end - start));
    EXPECT_TRUE(parsed.is_object());
    EXPECT_EQ(parsed.size(), kColumns.size());
    start = end + 1;
    ++lines;
  }
  EXPECT_EQ(lines, 2);
}

TEST(NdjsonWriterTest, FileWithoutRowsIsEmpty) {
  EXPECT_EQ(WriteFile(Format::kNdjson, kColumns, {}), "");
}

}  // namespace
}  // namespace exportd
