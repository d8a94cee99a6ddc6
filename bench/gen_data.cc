// Deterministic data generators for the export benchmarks (issue 5).
//
//   exportd_bench_gen wide-dense  [--dir DIR] [--rows N]   default 40,000 rows
//   exportd_bench_gen wide-sparse [--dir DIR] [--rows N]   default 40,000 rows
//   exportd_bench_gen narrow      [--dir DIR] [--rows N]   default 1,000,000 rows
//
// Each writes DIR/<name>.sqlite (table <name>) and DIR/<name>.config.json (an exportd config
// with that one dataset; the wide ones also DIR/wide_fields.txt, one declared field per line,
// referenced by document.fields_file). DIR defaults to $EXPORTD_BENCH_DIR or /tmp/exportd-bench.
// Same arguments, same bytes: a fixed-seed PRNG, no clock, no locale.
//
// wide_dense / wide_sparse: id INTEGER PRIMARY KEY, partition TEXT, ts TEXT (RFC 3339 UTC),
//   doc TEXT (one JSON object over the declared numeric fields f0000..f2896).
//   dense: every field set, in declared order; values are decimals of 1-5 significant digits
//   over several magnitudes (as lab analyses are), ~1% strings such as "<0.05, n.d." or
//   "12.1 \"est\"" that need CSV quoting.
//   sparse: 4..12 fields per record (about 8), random fields in random order.
// narrow: id + 19 typed columns (text with commas and quotes, integers, reals, NULLs, RFC 3339
//   timestamps in text and unix seconds in an INTEGER column).
#include <sqlite3.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_data.h"

namespace {

using namespace exportd_bench;

void Die(const std::string& what, sqlite3* db = nullptr) {
  std::fprintf(stderr, "exportd_bench_gen: %s%s%s\n", what.c_str(), db ? ": " : "",
               db ? sqlite3_errmsg(db) : "");
  std::exit(1);
}

void Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = std::string(sql) + ": " + (err ? err : "?");
    sqlite3_free(err);
    Die(msg);
  }
}

sqlite3* CreateDb(const std::string& path) {
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("open " + path, db);
  Exec(db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA page_size = 4096;");
  return db;
}

sqlite3_stmt* Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) Die(sql, db);
  return stmt;
}

void Step(sqlite3* db, sqlite3_stmt* stmt) {
  if (sqlite3_step(stmt) != SQLITE_DONE) Die("insert", db);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
}

void BindText(sqlite3_stmt* stmt, int i, std::string_view s) {
  sqlite3_bind_text(stmt, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

std::string Rfc3339(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

constexpr int64_t kFirstSecond = 1262304000;  // 2010-01-01
constexpr int64_t kLastSecond = 1735689599;   // 2024-12-31
const char* const kPartitions[] = {"island-arcs", "mid-ocean-ridges",  "cratons",
                                   "ophiolites",  "continental-rifts", "hotspots"};

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) Die("write " + path);
}

std::string DatasetConfig(const std::string& name, const std::string& document_json) {
  std::string c = "{\n  \"datasets\": [\n    { \"name\": \"" + name +
                  "\",\n      \"source\": { \"type\": \"sqlite\", \"path\": \"" + name +
                  ".sqlite\", \"table\": \"" + name + "\" },\n";
  if (!document_json.empty()) {
    c += "      \"key\": \"id\", \"time_field\": \"ts\", \"partition_field\": \"partition\",\n";
    c += "      \"document\": " + document_json + " }\n";
  } else {
    c += "      \"key\": \"id\", \"time_field\": \"created_at\", \"partition_field\": \"region\" "
         "}\n";
  }
  c += "  ]\n}\n";
  return c;
}

void GenerateWide(const std::string& dir, const std::string& name, bool dense, int64_t rows) {
  std::vector<std::string> names;
  std::string fields_txt;
  for (int i = 0; i < kWideFields; ++i) {
    names.push_back(FieldName(i));
    fields_txt += names.back() + "\n";
  }
  WriteFile(dir + "/wide_fields.txt", fields_txt);
  const std::string path = dir + "/" + name + ".sqlite";
  sqlite3* db = CreateDb(path);
  Exec(db, ("CREATE TABLE " + name +
            " (id INTEGER PRIMARY KEY, partition TEXT NOT NULL, ts TEXT NOT NULL, doc TEXT)")
               .c_str());
  Exec(db, "BEGIN");
  sqlite3_stmt* insert = Prepare(db, ("INSERT INTO " + name + " VALUES (?, ?, ?, ?)").c_str());
  Rng rng(dense ? 0xD15EA5E5ull : 0x5A125Eull);
  std::string doc;
  std::vector<int> picked;
  for (int64_t id = 1; id <= rows; ++id) {
    sqlite3_bind_int64(insert, 1, id);
    BindText(insert, 2, kPartitions[rng.Uniform(0, 5)]);
    BindText(insert, 3, Rfc3339(rng.Uniform(kFirstSecond, kLastSecond)));
    if (dense) {
      AppendDenseDocument(rng, names, doc);
    } else {
      AppendSparseDocument(rng, names, doc, picked);
    }
    BindText(insert, 4, doc);
    Step(db, insert);
  }
  sqlite3_finalize(insert);
  Exec(db, "COMMIT");
  sqlite3_close(db);
  WriteFile(dir + "/" + name + ".config.json",
            DatasetConfig(name, "{ \"column\": \"doc\", \"fields_file\": \"wide_fields.txt\" }"));
}

const char* const kWords[] = {"basalt",  "andesite",   "granite",  "Smith, J.",
                              "O'Neil",  "\"quoted\"", "rhyolite", "gabbro",
                              "a, b, c", "tuff",       "schist",   "gneiss"};
const char* const kRegions[] = {"north", "south", "east", "west", "central"};

void AppendWords(Rng& rng, int n, std::string& out) {
  out.clear();
  for (int i = 0; i < n; ++i) {
    if (i != 0) out.push_back(' ');
    out.append(kWords[rng.Uniform(0, 11)]);
  }
}

void GenerateNarrow(const std::string& dir, int64_t rows) {
  const std::string name = "narrow";
  const std::string path = dir + "/" + name + ".sqlite";
  sqlite3* db = CreateDb(path);
  Exec(db,
       "CREATE TABLE narrow ("
       " id INTEGER PRIMARY KEY,"
       " region TEXT NOT NULL,"
       " created_at TEXT NOT NULL,"
       " updated_unix INTEGER,"
       " name TEXT,"
       " note TEXT,"
       " label TEXT,"
       " qty INTEGER,"
       " count_a INTEGER,"
       " count_b INTEGER,"
       " big INTEGER,"
       " amount REAL,"
       " price REAL,"
       " ratio REAL,"
       " lat REAL,"
       " lon REAL,"
       " score REAL,"
       " code TEXT,"
       " status TEXT,"
       " comment TEXT)");
  Exec(db, "BEGIN");
  sqlite3_stmt* insert =
      Prepare(db, "INSERT INTO narrow VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  Rng rng(0x0A22011ull);
  std::string text;
  char buf[64];
  for (int64_t id = 1; id <= rows; ++id) {
    sqlite3_bind_int64(insert, 1, id);
    BindText(insert, 2, kRegions[rng.Uniform(0, 4)]);
    const int64_t t = rng.Uniform(kFirstSecond, kLastSecond);
    BindText(insert, 3, Rfc3339(t));
    if (!rng.Percent(5)) sqlite3_bind_int64(insert, 4, t + rng.Uniform(0, 86400 * 30));
    AppendWords(rng, static_cast<int>(rng.Uniform(1, 3)), text);
    BindText(insert, 5, text);
    if (!rng.Percent(10)) {
      AppendWords(rng, static_cast<int>(rng.Uniform(2, 6)), text);
      BindText(insert, 6, text);
    }
    std::snprintf(buf, sizeof buf, "L-%06" PRId64, rng.Uniform(0, 999999));
    BindText(insert, 7, buf);
    sqlite3_bind_int64(insert, 8, rng.Uniform(0, 1000));
    if (!rng.Percent(5)) sqlite3_bind_int64(insert, 9, rng.Uniform(-50000, 50000));
    sqlite3_bind_int64(insert, 10, rng.Uniform(0, 9));
    sqlite3_bind_int64(insert, 11, rng.Uniform(0, int64_t{1} << 50));
    sqlite3_bind_double(insert, 12, static_cast<double>(rng.Uniform(0, 10000000)) / 100.0);
    sqlite3_bind_double(insert, 13, static_cast<double>(rng.Uniform(1, 99999)) / 1000.0);
    if (!rng.Percent(5)) {
      sqlite3_bind_double(insert, 14, static_cast<double>(rng.Uniform(0, 1000000)) / 1000000.0);
    }
    sqlite3_bind_double(insert, 15, static_cast<double>(rng.Uniform(-9000000, 9000000)) / 100000.0);
    sqlite3_bind_double(insert, 16,
                        static_cast<double>(rng.Uniform(-18000000, 18000000)) / 100000.0);
    if (!rng.Percent(10))
      sqlite3_bind_double(insert, 17, static_cast<double>(rng.Uniform(0, 1000)) / 10.0);
    std::snprintf(buf, sizeof buf, "%c%c-%04" PRId64, static_cast<char>('A' + rng.Uniform(0, 25)),
                  static_cast<char>('A' + rng.Uniform(0, 25)), rng.Uniform(0, 9999));
    BindText(insert, 18, buf);
    BindText(insert, 19, rng.Percent(90) ? "ok" : "needs \"review\"");
    if (rng.Percent(30)) {
      AppendWords(rng, static_cast<int>(rng.Uniform(1, 4)), text);
      BindText(insert, 20, text);
    }
    Step(db, insert);
  }
  sqlite3_finalize(insert);
  Exec(db, "COMMIT");
  sqlite3_close(db);
  WriteFile(dir + "/narrow.config.json", DatasetConfig(name, ""));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s wide-dense|wide-sparse|narrow [--dir DIR] [--rows N]\n",
                 argv[0]);
    return 2;
  }
  const std::string what = argv[1];
  const char* env_dir = std::getenv("EXPORTD_BENCH_DIR");
  std::string dir = env_dir && *env_dir ? env_dir : "/tmp/exportd-bench";
  int64_t rows = what == "narrow" ? 1000000 : 40000;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--rows" && i + 1 < argc) {
      rows = std::strtoll(argv[++i], nullptr, 10);
    } else {
      Die("unknown argument " + arg);
    }
  }
  std::filesystem::create_directories(dir);
  if (what == "wide-dense") {
    GenerateWide(dir, "wide_dense", true, rows);
  } else if (what == "wide-sparse") {
    GenerateWide(dir, "wide_sparse", false, rows);
  } else if (what == "narrow") {
    GenerateNarrow(dir, rows);
  } else {
    Die("unknown generator " + what);
  }
  return 0;
}
