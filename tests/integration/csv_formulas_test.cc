// CSV formula injection against the real binary: a dataset whose text cells start like
// spreadsheet formulas. By default the export is exact and the task (and manifest) say
// csv_contains_formulas: true; escape_formulas (per request, or per deployment with a request
// turning it off) prefixes exactly those cells with a single quote; a dataset slice without them
// says false; NDJSON is written as is with no flag; the flag survives a kill -9 and resume; and
// `exportd verify --source` regenerates an escaped export byte for byte.
#include <charconv>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

// The text cells of table notes, by id. `label` holds the formula-like cells (and one plain);
// `code` holds none: numbers written as text, quotes and commas, a space before '='.
struct NoteRow {
  int id;
  std::string label;
  std::string code;
  double amount;
  bool label_is_formula;
};

const std::vector<NoteRow>& Notes() {
  static const std::vector<NoteRow> rows = {
      {1, "=1+2", "plain", 3.5, true},   {2, "+SUM(A1:A2)", "-3.5", -2.0, true},
      {3, "-2+3", "+1e5", -0.25, true},  {4, "@cmd", "a,b", 1.0, true},
      {5, "\tTAB", " =1", 2.0, true},    {6, "\rCR", "say \"hi\"", -7.0, true},
      {7, "=a,\"b\"", "-.5", 0.0, true}, {8, "basalt", "x=1", -1e5, false},
  };
  return rows;
}

// A REAL as exportd writes it: the shortest text that reads back exactly.
std::string FormatAmount(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ec == std::errc() ? end : buf);
}

class CsvFormulasTest : public ExportdTest {
 protected:
  // Creates the notes table (plus `extra_rows` plain rows after the Notes(), ids 9..) and
  // starts exportd with it as dataset "notes" and `config_extra` in the config.
  bool StartWithNotes(const Json& config_extra = Json::object(), int extra_rows = 0) {
    path_ = source_dir_.path() + "/notes.sqlite";
    std::string sql =
        "PRAGMA journal_mode=DELETE;"
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, label TEXT, code TEXT, amount REAL);"
        "BEGIN;";
    for (const NoteRow& r : Notes()) {
      sql += "INSERT INTO notes VALUES (" + std::to_string(r.id) + ", " + Quote(r.label) + ", " +
             Quote(r.code) + ", " + FormatAmount(r.amount) + ");";
    }
    if (extra_rows > 0) {
      sql += "WITH RECURSIVE n(i) AS (SELECT 9 UNION ALL SELECT i + 1 FROM n WHERE i < " +
             std::to_string(8 + extra_rows) +
             ") INSERT INTO notes SELECT i, 'plain ' || i, '-' || i, -i FROM n;";
    }
    sql += "COMMIT;";
    std::ofstream(path_).close();  // ExecSql opens an existing file; an empty one is a database
    ExecSql(path_, sql);
    ExportdProcess::Options options;
    options.config = {
        {"datasets",
         Json::array({{{"name", "notes"},
                       {"source", {{"type", "sqlite"}, {"path", path_}, {"table", "notes"}}},
                       {"key", "id"},
                       {"columns", {"id", "label", "code", "amount"}}}})}};
    for (auto it = config_extra.begin(); it != config_extra.end(); ++it) {
      options.config[it.key()] = it.value();
    }
    return StartServer(std::move(options));
  }

  // SQL string literal; CR and TAB go through char() so the SQL text stays one line.
  static std::string Quote(const std::string& s) {
    std::string out = "(''";
    std::string run;
    auto flush = [&] {
      if (run.empty()) return;
      out += " || '" + run + "'";
      run.clear();
    };
    for (char c : s) {
      if (c == '\r' || c == '\t') {
        flush();
        out += " || char(" + std::to_string(static_cast<int>(c)) + ")";
      } else if (c == '\'') {
        run += "''";
      } else {
        run += c;
      }
    }
    flush();
    return out + ")";
  }

  Json Succeeded(const Json& body) {
    const std::string id = CreateExport(*api_, body);
    if (id.empty()) return Json();
    Json task = WaitForTerminal(*api_, id, seconds(60));
    EXPECT_EQ(task.value("status", ""), "Succeeded") << task.dump();
    return task;
  }

  // The one file of a CSV task, parsed (header first).
  Table CsvOf(const Json& task, DownloadedExport* download = nullptr) {
    DownloadedExport d = DownloadExport(*api_, task);
    Table rows;
    std::string error;
    EXPECT_EQ(d.contents.size(), 1u);
    if (d.contents.size() == 1) {
      EXPECT_TRUE(ParseCsv(d.contents[0], &rows, &error)) << error;
    }
    if (download != nullptr) *download = std::move(d);
    return rows;
  }

  // What the CSV (header first) must hold, with or without escaping.
  static Table ExpectedCsv(bool escaped) {
    Table t = {{"id", "label", "code", "amount"}};
    for (const NoteRow& r : Notes()) {
      t.push_back({std::to_string(r.id), (escaped && r.label_is_formula ? "'" : "") + r.label,
                   r.code, FormatAmount(r.amount)});
    }
    return t;
  }

  std::string path_;
};

TEST_F(CsvFormulasTest, ByDefaultTheDataIsExactAndTheTaskIsFlagged) {
  ASSERT_TRUE(StartWithNotes());
  const std::string id = CreateExport(*api_, {{"dataset", "notes"}});
  ASSERT_FALSE(id.empty());
  // Not known before the export finished.
  Json early = GetTask(*api_, id);
  if (early.value("status", "") != "Succeeded") {
    EXPECT_TRUE(early["csv_contains_formulas"].is_null()) << early.dump();
  }
  Json task = WaitForTerminal(*api_, id, seconds(60));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  EXPECT_EQ(task["csv_contains_formulas"], true) << task.dump();
  EXPECT_EQ(task["files"][0]["contains_formulas"], true) << task.dump();
  EXPECT_FALSE(task["request"].contains("escape_formulas")) << task.dump();

  DownloadedExport download;
  EXPECT_EQ(CsvOf(task, &download), ExpectedCsv(false));
  EXPECT_EQ(download.manifest["csv_contains_formulas"], true) << download.manifest.dump();
  EXPECT_EQ(download.manifest["files"][0]["contains_formulas"], true);
  // The raw bytes: the formula cells as they are, quoted only where RFC 4180 needs it.
  EXPECT_NE(download.contents[0].find("\r\n1,=1+2,plain,3.5\r\n"), std::string::npos)
      << download.contents[0];
  EXPECT_NE(download.contents[0].find("\r\n7,\"=a,\"\"b\"\"\",-.5,0\r\n"), std::string::npos)
      << download.contents[0];

  // The flag stays when the files are deleted.
  ASSERT_EQ(api_->Delete("/v1/exports/" + id).status, 204);
  Json deleted = GetTask(*api_, id);
  EXPECT_TRUE(deleted["files"].empty()) << deleted.dump();
  EXPECT_EQ(deleted["csv_contains_formulas"], true) << deleted.dump();
}

TEST_F(CsvFormulasTest, EscapingPerRequestPrefixesExactlyTheFormulaCells) {
  ASSERT_TRUE(StartWithNotes());
  const Json plain = Succeeded({{"dataset", "notes"}});
  const Json escaped = Succeeded({{"dataset", "notes"}, {"escape_formulas", true}});
  ASSERT_TRUE(plain.is_object() && escaped.is_object());
  EXPECT_EQ(escaped["request"]["escape_formulas"], true) << escaped.dump();
  EXPECT_NE(escaped.value("query_hash", ""), plain.value("query_hash", ""))
      << "escaping changes the bytes, so the hash";
  EXPECT_EQ(escaped["csv_contains_formulas"], true) << "flagged although escaped";

  DownloadedExport download;
  EXPECT_EQ(CsvOf(escaped, &download), ExpectedCsv(true));
  const std::string& bytes = download.contents[0];
  EXPECT_NE(bytes.find("\r\n1,'=1+2,plain,3.5\r\n"), std::string::npos) << bytes;
  // The quote goes inside the field; RFC 4180 quoting as usual.
  EXPECT_NE(bytes.find("\r\n7,\"'=a,\"\"b\"\"\",-.5,0\r\n"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("\r\n6,\"'\rCR\",\"say \"\"hi\"\"\",-7\r\n"), std::string::npos) << bytes;
  // Numbers (REAL -2, text "-3.5" and "+1e5") are data: untouched.
  EXPECT_NE(bytes.find("\r\n2,'+SUM(A1:A2),-3.5,-2\r\n"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("\r\n3,'-2+3,+1e5,-0.25\r\n"), std::string::npos) << bytes;
}

TEST_F(CsvFormulasTest, QueryFormAndTsv) {
  ASSERT_TRUE(StartWithNotes());
  HttpResponse res = api_->Send("POST", "/v1/exports?dataset=notes&escape_formulas=true", "", "");
  ASSERT_EQ(res.status, 202) << res.body;
  Json from_query = WaitForTerminal(*api_, Json::parse(res.body).value("id", ""), seconds(60));
  EXPECT_EQ(from_query["request"]["escape_formulas"], true) << from_query.dump();
  EXPECT_EQ(CsvOf(from_query), ExpectedCsv(true));

  HttpResponse bad = api_->Send("POST", "/v1/exports?dataset=notes&escape_formulas=yes", "", "");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_TRUE(IsProblem(bad));
  HttpResponse bad_json =
      api_->PostJson("/v1/exports", {{"dataset", "notes"}, {"escape_formulas", 1}});
  EXPECT_EQ(bad_json.status, 400) << bad_json.body;
  EXPECT_NE(bad_json.body.find("/escape_formulas"), std::string::npos) << bad_json.body;

  const Json tsv = Succeeded({{"dataset", "notes"}, {"format", "tsv"}, {"escape_formulas", true}});
  EXPECT_EQ(tsv["csv_contains_formulas"], true) << tsv.dump();
  DownloadedExport d = DownloadExport(*api_, tsv);
  ASSERT_EQ(d.contents.size(), 1u);
  EXPECT_NE(d.contents[0].find("\n5\t'\\tTAB\t =1\t2\n"), std::string::npos) << d.contents[0];
  EXPECT_NE(d.contents[0].find("\n8\tbasalt\tx=1\t" + FormatAmount(-1e5) + "\n"), std::string::npos)
      << d.contents[0];
}

TEST_F(CsvFormulasTest, DeploymentDefaultOnAndARequestTurningItOff) {
  ASSERT_TRUE(StartWithNotes({{"escape_formulas", true}}));
  const Json by_default = Succeeded({{"dataset", "notes"}});
  ASSERT_TRUE(by_default.is_object());
  EXPECT_EQ(by_default["request"]["escape_formulas"], true) << by_default.dump();
  EXPECT_EQ(CsvOf(by_default), ExpectedCsv(true));

  const Json off = Succeeded({{"dataset", "notes"}, {"escape_formulas", false}});
  ASSERT_TRUE(off.is_object());
  EXPECT_FALSE(off["request"].contains("escape_formulas")) << off.dump();
  EXPECT_EQ(CsvOf(off), ExpectedCsv(false));
  EXPECT_EQ(off["csv_contains_formulas"], true);
}

TEST_F(CsvFormulasTest, WithoutFormulaCellsTheFlagIsFalse) {
  ASSERT_TRUE(StartWithNotes());
  // code holds "-3.5", "+1e5", "-.5" (numbers as text), " =1", "x=1": none is formula-like;
  // amount holds negative REALs, which are numbers.
  const Json task = Succeeded(
      {{"dataset", "notes"}, {"fields", {"id", "code", "amount"}}, {"escape_formulas", true}});
  ASSERT_TRUE(task.is_object());
  EXPECT_EQ(task["csv_contains_formulas"], false) << task.dump();
  EXPECT_EQ(task["files"][0]["contains_formulas"], false) << task.dump();
  DownloadedExport download;
  const Table rows = CsvOf(task, &download);
  EXPECT_EQ(download.manifest["csv_contains_formulas"], false);
  ASSERT_EQ(rows.size(), Notes().size() + 1);
  for (size_t i = 0; i < Notes().size(); ++i) {
    EXPECT_EQ(rows[i + 1], (std::vector<std::string>{std::to_string(Notes()[i].id), Notes()[i].code,
                                                     FormatAmount(Notes()[i].amount)}));
  }
}

// JSON formats are not spreadsheets: values exactly as stored, no flag, and escape_formulas is
// dropped from the canonical request (so it does not change the query_hash).
TEST_F(CsvFormulasTest, NdjsonIsWrittenAsIsWithoutAFlag) {
  ASSERT_TRUE(StartWithNotes());
  const Json plain = Succeeded({{"dataset", "notes"}, {"format", "ndjson"}});
  const Json asked =
      Succeeded({{"dataset", "notes"}, {"format", "ndjson"}, {"escape_formulas", true}});
  ASSERT_TRUE(plain.is_object() && asked.is_object());
  for (const Json& task : {plain, asked}) {
    EXPECT_TRUE(task["csv_contains_formulas"].is_null()) << task.dump();
    EXPECT_FALSE(task["files"][0].contains("contains_formulas")) << task.dump();
    EXPECT_FALSE(task["request"].contains("escape_formulas")) << task.dump();
    DownloadedExport d = DownloadExport(*api_, task);
    EXPECT_FALSE(d.manifest.contains("csv_contains_formulas")) << d.manifest.dump();
    ASSERT_EQ(d.contents.size(), 1u);
    std::vector<std::string> labels;
    size_t start = 0;
    while (start < d.contents[0].size()) {
      const size_t end = d.contents[0].find('\n', start);
      labels.push_back(Json::parse(d.contents[0].substr(start, end - start)).value("label", ""));
      start = end + 1;
    }
    ASSERT_EQ(labels.size(), Notes().size());
    for (size_t i = 0; i < labels.size(); ++i) EXPECT_EQ(labels[i], Notes()[i].label) << i;
  }
  EXPECT_EQ(plain.value("query_hash", ""), asked.value("query_hash", ""));
}

// The formula is in file 1 only; the server is killed after several files and the export
// resumes after the last committed one: the task still reports it (and which file).
TEST_F(CsvFormulasTest, TheFlagSurvivesAKillAndResume) {
  ASSERT_TRUE(StartWithNotes({{"workers", 1}, {"max_rows_per_second", 250}}, 992));
  const std::string id = CreateExport(
      *api_, {{"dataset", "notes"}, {"fields", {"id", "label"}}, {"max_rows_per_file", 100}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor(
      [&] {
        Json t = GetTask(*api_, id);
        return t.is_object() && t["progress"].value("rows", 0) >= 300;
      },
      seconds(15)));
  server_->Kill();
  std::string error;
  ASSERT_TRUE(server_->Start(&error)) << error;
  Json task = WaitForTerminal(*api_, id, seconds(40));
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  const Json events = GetEvents(*api_, id);
  ASSERT_EQ(EventsOfType(events, "recover").size(), 1u) << events.dump();
  EXPECT_NE(EventsOfType(events, "start").back().value("detail", "").find("resume at file"),
            std::string::npos)
      << events.dump();
  EXPECT_EQ(task["csv_contains_formulas"], true) << task.dump();
  ASSERT_EQ(task["files"].size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(task["files"][i]["contains_formulas"], i == 0) << i << task["files"][i].dump();
  }
  EXPECT_EQ(DownloadExport(*api_, task).manifest["csv_contains_formulas"], true);
}

TEST_F(CsvFormulasTest, VerifySourceRegeneratesAnEscapedExport) {
  ASSERT_TRUE(StartWithNotes());
  const Json escaped = Succeeded({{"dataset", "notes"}, {"escape_formulas", true}});
  const Json tsv = Succeeded({{"dataset", "notes"}, {"format", "tsv"}, {"escape_formulas", true}});
  ASSERT_TRUE(escaped.is_object() && tsv.is_object());
  ASSERT_EQ(server_->Stop(), 0);
  for (const Json& task : {escaped, tsv}) {
    const std::string id = task.value("id", "");
    CommandResult r = server_->RunCli(
        {"verify", id, "--source", "--config", server_->config_path()}, seconds(60));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("OK: task " + id), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace exportd::itest
