// Imports (POST /v1/imports) against the real binary: from an export and from an upload (plain
// and gzip), the round trip export -> import -> export with byte-identical files, validation
// failures with details and nothing visible, on_conflict skip/replace/error, a dataset that is
// not importable, cancel, and kill -9 during an import.
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

namespace fs = std::filesystem;

class ImportTest : public ExportdTest {
 protected:
  // The items dataset (not importable) with `rows` rows, and importable datasets with the same
  // fields over empty copies of its table: one per name in `copies`.
  bool StartWithCopies(int rows, const std::vector<std::string>& copies,
                       const Json& config_extra = Json::object()) {
    CreateItemsDb(source_path_, rows);
    Json datasets = Json::array({ItemsDatasetConfig("items", source_path_)});
    for (const std::string& name : copies) {
      const std::string path = CopyPath(name);
      CreateItemsDb(path, 0);
      Json d = ItemsDatasetConfig(name, path);
      d["importable"] = true;
      datasets.push_back(d);
    }
    ExportdProcess::Options options;
    options.config = {{"datasets", datasets}};
    for (auto it = config_extra.begin(); it != config_extra.end(); ++it) {
      options.config[it.key()] = it.value();
    }
    return StartServer(std::move(options));
  }
  std::string CopyPath(const std::string& name) const {
    return source_dir_.path() + "/" + name + ".sqlite";
  }
  int64_t CountRows(const std::string& name) const {
    auto rows = QuerySql(CopyPath(name), "SELECT count(*) FROM items");
    return std::get<int64_t>(rows.at(0).at(0));
  }

  Json GetImport(const std::string& id) {
    auto res = api_->Get("/v1/imports/" + id);
    EXPECT_EQ(res.status, 200) << res.Describe();
    return res.json;
  }
  Json WaitImport(const std::string& id, const std::set<std::string>& statuses,
                  Clock::duration timeout = seconds(30)) {
    Json last;
    WaitFor(
        [&] {
          last = GetImport(id);
          return last.is_object() && statuses.count(last.value("status", "")) > 0;
        },
        timeout);
    EXPECT_TRUE(last.is_object() && statuses.count(last.value("status", "")) > 0) << last.dump();
    return last;
  }
  // POST /v1/imports with a JSON body; the task id ("" with a failure).
  std::string ImportFromExport(const std::string& dataset, const std::string& export_id,
                               const std::string& on_conflict = "error") {
    auto res = api_->PostJson(
        "/v1/imports",
        {{"dataset", dataset}, {"from_export", export_id}, {"on_conflict", on_conflict}});
    EXPECT_EQ(res.status, 202) << res.Describe();
    EXPECT_EQ(res.Header("Location"), "/v1/imports/" + res.json.value("id", "")) << res.Describe();
    return res.status == 202 ? res.json.value("id", "") : "";
  }
  HttpResponse Upload(const std::string& query, const std::string& body,
                      const std::string& content_type, bool gzip = false) {
    HeaderList headers;
    if (gzip) headers.emplace_back("Content-Encoding", "gzip");
    return api_->Send("POST", "/v1/imports?" + query, body, content_type, headers);
  }
  std::string UploadOk(const std::string& query, const std::string& body,
                       const std::string& content_type = "text/csv", bool gzip = false) {
    auto res = Upload(query, body, content_type, gzip);
    EXPECT_EQ(res.status, 202) << res.Describe();
    return res.status == 202 ? res.json.value("id", "") : "";
  }
  // Exports `dataset` and waits for it to succeed.
  Json Export(const std::string& dataset, const std::string& format,
              const std::string& compression = "none") {
    const std::string id = CreateExport(*api_, {{"dataset", dataset},
                                                {"format", format},
                                                {"compression", compression},
                                                {"max_rows_per_file", 100}});
    Json t = WaitForTerminal(*api_, id, seconds(30));
    EXPECT_EQ(t.value("status", ""), "Succeeded") << t.dump();
    return t;
  }
  // A CSV of the items dataset: the header and `rows`, each already formatted.
  static std::string Csv(const std::vector<std::string>& rows,
                         const std::string& header = "id,name,qty,price,observed_at,region") {
    std::string out = header + "\r\n";
    for (const std::string& r : rows) out += r + "\r\n";
    return out;
  }
};

TEST_F(ImportTest, RoundTripEveryFormatGivesIdenticalFiles) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"csv", "none"}, {"tsv", "none"}, {"ndjson", "none"}, {"csv", "gzip"}};
  std::vector<std::string> copies;
  for (const auto& [format, compression] : cases)
    copies.push_back("copy_" + format + "_" + compression);
  ASSERT_TRUE(StartWithCopies(350, copies));
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [format, compression] = cases[i];
    SCOPED_TRACE(format + "/" + compression);
    Json original = Export("items", format, compression);
    const std::string import_id = ImportFromExport(copies[i], original.value("id", ""));
    ASSERT_FALSE(import_id.empty());
    Json imported = WaitImport(import_id, {"Succeeded", "Failed", "Cancelled"});
    ASSERT_EQ(imported.value("status", ""), "Succeeded") << imported.dump();
    EXPECT_EQ(imported.value("rows_inserted", -1), 350) << imported.dump();
    EXPECT_EQ(imported.value("rows_skipped", -1), 0);
    EXPECT_EQ(imported.value("rows_replaced", -1), 0);
    EXPECT_EQ(imported["progress"].value("rows", -1), 350) << imported.dump();
    EXPECT_EQ(CountRows(copies[i]), 350);
    Json again = Export(copies[i], format, compression);
    DownloadedExport a = DownloadExport(*api_, original);
    DownloadedExport b = DownloadExport(*api_, again);
    ASSERT_EQ(a.names, b.names);
    ASSERT_EQ(a.contents.size(), b.contents.size());
    for (size_t f = 0; f < a.contents.size(); ++f) {
      EXPECT_EQ(Sha256Hex(a.contents[f]), Sha256Hex(b.contents[f])) << a.names[f];
    }
    ASSERT_EQ(original["files"].size(), again["files"].size());
    for (size_t f = 0; f < original["files"].size(); ++f) {
      EXPECT_EQ(original["files"][f].value("sha256", ""), again["files"][f].value("sha256", ""))
          << a.names[f];
    }
  }
  // Imports are listed under /v1/imports only.
  auto imports = api_->Get("/v1/imports");
  ASSERT_EQ(imports.status, 200) << imports.Describe();
  EXPECT_EQ(imports.json["items"].size(), cases.size());
  auto exports = api_->Get("/v1/exports?limit=200");
  for (const Json& t : exports.json["items"]) {
    EXPECT_FALSE(t["links"].value("self", "").starts_with("/v1/imports")) << t.dump();
  }
}

// The demo dataset (documents of sparse measurements rebuilt into the document column): every
// format gives byte-identical files after export -> import -> export.
TEST_F(ImportTest, DemoDatasetRoundTripGivesIdenticalFiles) {
  // A first start creates the demo dataset; its table and fields are then configured twice:
  // as the source, and as an empty importable copy per format.
  ExportdProcess::Options demo;
  demo.config = {{"demo_rows", 2500}};
  ASSERT_TRUE(StartServer(std::move(demo)));
  auto listed = api_->Get("/v1/datasets");
  ASSERT_EQ(listed.status, 200) << listed.Describe();
  const std::string demo_path = server_->data_dir() + "/demo/samples.sqlite";
  const std::string source = source_dir_.path() + "/samples.sqlite";
  fs::copy_file(demo_path, source);
  server_->Stop();
  const std::vector<std::string> columns = TableColumns(source, "samples");
  std::string fields_file = source_dir_.path() + "/analytes.txt";
  {
    std::string names;
    for (const Json& f : listed.json["items"][0]["fields"]) {
      const std::string name = f.value("name", "");
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) names += name + "\n";
    }
    ASSERT_FALSE(names.empty());
    std::ofstream(fields_file) << names;
  }
  auto dataset = [&](const std::string& name, const std::string& path) {
    return Json{{"name", name},
                {"source", {{"type", "sqlite"}, {"path", path}, {"table", "samples"}}},
                {"key", "id"},
                {"time_field", "collected_at"},
                {"partition_field", "study"},
                {"document", {{"column", "analytes"}, {"fields_file", fields_file}}}};
  };
  Json datasets = Json::array({dataset("samples", source)});
  const std::vector<std::string> formats = {"csv", "tsv", "ndjson"};
  for (const std::string& format : formats) {
    const std::string path = CopyPath("samples_" + format);
    // The demo's table, indexes included, without its rows.
    fs::copy_file(source, path);
    ExecSql(path, "DELETE FROM samples");
    Json d = dataset("samples_" + format, path);
    d["importable"] = true;
    datasets.push_back(d);
  }
  ExportdProcess::Options options;
  options.config = {{"datasets", datasets}};
  ASSERT_TRUE(StartServer(std::move(options)));
  for (const std::string& format : formats) {
    SCOPED_TRACE(format);
    Json original = Export("samples", format);
    Json imported = WaitImport(ImportFromExport("samples_" + format, original.value("id", "")),
                               {"Succeeded", "Failed", "Cancelled"});
    ASSERT_EQ(imported.value("status", ""), "Succeeded") << imported.dump();
    EXPECT_EQ(imported["rows_inserted"], 2500) << imported.dump();
    Json again = Export("samples_" + format, format);
    ASSERT_EQ(original["files"].size(), again["files"].size());
    ASSERT_EQ(original["files"].size(), 25u);
    for (size_t f = 0; f < original["files"].size(); ++f) {
      EXPECT_EQ(original["files"][f].value("sha256", ""), again["files"][f].value("sha256", ""))
          << original["files"][f].value("name", "");
    }
  }
}

// The wide case: 2,897 document fields, flattened by the export and rebuilt into the document
// by the import; every format gives byte-identical files.
TEST_F(ImportTest, WideDocumentRoundTripGivesIdenticalFiles) {
  constexpr int kFields = 2897;
  const std::string fields_file = source_dir_.path() + "/wide_fields.txt";
  {
    std::ofstream out(fields_file);
    for (int i = 1; i <= kFields; ++i) out << "f" << i << "\n";
  }
  auto create = [&](const std::string& path, int rows) {
    CreateItemsDb(path, 0);
    ExecSql(path, "CREATE TABLE wide (id INTEGER PRIMARY KEY, label TEXT, doc TEXT)");
    if (rows == 0) return;
    // About a third of the fields set per row: reals, integers, text and a few JSON literals.
    ExecSql(path,
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2897),"
            " r(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM r WHERE id < " +
                std::to_string(rows) +
                ") INSERT INTO wide SELECT id, 'row ' || id, (SELECT json_group_object('f' || i,"
                " CASE i % 4 WHEN 0 THEN ((id * 7919 + i * 104729) % 100003) / 1000.0"
                " WHEN 1 THEN (id * i) % 977 WHEN 2 THEN 'v,' || (i % 13)"
                " ELSE json(CASE WHEN i % 8 = 3 THEN 'true' ELSE '1.5e-07' END) END)"
                " FROM n WHERE (i + id) % 3 = 0) FROM r");
  };
  const std::string source = source_dir_.path() + "/wide.sqlite";
  create(source, 60);
  auto dataset = [&](const std::string& name, const std::string& path) {
    return Json{{"name", name},
                {"source", {{"type", "sqlite"}, {"path", path}, {"table", "wide"}}},
                {"key", "id"},
                {"document", {{"column", "doc"}, {"fields_file", fields_file}}}};
  };
  Json datasets = Json::array({dataset("wide", source)});
  const std::vector<std::string> formats = {"csv", "tsv", "ndjson"};
  for (const std::string& format : formats) {
    create(CopyPath("wide_" + format), 0);
    Json d = dataset("wide_" + format, CopyPath("wide_" + format));
    d["importable"] = true;
    datasets.push_back(d);
  }
  ExportdProcess::Options options;
  options.config = {{"datasets", datasets}};
  ASSERT_TRUE(StartServer(std::move(options)));
  for (const std::string& format : formats) {
    SCOPED_TRACE(format);
    Json original = Export("wide", format);
    Json imported = WaitImport(ImportFromExport("wide_" + format, original.value("id", "")),
                               {"Succeeded", "Failed", "Cancelled"});
    ASSERT_EQ(imported.value("status", ""), "Succeeded") << imported.dump();
    EXPECT_EQ(imported["rows_inserted"], 60) << imported.dump();
    Json again = Export("wide_" + format, format);
    ASSERT_EQ(original["files"].size(), 1u);
    ASSERT_EQ(again["files"].size(), 1u);
    EXPECT_GT(original["files"][0].value("bytes", 0), 60 * kFields / 3);
    EXPECT_EQ(original["files"][0].value("sha256", ""), again["files"][0].value("sha256", ""));
  }
}

// Files of two exports are the same, file by file (names, bytes and the sha256 listed).
void ExpectSameFiles(const HttpClient& api, const Json& original, const Json& again) {
  DownloadedExport a = DownloadExport(api, original);
  DownloadedExport b = DownloadExport(api, again);
  ASSERT_EQ(a.names, b.names);
  ASSERT_EQ(a.contents.size(), b.contents.size());
  for (size_t f = 0; f < a.contents.size(); ++f) {
    EXPECT_EQ(Sha256Hex(a.contents[f]), Sha256Hex(b.contents[f])) << a.names[f];
  }
  ASSERT_EQ(original["files"].size(), again["files"].size());
  for (size_t f = 0; f < original["files"].size(); ++f) {
    EXPECT_EQ(original["files"][f].value("sha256", ""), again["files"][f].value("sha256", ""));
  }
}

TEST_F(ImportTest, FromPrefixRoundTripGivesIdenticalFiles) {
  ASSERT_TRUE(StartWithCopies(350, {"copy_csv", "copy_gzip"}));
  // A prefix ending in '/' (one export's directory), and one that is exactly an export's id,
  // read as that directory: its 4 data files in name order, its manifest left out.
  const std::vector<std::pair<std::string, std::string>> cases = {{"csv", "none"},
                                                                  {"ndjson", "gzip"}};
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [format, compression] = cases[i];
    const std::string copy = i == 0 ? "copy_csv" : "copy_gzip";
    SCOPED_TRACE(format + "/" + compression);
    Json original = Export("items", format, compression);
    const std::string export_id = original.value("id", "");
    const std::string prefix = i == 0 ? export_id + "/" : export_id;
    auto res = api_->PostJson("/v1/imports", {{"dataset", copy},
                                              {"from_prefix", prefix},
                                              {"format", format},
                                              {"compression", compression}});
    ASSERT_EQ(res.status, 202) << res.Describe();
    EXPECT_EQ(res.json["request"].value("from_prefix", ""), export_id + "/");
    EXPECT_EQ(res.json["request"].value("compression", ""), compression);
    Json imported = WaitImport(res.json.value("id", ""), {"Succeeded", "Failed", "Cancelled"});
    ASSERT_EQ(imported.value("status", ""), "Succeeded") << imported.dump();
    EXPECT_EQ(imported.value("rows_inserted", -1), 350);
    EXPECT_EQ(CountRows(copy), 350);
    Json again = Export(copy, format, compression);
    ExpectSameFiles(*api_, original, again);
  }
}

TEST_F(ImportTest, FromPrefixIsCheckedAndAuthorisedAtPost) {
  ASSERT_TRUE(StartWithCopies(120, {"target", "bobs", "admins"}));
  Json admin_export = Export("items", "csv");
  const std::string admin_id = admin_export.value("id", "");
  const std::string bob_key = CreateKey("bob", "exporter");
  ASSERT_FALSE(bob_key.empty());
  HttpClient bob(server_->host(), server_->port(), bob_key);
  auto post = [](HttpClient& client, const std::string& dataset, const std::string& prefix,
                 const Json& extra = Json::object()) {
    Json body = {{"dataset", dataset}, {"from_prefix", prefix}};
    for (auto it = extra.begin(); it != extra.end(); ++it) body[it.key()] = it.value();
    return client.PostJson("/v1/imports", body);
  };
  // Prefixes that could leave the store, and one with nothing of the format under it.
  for (const std::string& bad :
       {std::string(""), std::string("/"), std::string("../") + admin_id,
        admin_id + "/../" + admin_id + "/", std::string("/etc/"), admin_id + "//", std::string("."),
        std::string("exports/../../")}) {
    auto res = post(*api_, "target", bad);
    EXPECT_EQ(res.status, 422) << bad << ": " << res.Describe();
    EXPECT_TRUE(IsProblem(res));
  }
  auto res = post(*api_, "target", admin_id + "/", {{"format", "tsv"}});
  EXPECT_EQ(res.status, 422) << res.Describe();
  EXPECT_NE(res.body.find("no object under the prefix"), std::string::npos) << res.body;
  res = post(*api_, "target", admin_id + "/", {{"compression", "gzip"}});
  EXPECT_EQ(res.status, 422) << res.Describe();
  res = post(*api_, "target", "01JD0000000000000000000000/");
  EXPECT_EQ(res.status, 422) << res.Describe();

  // Bob may not read the admin's export, nor any prefix that is not under an export of his.
  for (const std::string& prefix :
       {admin_id + "/", admin_id, std::string("0"), std::string("01JD0000000000000000000000/")}) {
    res = post(bob, "bobs", prefix);
    EXPECT_EQ(res.status, 422) << prefix << ": " << res.Describe();
    EXPECT_NE(res.body.find("only an admin"), std::string::npos) << res.body;
  }
  // His own export he may import.
  const std::string bob_export = CreateExport(bob, {{"dataset", "items"}, {"format", "tsv"}});
  ASSERT_EQ(WaitForTerminal(bob, bob_export, seconds(30)).value("status", ""), "Succeeded");
  res = post(bob, "bobs", bob_export + "/part-", {{"format", "tsv"}});
  ASSERT_EQ(res.status, 202) << res.Describe();
  const std::string bob_import = res.json.value("id", "");
  // Objects of no task of this deployment (copied in from another one): admins only.
  const fs::path exports_root = fs::path(server_->data_dir()) / "exports";
  fs::create_directories(exports_root / "MOVEDIN");
  for (const auto& f : admin_export["files"]) {
    fs::copy_file(exports_root / admin_id / f.value("name", ""),
                  exports_root / "MOVEDIN" / f.value("name", ""));
  }
  res = post(bob, "bobs", "MOVEDIN/");
  EXPECT_EQ(res.status, 422) << res.Describe();
  res = post(*api_, "admins", "MOVEDIN/");
  ASSERT_EQ(res.status, 202) << res.Describe();
  const std::string admin_import = res.json.value("id", "");
  auto wait_as = [&](HttpClient& client, const std::string& id) {
    Json last;
    WaitFor(
        [&] {
          last = client.Get("/v1/imports/" + id).json;
          const std::string s = last.value("status", "");
          return s == "Succeeded" || s == "Failed" || s == "Cancelled";
        },
        seconds(30));
    return last;
  };
  Json t = wait_as(bob, bob_import);
  EXPECT_EQ(t.value("status", ""), "Succeeded") << t.dump();
  EXPECT_EQ(CountRows("bobs"), 120);
  t = wait_as(*api_, admin_import);
  EXPECT_EQ(t.value("status", ""), "Succeeded") << t.dump();
  EXPECT_EQ(CountRows("admins"), 120);
  EXPECT_EQ(CountRows("target"), 0);
}

TEST_F(ImportTest, UploadPlainAndGzip) {
  ASSERT_TRUE(StartWithCopies(120, {"plain", "zipped", "nd"}));
  Json csv = Export("items", "csv");
  Json gz = Export("items", "csv", "gzip");
  Json nd = Export("items", "ndjson");
  DownloadedExport plain = DownloadExport(*api_, csv);
  DownloadedExport zipped = DownloadExport(*api_, gz);
  DownloadedExport ndjson = DownloadExport(*api_, nd);
  ASSERT_EQ(plain.contents.size(), 2u);
  // Two files: the second one's header is dropped to make one upload.
  std::string body =
      plain.contents[0] + plain.contents[1].substr(plain.contents[1].find("\r\n") + 2);
  std::string id = UploadOk("dataset=plain", body);
  Json t = WaitImport(id, {"Succeeded", "Failed"});
  EXPECT_EQ(t.value("status", ""), "Succeeded") << t.dump();
  EXPECT_EQ(t.value("rows_inserted", -1), 120) << t.dump();
  EXPECT_EQ(t["request"].value("upload", false), true);
  // Every column and document field as in the source (the undeclared document key is not
  // exported, so it is not imported either).
  const std::string compare =
      "SELECT id, name, qty, price, observed_at, region, json_extract(doc, '$.alpha'),"
      " json_extract(doc, '$.beta'), json_extract(doc, '$.gamma') FROM items ORDER BY id";
  EXPECT_EQ(QuerySql(CopyPath("plain"), compare), QuerySql(source_path_, compare));
  // The first part of the gzip export, as stored (gzip), with Content-Encoding: gzip.
  id = UploadOk("dataset=zipped", zipped.raw[0], "text/csv", /*gzip=*/true);
  t = WaitImport(id, {"Succeeded", "Failed"});
  EXPECT_EQ(t.value("status", ""), "Succeeded") << t.dump();
  EXPECT_EQ(t.value("rows_inserted", -1), 100) << t.dump();
  EXPECT_EQ(t["request"].value("content_encoding", ""), "gzip");
  EXPECT_EQ(CountRows("zipped"), 100);
  // NDJSON.
  id = UploadOk("dataset=nd", ndjson.contents[0] + ndjson.contents[1], "application/x-ndjson");
  t = WaitImport(id, {"Succeeded", "Failed"});
  EXPECT_EQ(t.value("status", ""), "Succeeded") << t.dump();
  EXPECT_EQ(CountRows("nd"), 120);
  // The upload is not kept once the import ended.
  EXPECT_TRUE(WaitFor(
      [&] {
        return !fs::exists(fs::path(server_->data_dir()) / "imports" / "uploads" / id / "upload");
      },
      seconds(5)));
}

TEST_F(ImportTest, BadInputFailsWithDetailsAndNothingVisible) {
  ASSERT_TRUE(StartWithCopies(0, {"target"}));
  const std::string good1 = "1,a,1,1.5,2024-01-01T00:00:00Z,north";
  const std::string good2 = "2,b,2,2.5,2024-01-01T01:00:00Z,south";
  struct Case {
    std::string name;
    std::string body;
    int64_t line;
    int64_t column;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"unknown column", Csv({good1}, "id,name,qty,price,observed_at,region,colour"), 1, 7,
       "'colour' is not a field"},
      {"missing key", Csv({"a,1"}, "name,qty"), 1, 0, "key 'id'"},
      {"wrong type", Csv({good1, "3,c,many,1,2024-01-01T00:00:00Z,east", good2}), 3, 3,
       "expected an integer"},
      {"bad timestamp", Csv({good1, "3,c,1,1,yesterday,east"}), 3, 5, "RFC 3339"},
      {"duplicate key", Csv({good1, good2, "1,again,1,1,2024-01-01T00:00:00Z,west"}), 4, 0,
       "same as that of an earlier row"},
      {"short record", Csv({good1, "3,c"}), 3, 0, "fields"},
      {"open quote", Csv({good1, "3,\"unterminated,1,1,2024-01-01T00:00:00Z,east"}), 3, 2,
       "not closed"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string id = UploadOk("dataset=target", c.body);
    Json t = WaitImport(id, {"Succeeded", "Failed"});
    ASSERT_EQ(t.value("status", ""), "Failed") << t.dump();
    EXPECT_EQ(t["error"].value("code", ""), "invalid_argument") << t.dump();
    EXPECT_EQ(t["error"].value("retryable", true), false);
    ASSERT_TRUE(t["error"]["details"].is_array() && !t["error"]["details"].empty()) << t.dump();
    const Json& d = t["error"]["details"][0];
    EXPECT_EQ(d.value("file", ""), "upload") << d.dump();
    EXPECT_EQ(d.value("line", -1), c.line) << d.dump();
    EXPECT_EQ(d.value("column", -1), c.column) << d.dump();
    EXPECT_NE(d.value("message", "").find(c.message_part), std::string::npos) << d.dump();
    EXPECT_EQ(t.value("rows_inserted", Json()).is_null(), true);
    EXPECT_EQ(CountRows("target"), 0) << "a failed import left rows";
  }
  // At most 20 details.
  std::vector<std::string> bad;
  for (int i = 1; i <= 30; ++i)
    bad.push_back(std::to_string(i) + ",x,NaN?,1,2024-01-01T00:00:00Z,n");
  Json t = WaitImport(UploadOk("dataset=target", Csv(bad)), {"Succeeded", "Failed"});
  ASSERT_EQ(t.value("status", ""), "Failed");
  EXPECT_EQ(t["error"]["details"].size(), 20u) << t.dump();
  EXPECT_EQ(CountRows("target"), 0);
}

TEST_F(ImportTest, OnConflictSkipReplaceAndError) {
  ASSERT_TRUE(StartWithCopies(0, {"target"}));
  auto row = [](int id, const std::string& name) {
    return std::to_string(id) + "," + name + ",1,1.5,2024-01-01T00:00:00Z,north";
  };
  Json t =
      WaitImport(UploadOk("dataset=target", Csv({row(1, "one"), row(2, "two"), row(3, "three")})),
                 {"Succeeded", "Failed"});
  ASSERT_EQ(t.value("status", ""), "Succeeded") << t.dump();
  EXPECT_EQ(CountRows("target"), 3);

  t = WaitImport(UploadOk("dataset=target&on_conflict=skip", Csv({row(2, "TWO"), row(4, "four")})),
                 {"Succeeded", "Failed"});
  ASSERT_EQ(t.value("status", ""), "Succeeded") << t.dump();
  EXPECT_EQ(t.value("rows_inserted", -1), 1);
  EXPECT_EQ(t.value("rows_skipped", -1), 1);
  EXPECT_EQ(t.value("rows_replaced", -1), 0);
  EXPECT_EQ(QuerySql(CopyPath("target"), "SELECT name FROM items WHERE id = 2").at(0).at(0),
            Value(std::string("two")));

  t = WaitImport(
      UploadOk("dataset=target&on_conflict=replace", Csv({row(3, "THREE"), row(5, "five")})),
      {"Succeeded", "Failed"});
  ASSERT_EQ(t.value("status", ""), "Succeeded") << t.dump();
  EXPECT_EQ(t.value("rows_inserted", -1), 1);
  EXPECT_EQ(t.value("rows_skipped", -1), 0);
  EXPECT_EQ(t.value("rows_replaced", -1), 1);
  EXPECT_EQ(QuerySql(CopyPath("target"), "SELECT name FROM items WHERE id = 3").at(0).at(0),
            Value(std::string("THREE")));
  EXPECT_EQ(CountRows("target"), 5);

  // error (the default): nothing of it is published, the existing keys are named.
  t = WaitImport(UploadOk("dataset=target", Csv({row(6, "six"), row(1, "ONE")})),
                 {"Succeeded", "Failed"});
  ASSERT_EQ(t.value("status", ""), "Failed") << t.dump();
  ASSERT_EQ(t["error"]["details"].size(), 1u) << t.dump();
  EXPECT_EQ(t["error"]["details"][0].value("line", -1), 3);
  EXPECT_NE(t["error"]["details"][0].value("message", "").find("exists"), std::string::npos);
  EXPECT_EQ(CountRows("target"), 5);
  EXPECT_TRUE(QuerySql(CopyPath("target"), "SELECT 1 FROM items WHERE id = 6").empty());
}

TEST_F(ImportTest, RefusedRequests) {
  ASSERT_TRUE(StartWithCopies(10, {"target"}));
  // Not importable: 422, as for an unknown dataset.
  auto res = Upload("dataset=items", Csv({}), "text/csv");
  EXPECT_EQ(res.status, 422) << res.Describe();
  EXPECT_TRUE(IsProblem(res));
  res = api_->PostJson("/v1/imports",
                       {{"dataset", "items"}, {"from_export", "01JD0000000000000000000000"}});
  EXPECT_EQ(res.status, 422) << res.Describe();
  res = Upload("dataset=nope", Csv({}), "text/csv");
  EXPECT_EQ(res.status, 422) << res.Describe();
  // An export that does not exist, another media type, both a source and none.
  res = api_->PostJson("/v1/imports",
                       {{"dataset", "target"}, {"from_export", "01JD0000000000000000000000"}});
  EXPECT_EQ(res.status, 422) << res.Describe();
  res = Upload("dataset=target", "x", "application/xml");
  EXPECT_EQ(res.status, 415) << res.Describe();
  res = api_->PostJson("/v1/imports", {{"dataset", "target"}});
  EXPECT_EQ(res.status, 422) << res.Describe();
  res = Upload("dataset=target&on_conflict=merge", Csv({}), "text/csv");
  EXPECT_EQ(res.status, 422) << res.Describe();
  // An export is not an import, nor an import an export.
  Json e = Export("items", "csv");
  res = api_->Get("/v1/imports/" + e.value("id", ""));
  EXPECT_EQ(res.status, 404) << res.Describe();
  res = api_->Send("POST", "/v1/imports/" + e.value("id", "") + "/cancel", "", "");
  EXPECT_EQ(res.status, 404) << res.Describe();
  const std::string import_id =
      UploadOk("dataset=target", Csv({"1,a,1,1.5,2024-01-01T00:00:00Z,n"}));
  for (const char* suffix : {"", "/events"}) {
    res = api_->Get("/v1/exports/" + import_id + suffix);
    EXPECT_EQ(res.status, 404) << res.Describe();
  }
  for (const char* action : {"/pause", "/resume", "/cancel"}) {
    res = api_->Send("POST", "/v1/exports/" + import_id + action, "", "");
    EXPECT_EQ(res.status, 404) << res.Describe();
  }
  EXPECT_EQ(api_->Delete("/v1/exports/" + import_id).status, 404);
  EXPECT_EQ(WaitImport(import_id, {"Succeeded", "Failed"}).value("status", ""), "Succeeded");
  // A JSON export cannot be imported.
  Json j = Export("items", "json");
  res = api_->PostJson("/v1/imports", {{"dataset", "target"}, {"from_export", j.value("id", "")}});
  EXPECT_EQ(res.status, 422) << res.Describe();
  EXPECT_EQ(CountRows("target"), 1);
}

TEST_F(ImportTest, UploadOverItsLimitIs413) {
  ASSERT_TRUE(StartWithCopies(0, {"target"}, {{"max_import_upload_bytes", 2048}}));
  std::vector<std::string> rows;
  for (int i = 1; i <= 100; ++i)
    rows.push_back(std::to_string(i) + ",x,1,1,2024-01-01T00:00:00Z,n");
  auto res = Upload("dataset=target", Csv(rows), "text/csv");
  EXPECT_EQ(res.status, 413) << res.Describe();
  EXPECT_TRUE(api_->Get("/v1/imports").json["items"].empty());
}

// Rows of a large upload: `n` good rows.
std::string ManyRows(int n) {
  std::string out = "id,name,qty,price,observed_at,region\r\n";
  for (int i = 1; i <= n; ++i) {
    out += std::to_string(i) + ",name " + std::to_string(i) + "," + std::to_string(i % 97) +
           ",0.5,2024-01-01T00:00:00Z,north\r\n";
  }
  return out;
}

TEST_F(ImportTest, CancelWhileProcessingLeavesNothing) {
  // 30,000 rows at 5,000 rows/s: about 6 s of staging.
  ASSERT_TRUE(StartWithCopies(0, {"target"}, {{"max_rows_per_second", 5000}}));
  const std::string id = UploadOk("dataset=target", ManyRows(30000));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor(
      [&] {
        Json t = GetImport(id);
        return t.value("status", "") == "Processing" && t["progress"].value("rows", 0) > 2000;
      },
      seconds(20)))
      << GetImport(id).dump();
  auto res = api_->Send("POST", "/v1/imports/" + id + "/cancel", "", "");
  ASSERT_EQ(res.status, 202) << res.Describe();
  Json t = WaitImport(id, {"Cancelled", "Succeeded", "Failed"}, seconds(5));
  EXPECT_EQ(t.value("status", ""), "Cancelled") << t.dump();
  EXPECT_EQ(CountRows("target"), 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        return !fs::exists(fs::path(server_->data_dir()) / "imports" / "staging" / (id + ".db"));
      },
      seconds(5)));
  res = api_->Send("POST", "/v1/imports/" + id + "/cancel", "", "");
  EXPECT_EQ(res.status, 409) << res.Describe();
  auto events = api_->Get("/v1/imports/" + id + "/events");
  ASSERT_EQ(events.status, 200);
  EXPECT_FALSE(EventsOfType(events.json["items"], "cancel").empty()) << events.body;
}

TEST_F(ImportTest, KillDuringImportLeavesNothingThenEverything) {
  ASSERT_TRUE(StartWithCopies(0, {"target"}, {{"max_rows_per_second", 5000}}));
  const std::string id = UploadOk("dataset=target", ManyRows(20000));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor(
      [&] {
        Json t = GetImport(id);
        return t.value("status", "") == "Processing" && t["progress"].value("rows", 0) > 3000;
      },
      seconds(20)));
  server_->Kill();
  // The import wrote straight into the empty table in one transaction: what it left is rolled
  // back by the first connection that may write.
  EXPECT_EQ(std::get<int64_t>(
                QuerySqlWritable(CopyPath("target"), "SELECT count(*) FROM items").at(0).at(0)),
            0)
      << "rows of an unfinished import are visible";
  std::string error;
  ASSERT_TRUE(server_->Start(&error)) << error;
  Json t = WaitImport(id, {"Succeeded", "Failed", "Cancelled"}, seconds(30));
  ASSERT_EQ(t.value("status", ""), "Succeeded") << t.dump();
  EXPECT_EQ(t.value("rows_inserted", -1), 20000);
  EXPECT_EQ(t.value("recoveries", 0), 1) << t.dump();
  EXPECT_EQ(CountRows("target"), 20000);
  EXPECT_EQ(std::get<int64_t>(
                QuerySql(CopyPath("target"), "SELECT count(DISTINCT id) FROM items").at(0).at(0)),
            20000);
}

}  // namespace
}  // namespace exportd::itest
