#include "tests/integration/itest_support.h"

#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>

#include "storage/base/gzip_decoder.h"

namespace exportd::itest {
namespace {

using OJson = nlohmann::ordered_json;

std::string Printable(const std::string& s) {
  return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<int64_t> Digits(const std::string& s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Compares one exported cell given as text (CSV/TSV) with the source value.
std::optional<std::string> CompareText(const Value& want, const std::string& got, bool is_time) {
  auto mismatch = [&] { return "expected " + DescribeValue(want) + ", got " + Printable(got); };
  if (std::holds_alternative<std::monostate>(want)) {
    if (!got.empty()) return mismatch();
    return std::nullopt;
  }
  if (const auto* i = std::get_if<int64_t>(&want)) {
    if (is_time && got != std::to_string(*i)) {  // unix seconds in the source, RFC 3339 out
      auto b = ParseRfc3339Millis(got);
      if (!b || *b != *i * 1000) return mismatch() + " (compared as instants)";
      return std::nullopt;
    }
    if (got != std::to_string(*i)) return mismatch();
    return std::nullopt;
  }
  if (const auto* d = std::get_if<double>(&want)) {
    if (got.empty()) return mismatch();
    char* end = nullptr;
    double v = std::strtod(got.c_str(), &end);
    if (end != got.c_str() + got.size()) return mismatch() + " (not a number)";
    if (v != *d) return mismatch() + " (a real must survive the export exactly)";
    return std::nullopt;
  }
  const auto& s = std::get<std::string>(want);
  if (is_time) {
    auto a = ParseRfc3339Millis(s);
    auto b = ParseRfc3339Millis(got);
    if (!a || !b || *a != *b) return mismatch() + " (compared as instants)";
    return std::nullopt;
  }
  if (got != s) return mismatch();
  return std::nullopt;
}

std::optional<std::string> CompareJson(const Value& want, const OJson& got, bool is_time) {
  auto mismatch = [&] { return "expected " + DescribeValue(want) + ", got " + got.dump(); };
  if (std::holds_alternative<std::monostate>(want)) {
    if (!got.is_null()) return mismatch();
    return std::nullopt;
  }
  if (const auto* i = std::get_if<int64_t>(&want)) {
    if (is_time && got.is_string()) {  // unix seconds in the source, RFC 3339 out
      auto b = ParseRfc3339Millis(got.get<std::string>());
      if (!b || *b != *i * 1000) return mismatch() + " (compared as instants)";
      return std::nullopt;
    }
    if (got.is_number_unsigned()) {
      if (*i < 0 || got.get<uint64_t>() != static_cast<uint64_t>(*i)) return mismatch();
      return std::nullopt;
    }
    if (!got.is_number_integer() || got.get<int64_t>() != *i) return mismatch();
    return std::nullopt;
  }
  if (const auto* d = std::get_if<double>(&want)) {
    if (!got.is_number() || got.get<double>() != *d) return mismatch();
    return std::nullopt;
  }
  const auto& s = std::get<std::string>(want);
  if (!got.is_string()) return mismatch();
  if (is_time) {
    auto a = ParseRfc3339Millis(s);
    auto b = ParseRfc3339Millis(got.get<std::string>());
    if (!a || !b || *a != *b) return mismatch() + " (compared as instants)";
    return std::nullopt;
  }
  if (got.get<std::string>() != s) return mismatch();
  return std::nullopt;
}

std::string JoinFields(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + Printable(v[i]);
  return s + "]";
}

std::string StrOr(const Json& j, const char* key, const std::string& fallback = "") {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

int64_t IntOr(const Json& j, const char* key, int64_t fallback = -1) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return fallback;
  return it->get<int64_t>();
}

}  // namespace

// ---- Parsers --------------------------------------------------------------------------------

bool ParseCsv(const std::string& text, Table* rows, std::string* error) {
  rows->clear();
  const size_t n = text.size();
  size_t i = 0;
  auto fail = [&](const std::string& what) {
    *error = what + " at byte " + std::to_string(i) + " (record " +
             std::to_string(rows->size() + 1) + ")";
    return false;
  };
  while (i < n) {
    std::vector<std::string> record;
    for (;;) {
      std::string field;
      if (i < n && text[i] == '"') {
        ++i;
        for (;;) {
          if (i >= n) return fail("unterminated quoted field");
          if (text[i] == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
            } else {
              ++i;
              break;
            }
          } else {
            field += text[i++];
          }
        }
      } else {
        while (i < n && text[i] != ',' && text[i] != '\r' && text[i] != '\n') {
          if (text[i] == '"') return fail("quote inside an unquoted field");
          field += text[i++];
        }
      }
      record.push_back(std::move(field));
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      if (i + 1 < n && text[i] == '\r' && text[i + 1] == '\n') {
        i += 2;
        break;
      }
      if (i >= n) return fail("last record does not end with CRLF");
      if (text[i] == '\n') return fail("bare LF outside quotes (records must end with CRLF)");
      if (text[i] == '\r') return fail("bare CR outside quotes");
      return fail("unexpected character after a quoted field");
    }
    rows->push_back(std::move(record));
  }
  return true;
}

bool ParseTsv(const std::string& text, Table* rows, std::string* error) {
  rows->clear();
  const size_t first_lf = text.find('\n');
  const bool crlf = first_lf != std::string::npos && first_lf > 0 && text[first_lf - 1] == '\r';
  const std::string term = crlf ? "\r\n" : "\n";
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(term, pos);
    std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? text.size() : end + term.size();
    std::vector<std::string> record;
    std::string field;
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (c == '\t') {
        record.push_back(std::move(field));
        field.clear();
      } else if (c == '\\') {
        if (i + 1 >= line.size()) {
          *error = "dangling backslash in record " + std::to_string(rows->size() + 1);
          return false;
        }
        char e = line[++i];
        switch (e) {
          case 't':
            field += '\t';
            break;
          case 'n':
            field += '\n';
            break;
          case 'r':
            field += '\r';
            break;
          case '\\':
            field += '\\';
            break;
          default:
            *error = std::string("unknown escape \\") + e + " in record " +
                     std::to_string(rows->size() + 1);
            return false;
        }
      } else if (c == '\n') {
        *error = "raw LF inside record " + std::to_string(rows->size() + 1);
        return false;
      } else {
        field += c;
      }
    }
    record.push_back(std::move(field));
    rows->push_back(std::move(record));
  }
  return true;
}

bool Gunzip(const std::string& in, std::string* out, std::string* error) {
  Result<std::string> plain = GunzipAll(in, /*members=*/true);
  if (!plain.ok()) {
    *error = plain.status().message();
    return false;
  }
  *out = std::move(*plain);
  return true;
}

std::string Sha256Hex(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 15];
  }
  return hex;
}

std::optional<int64_t> ParseRfc3339Millis(const std::string& s) {
  auto y = Digits(s, 0, 4), mo = Digits(s, 5, 2), d = Digits(s, 8, 2);
  auto h = Digits(s, 11, 2), mi = Digits(s, 14, 2), se = Digits(s, 17, 2);
  if (!y || !mo || !d || !h || !mi || !se || s.size() < 20) return std::nullopt;
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  size_t i = 19;
  int64_t millis = 0;
  if (s[i] == '.') {
    ++i;
    int64_t scale = 100;
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      millis += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    auto oh = Digits(s, i + 1, 2), om = Digits(s, i + 4, 2);
    if (!oh || !om || s.size() < i + 6 || s[i + 3] != ':') return std::nullopt;
    offset_s = (*oh * 3600 + *om * 60) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const int64_t secs = DaysFromCivil(*y, *mo, *d) * 86400 + *h * 3600 + *mi * 60 + *se - offset_s;
  return secs * 1000 + millis;
}

std::optional<int64_t> UnixNowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t UnixNowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- The data validator ---------------------------------------------------------------------

std::vector<std::string> ValidateExport(const std::string& format,
                                        const std::vector<std::string>& contents,
                                        const std::vector<int64_t>& file_rows,
                                        const ExpectedExport& expected, size_t max_problems) {
  std::vector<std::string> problems;
  auto add = [&](std::string p) {
    if (problems.size() < max_problems) problems.push_back(std::move(p));
  };
  // Value mismatches are counted per field, with the first few as examples, so that one
  // systematic difference does not hide another.
  std::map<std::string, std::pair<size_t, std::vector<std::string>>> by_field;
  auto add_value = [&](const std::string& field, std::string p) {
    auto& [count, examples] = by_field[field];
    ++count;
    if (examples.size() < 3) examples.push_back(std::move(p));
  };
  std::vector<bool> is_time;
  for (const auto& f : expected.fields) is_time.push_back(expected.time_fields.count(f) > 0);

  size_t next = 0;  // index of the next expected row
  auto row_label = [&](size_t idx) {
    std::string label = "row " + std::to_string(idx + 1);
    if (idx < expected.rows.size() && !expected.fields.empty() && expected.fields[0] == "id") {
      label += " (id " + DescribeValue(expected.rows[idx][0]) + ")";
    }
    return label;
  };

  for (size_t f = 0; f < contents.size(); ++f) {
    const std::string file_label = "file " + std::to_string(f + 1);
    size_t rows_in_file = 0;
    if (format == "csv" || format == "tsv") {
      Table table;
      std::string error;
      bool ok = format == "csv" ? ParseCsv(contents[f], &table, &error)
                                : ParseTsv(contents[f], &table, &error);
      if (!ok) {
        add(file_label + ": not valid " + format + ": " + error);
        continue;
      }
      if (table.empty()) {
        add(file_label + ": no header row");
        continue;
      }
      if (table[0] != expected.fields) {
        add(file_label + ": header " + JoinFields(table[0]) + ", expected " +
            JoinFields(expected.fields));
      }
      for (size_t r = 1; r < table.size(); ++r, ++rows_in_file, ++next) {
        if (next >= expected.rows.size()) {
          add(file_label + ": extra row " + JoinFields(table[r]));
          continue;
        }
        const Row& want = expected.rows[next];
        if (table[r].size() != want.size()) {
          add(file_label + " " + row_label(next) + ": " + std::to_string(table[r].size()) +
              " fields, expected " + std::to_string(want.size()) + ": " + JoinFields(table[r]));
          continue;
        }
        for (size_t c = 0; c < want.size(); ++c) {
          if (auto m = CompareText(want[c], table[r][c], is_time[c])) {
            add_value(expected.fields[c], file_label + " " + row_label(next) + " field " +
                                              expected.fields[c] + ": " + *m);
          }
        }
      }
    } else if (format == "json" || format == "ndjson") {
      std::vector<OJson> objects;
      if (format == "json") {
        OJson doc = OJson::parse(contents[f], nullptr, false);
        if (doc.is_discarded() || !doc.is_array()) {
          add(file_label + ": not one JSON array");
          continue;
        }
        for (auto& o : doc) objects.push_back(std::move(o));
      } else {
        size_t pos = 0;
        bool bad = false;
        while (pos < contents[f].size()) {
          size_t end = contents[f].find('\n', pos);
          if (end == std::string::npos) {
            add(file_label + ": last NDJSON line has no newline");
            end = contents[f].size();
          }
          std::string line = contents[f].substr(pos, end - pos);
          pos = end + 1;
          OJson o = OJson::parse(line, nullptr, false);
          if (o.is_discarded()) {
            add(file_label + ": NDJSON line " + std::to_string(objects.size() + 1) +
                " is not JSON: " + Printable(line.substr(0, 200)));
            bad = true;
            break;
          }
          objects.push_back(std::move(o));
        }
        if (bad) continue;
      }
      for (const OJson& o : objects) {
        ++rows_in_file;
        if (next >= expected.rows.size()) {
          add(file_label + ": extra record " + o.dump());
          ++next;
          continue;
        }
        if (!o.is_object()) {
          add(file_label + " " + row_label(next) + ": not an object: " + o.dump());
          ++next;
          continue;
        }
        std::vector<std::string> keys;
        for (auto it = o.begin(); it != o.end(); ++it) keys.push_back(it.key());
        if (keys != expected.fields) {
          add(file_label + " " + row_label(next) + ": keys " + JoinFields(keys) + ", expected " +
              JoinFields(expected.fields) + " in this order");
        }
        const Row& want = expected.rows[next];
        for (size_t c = 0; c < expected.fields.size(); ++c) {
          auto it = o.find(expected.fields[c]);
          if (it == o.end()) continue;  // reported with the keys
          if (auto m = CompareJson(want[c], *it, is_time[c])) {
            add_value(expected.fields[c], file_label + " " + row_label(next) + " field " +
                                              expected.fields[c] + ": " + *m);
          }
        }
        ++next;
      }
    } else {
      add("unknown format " + format);
      return problems;
    }
    if (f < file_rows.size() && static_cast<int64_t>(rows_in_file) != file_rows[f]) {
      add(file_label + ": " + std::to_string(rows_in_file) + " data rows, but the task says " +
          std::to_string(file_rows[f]));
    }
  }
  for (const auto& [field, entry] : by_field) {
    problems.push_back("field " + field + ": " + std::to_string(entry.first) +
                       " value(s) differ, e.g.:");
    for (const auto& e : entry.second) problems.push_back("    " + e);
  }
  if (next != expected.rows.size()) {
    add("exported " + std::to_string(next) + " rows in all, expected " +
        std::to_string(expected.rows.size()));
  }
  return problems;
}

// ---- Tasks ----------------------------------------------------------------------------------

bool IsTerminal(const std::string& status) {
  return status == "Succeeded" || status == "Failed" || status == "Cancelled";
}

Json GetTask(const HttpClient& api, const std::string& id) {
  auto res = api.Get("/v1/exports/" + id);
  if (res.status != 200 || !res.json.is_object()) {
    ADD_FAILURE() << "GET task: " << res.Describe();
    return nullptr;
  }
  return res.json;
}

Json GetEvents(const HttpClient& api, const std::string& id) {
  auto res = api.Get("/v1/exports/" + id + "/events");
  if (res.status != 200 || !res.json.is_object() || !res.json.contains("items") ||
      !res.json["items"].is_array()) {
    ADD_FAILURE() << "GET events: " << res.Describe();
    return Json::array();
  }
  return res.json["items"];
}

std::vector<Json> EventsOfType(const Json& events, const std::string& type) {
  std::vector<Json> out;
  for (const auto& e : events) {
    if (e.is_object() && StrOr(e, "type") == type) out.push_back(e);
  }
  return out;
}

std::string CreateExport(const HttpClient& api, const Json& body) {
  auto res = api.PostJson("/v1/exports", body);
  if (res.status != 202) {
    ADD_FAILURE() << "create export, expected 202: " << res.Describe();
    return "";
  }
  const std::string id = StrOr(res.json, "id");
  EXPECT_FALSE(id.empty()) << res.Describe();
  EXPECT_EQ(res.Header("Location"), "/v1/exports/" + id) << res.Describe();
  return id;
}

Json WaitForStatus(const HttpClient& api, const std::string& id,
                   const std::set<std::string>& statuses, Clock::duration timeout) {
  Json task;
  std::string last_status;
  bool ended_elsewhere = false;  // reached a terminal state that was not asked for
  const bool ok = WaitFor(
      [&] {
        auto res = api.Get("/v1/exports/" + id);
        if (res.status != 200 || !res.json.is_object()) return false;
        task = res.json;
        last_status = StrOr(task, "status");
        if (statuses.count(last_status) > 0) return true;
        ended_elsewhere = IsTerminal(last_status);
        return ended_elsewhere;
      },
      timeout, milliseconds(50));
  if (!ok || ended_elsewhere) {
    std::string want;
    for (const auto& s : statuses) want += s + " ";
    ADD_FAILURE() << "task " << id << " did not reach {" << want
                  << (ended_elsewhere ? "}: it ended " + last_status : std::string("} in time"))
                  << "; last seen: " << task.dump();
  }
  return task;
}

Json WaitForTerminal(const HttpClient& api, const std::string& id, Clock::duration timeout) {
  return WaitForStatus(api, id, {"Succeeded", "Failed", "Cancelled"}, timeout);
}

bool WaitForProcessingRows(const HttpClient& api, const std::string& id, int64_t rows,
                           Clock::duration timeout) {
  const bool reached = WaitFor(
      [&] {
        Json t = GetTask(api, id);
        return t.is_object() && t.value("status", "") == "Processing" &&
               t["progress"].value("rows", int64_t{0}) >= rows;
      },
      timeout);
  if (!reached) ADD_FAILURE() << "not Processing with " << rows << " rows: " << GetTask(api, id);
  return reached;
}

std::vector<int64_t> ExportedIds(const HttpClient& api, const Json& task) {
  std::vector<int64_t> ids;
  EXPECT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  if (task.value("status", "") != "Succeeded") return ids;
  for (const std::string& csv : DownloadExport(api, task).contents) {
    Table table;
    std::string error;
    EXPECT_TRUE(ParseCsv(csv, &table, &error)) << error;
    for (size_t r = 1; r < table.size(); ++r) ids.push_back(std::stoll(table[r][0]));
  }
  return ids;
}

DownloadedExport DownloadExport(const HttpClient& api, const Json& task) {
  DownloadedExport out;
  if (!task.is_object() || !task.contains("files") || !task["files"].is_array()) {
    ADD_FAILURE() << "task has no files array: " << task.dump();
    return out;
  }
  std::string compression;
  if (task.contains("request") && task["request"].is_object()) {
    compression = StrOr(task["request"], "compression");
  }
  for (const auto& f : task["files"]) {
    const std::string name = StrOr(f, "name");
    const std::string url = StrOr(f, "url");
    auto res = api.GetUrl(url);
    EXPECT_EQ(res.status, 200) << "download " << name << ": " << res.Describe();
    EXPECT_EQ(Sha256Hex(res.body), StrOr(f, "sha256")) << "sha256 of downloaded " << name;
    EXPECT_EQ(static_cast<int64_t>(res.body.size()), IntOr(f, "bytes")) << "bytes of " << name;
    std::string content = res.body;
    if (compression == "gzip") {
      EXPECT_TRUE(res.body.size() >= 2 && static_cast<unsigned char>(res.body[0]) == 0x1f &&
                  static_cast<unsigned char>(res.body[1]) == 0x8b)
          << name << " is not gzip although compression is gzip";
      std::string error;
      EXPECT_TRUE(Gunzip(res.body, &content, &error)) << name << ": " << error;
    }
    out.names.push_back(name);
    out.raw.push_back(res.body);
    out.contents.push_back(std::move(content));
    out.rows.push_back(IntOr(f, "rows"));
  }
  // The manifest, through its own pre-signed link.
  std::string manifest_url;
  if (task.contains("links") && task["links"].is_object()) {
    manifest_url = StrOr(task["links"], "manifest");
  }
  if (manifest_url.empty()) {
    ADD_FAILURE() << "Succeeded task has no links.manifest: " << task.dump();
    return out;
  }
  auto res = api.GetUrl(manifest_url);
  EXPECT_EQ(res.status, 200) << "download manifest: " << res.Describe();
  out.manifest = res.json;
  if (!res.json.is_object() || !res.json.contains("files") || !res.json["files"].is_array()) {
    ADD_FAILURE() << "manifest has no files array: " << res.body;
    return out;
  }
  EXPECT_EQ(StrOr(res.json, "task_id", StrOr(res.json, "id")), StrOr(task, "id"))
      << "manifest task id: " << res.body;
  const Json& mfiles = res.json["files"];
  EXPECT_EQ(mfiles.size(), out.names.size()) << "manifest lists a different number of files";
  for (size_t i = 0; i < out.names.size() && i < mfiles.size(); ++i) {
    const Json& m = mfiles[i];
    EXPECT_EQ(StrOr(m, "name"), out.names[i]) << "manifest file " << i;
    EXPECT_EQ(StrOr(m, "sha256"), Sha256Hex(out.raw[i])) << "manifest sha256 of " << out.names[i];
    EXPECT_EQ(IntOr(m, "rows"), out.rows[i]) << "manifest rows of " << out.names[i];
    EXPECT_EQ(IntOr(m, "bytes"), static_cast<int64_t>(out.raw[i].size()))
        << "manifest bytes of " << out.names[i];
  }
  return out;
}

void ExpectExportMatches(const HttpClient& api, const Json& task, const ExpectedExport& expected) {
  ASSERT_TRUE(task.is_object()) << task.dump();
  ASSERT_EQ(StrOr(task, "status"), "Succeeded") << task.dump();
  DownloadedExport dl = DownloadExport(api, task);
  const std::string format = StrOr(task, "format", StrOr(task.value("request", Json()), "format"));
  auto problems = ValidateExport(format, dl.contents, dl.rows, expected);
  std::string all;
  for (const auto& p : problems) all += "  " + p + "\n";
  EXPECT_TRUE(problems.empty()) << "exported data differs from the source (" << format << ", "
                                << dl.contents.size() << " files):\n"
                                << all;
}

// ---- Problems -------------------------------------------------------------------------------

::testing::AssertionResult IsProblem(const HttpResponse& res) {
  const std::string ct = res.Header("Content-Type");
  if (ct.rfind("application/problem+json", 0) != 0) {
    return ::testing::AssertionFailure()
           << "Content-Type is not application/problem+json: " << res.Describe();
  }
  const Json& j = res.json;
  if (!j.is_object())
    return ::testing::AssertionFailure() << "body is not a JSON object: " << res.Describe();
  for (const char* key : {"type", "title", "detail"}) {
    if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty()) {
      return ::testing::AssertionFailure()
             << "problem lacks a non-empty string \"" << key << "\": " << res.Describe();
    }
  }
  if (!j.contains("status") || !j["status"].is_number_integer() ||
      j["status"].get<int>() != res.status) {
    return ::testing::AssertionFailure()
           << "problem \"status\" differs from the HTTP status: " << res.Describe();
  }
  return ::testing::AssertionSuccess();
}

// ---- Fixture --------------------------------------------------------------------------------

void ExportdTest::TearDown() {
  if (HasFailure() && server_) {
    std::cout << "\n==== test failed; exportd in " << server_->dir() << " ====\n"
              << server_->LogTail(12000) << std::endl;
  }
  server_.reset();
}

std::string ExportdTest::CreateKey(const std::string& name, const std::string& role) {
  std::vector<std::string> args = {"keys",       "create",           "--name",
                                   name,         "--config",         server_->config_path(),
                                   "--data-dir", server_->data_dir()};
  if (!role.empty()) {
    args.push_back("--role");
    args.push_back(role);
  }
  CommandResult r = server_->RunCli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return "";
  std::string key = r.out;
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  return key;
}

bool ExportdTest::StartServer(ExportdProcess::Options options) {
  server_ = std::make_unique<ExportdProcess>(std::move(options));
  std::string error;
  if (!server_->Start(&error)) {
    ADD_FAILURE() << "exportd did not start: " << error;
    return false;
  }
  api_ = std::make_unique<HttpClient>(server_->host(), server_->port(), server_->admin_key());
  return true;
}

bool ExportdTest::StartWithItems(int rows, const Json& config_extra,
                                 std::map<std::string, std::string> env, int busy_timeout_ms) {
  CreateItemsDb(source_path_, rows);
  ExportdProcess::Options options;
  options.config = {
      {"datasets", Json::array({ItemsDatasetConfig("items", source_path_, busy_timeout_ms)})}};
  for (auto it = config_extra.begin(); it != config_extra.end(); ++it) {
    options.config[it.key()] = it.value();
  }
  options.env = std::move(env);
  return StartServer(std::move(options));
}

ExpectedExport ExportdTest::ExpectedItems(const std::vector<std::string>& fields,
                                          const std::string& where) const {
  ExpectedExport e;
  e.fields = fields.empty() ? ItemsFields() : fields;
  e.rows = QueryItems(source_path_, e.fields, where);
  e.time_fields = {kItemsTimeField};
  return e;
}

}  // namespace exportd::itest
