// Shared pieces of the integration tests: file parsers (RFC 4180 CSV, TSV unescaping, gzip),
// the data validator that compares exported files with the source, task helpers with deadlines,
// and a fixture that starts exportd and prints its log when a test fails.
#ifndef EXPORTD_TESTS_INTEGRATION_ITEST_SUPPORT_H_
#define EXPORTD_TESTS_INTEGRATION_ITEST_SUPPORT_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/exportd_process.h"
#include "tests/integration/http_client.h"
#include "tests/integration/source_db.h"

namespace exportd::itest {

using Json = nlohmann::json;
using Table = std::vector<std::vector<std::string>>;

// ---- Parsers --------------------------------------------------------------------------------

// Strict RFC 4180: records end with CRLF (the last one too), quoted fields may hold commas,
// quotes ("" inside quotes), CR and LF. False with *error on any deviation.
bool ParseCsv(const std::string& text, Table* rows, std::string* error);
// Tab-separated; one record per line (LF, or CRLF if the header line ends with CRLF); inside a
// field \t \n \r \\ are unescaped.
bool ParseTsv(const std::string& text, Table* rows, std::string* error);
// Every gzip member of `in`, concatenated.
bool Gunzip(const std::string& in, std::string* out, std::string* error);
std::string Sha256Hex(const std::string& bytes);
// RFC 3339 with optional fraction and Z or +hh:mm; milliseconds since the epoch.
std::optional<int64_t> ParseRfc3339Millis(const std::string& text);
// The local wall clock. Compare a server's timestamp (milliseconds) with UnixNowMillis(), never
// with UnixNowSeconds() * 1000: the whole seconds run up to 999 ms behind the instant.
std::optional<int64_t> UnixNowSeconds();
int64_t UnixNowMillis();

// ---- The data validator ---------------------------------------------------------------------

struct ExpectedExport {
  std::vector<std::string> fields;    // the header / object keys, in order
  std::vector<Row> rows;              // in export order
  std::set<std::string> time_fields;  // compared as instants (format may differ from the source)
};

// Compares the (decompressed) contents of every file of an export, in order, with `expected`:
// header in every CSV/TSV file, keys in field order for JSON/NDJSON, per-file row counts
// (`file_rows`, from the task), total count, order and every value. Returns the problems found
// (empty: all good), at most `max_problems` of them.
std::vector<std::string> ValidateExport(const std::string& format,
                                        const std::vector<std::string>& contents,
                                        const std::vector<int64_t>& file_rows,
                                        const ExpectedExport& expected, size_t max_problems = 15);

// ---- Tasks ----------------------------------------------------------------------------------

bool IsTerminal(const std::string& status);

// GET /v1/exports/ID; the task JSON, or null on any error (with a gtest failure).
Json GetTask(const HttpClient& api, const std::string& id);
// GET /v1/exports/ID/events -> items (an array), or an empty array on error.
Json GetEvents(const HttpClient& api, const std::string& id);
// Events of `type`, in order.
std::vector<Json> EventsOfType(const Json& events, const std::string& type);

// POST /v1/exports with `body`; expects 202 + Location. Returns the task id ("" on failure, with
// gtest failures recorded).
std::string CreateExport(const HttpClient& api, const Json& body);

// Polls the task until its status is in `statuses` or `timeout` passes. Returns the last task
// seen (null if never read). Records a gtest failure on timeout.
Json WaitForStatus(const HttpClient& api, const std::string& id,
                   const std::set<std::string>& statuses, Clock::duration timeout);
Json WaitForTerminal(const HttpClient& api, const std::string& id, Clock::duration timeout);
// Polls the task until it is Processing with at least `rows` rows done. False (with a gtest
// failure) when `timeout` passes first.
bool WaitForProcessingRows(const HttpClient& api, const std::string& id, int64_t rows,
                           Clock::duration timeout);

struct DownloadedExport {
  std::vector<std::string> names;
  std::vector<std::string> raw;       // as downloaded
  std::vector<std::string> contents;  // decompressed when the task asked for gzip
  std::vector<int64_t> rows;          // files[].rows of the task
  Json manifest;
};

// Downloads every file of a Succeeded task through its pre-signed url and its manifest
// (links.manifest). Checks with gtest expectations: HTTP 200, sha256 and bytes of each file
// equal the task's files[] and the manifest's entry, gzip magic when compressed.
DownloadedExport DownloadExport(const HttpClient& api, const Json& task);

// The first column, as integers, of every data row of a Succeeded CSV task, in file order (the
// ids of an export whose first field is the key). A gtest failure, and none, for another status.
std::vector<int64_t> ExportedIds(const HttpClient& api, const Json& task);

// The common end of a flow test: the task Succeeded, download everything, validate the data.
void ExpectExportMatches(const HttpClient& api, const Json& task, const ExpectedExport& expected);

// ---- Problems -------------------------------------------------------------------------------

// Content-Type application/problem+json and a body with string type/title/detail and a status
// equal to the HTTP status.
::testing::AssertionResult IsProblem(const HttpResponse& res);

// ---- Fixture --------------------------------------------------------------------------------

class ExportdTest : public ::testing::Test {
 protected:
  // Prints the server's log tail when the test failed.
  void TearDown() override;

  // Starts exportd with `options`; sets server_ and api_ (admin key). False with a failure
  // recorded if it does not come up.
  bool StartServer(ExportdProcess::Options options);

  // Creates a source with `rows` rows at source_path() and starts exportd with the items
  // dataset (named "items") plus `config_extra` merged into the config's top level.
  bool StartWithItems(int rows, const Json& config_extra = Json::object(),
                      std::map<std::string, std::string> env = {}, int busy_timeout_ms = 5000);

  // `exportd keys create --name NAME [--role ROLE]` on the running server's data dir: the
  // secret ("" with a failure recorded if the command fails).
  std::string CreateKey(const std::string& name, const std::string& role = "");
  const std::string& source_path() const { return source_path_; }
  ExpectedExport ExpectedItems(const std::vector<std::string>& fields = {},
                               const std::string& where = "") const;

  TempDir source_dir_;
  std::string source_path_ = source_dir_.path() + "/items.sqlite";
  std::unique_ptr<ExportdProcess> server_;
  std::unique_ptr<HttpClient> api_;
};

}  // namespace exportd::itest

#endif  // EXPORTD_TESTS_INTEGRATION_ITEST_SUPPORT_H_
