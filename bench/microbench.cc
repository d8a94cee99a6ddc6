// Google Benchmark micro-benchmarks of the export path's hot pieces (issue 5):
//   BM_Flatten*        storage/sqlite/document_flattener.h over dense (2,897 fields) and sparse
//   (~8) docs BM_Write*          each core/formats writer over one flattened wide row and one
//   narrow row;
//                      *SparseListed: the sparse row with its set cells listed (WriteSparseRowBody)
//   BM_SqliteRead*     storage/sqlite/sqlite_source.h reading a generated table (the wide one
//   includes
//                      flattening, as in the real export), next to a bare sqlite3 scan
//   BM_StorePart*      one 64 MB file through storage/fs/local_object_store.h, hashed, with and
//                      without the encryption at rest of storage/crypto/encrypting_object_store.h
//                      (the export worker's share of the work, fsync and rename included)
// Counters: items/s = rows/s (or fields/s for the flattener), bytes/s = input or output bytes.
//
//   exportd_microbench [--benchmark_filter=REGEX] [--benchmark_repetitions=3 ...]
// The SQLite benchmarks write small tables to $EXPORTD_BENCH_DIR (default
// /tmp/exportd-bench)/micro.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_data.h"
#include "core/dataset.h"
#include "core/formats/format_writer.h"
#include "core/source.h"
#include "storage/crypto/encrypting_object_store.h"
#include "storage/crypto/master_keys.h"
#include "storage/fs/local_object_store.h"
#include "storage/fs/url_signer.h"
#include "storage/sqlite/document_flattener.h"
#include "storage/sqlite/sqlite_dataset.h"
#include "storage/sqlite/sqlite_source.h"

namespace {

using exportd::Cell;
using exportd::CellKind;
using exportd::DocumentFlattener;
namespace eb = exportd_bench;

std::vector<DocumentFlattener::Target> WideTargets(size_t first_slot) {
  std::vector<DocumentFlattener::Target> targets;
  const auto names = eb::WideFieldNames();
  for (size_t i = 0; i < names.size(); ++i) targets.push_back({names[i], first_slot + i});
  return targets;
}

std::vector<std::string> MakeDocs(bool dense, int count) {
  eb::Rng rng(dense ? 1 : 2);
  const auto names = eb::WideFieldNames();
  std::vector<std::string> docs(static_cast<size_t>(count));
  std::vector<int> picked;
  for (auto& d : docs) {
    if (dense) {
      eb::AppendDenseDocument(rng, names, d);
    } else {
      eb::AppendSparseDocument(rng, names, d, picked);
    }
  }
  return docs;
}

void Flatten(benchmark::State& state, bool dense) {
  const auto docs = MakeDocs(dense, dense ? 16 : 1024);
  DocumentFlattener flattener(WideTargets(0));
  std::vector<Cell> row(eb::kWideFields);
  size_t i = 0;
  int64_t bytes = 0;
  int64_t fields = 0;
  for (auto _ : state) {
    const std::string& doc = docs[i++ % docs.size()];
    auto s = flattener.Flatten(doc, row);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(row.data());
    bytes += static_cast<int64_t>(doc.size());
    fields += dense ? eb::kWideFields : 8;
  }
  state.SetBytesProcessed(bytes);
  state.SetItemsProcessed(fields);
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
void BM_FlattenDense(benchmark::State& state) { Flatten(state, true); }
void BM_FlattenSparse(benchmark::State& state) { Flatten(state, false); }
BENCHMARK(BM_FlattenDense);
BENCHMARK(BM_FlattenSparse);

// One flattened dense row (id, partition, ts + 2,897 fields), cells pointing into `storage`.
struct WideRow {
  std::string doc;
  std::unique_ptr<DocumentFlattener> flattener;
  std::vector<Cell> cells;
  std::vector<std::string> columns;
  std::vector<uint32_t> set_cells;  // ascending: the plain columns and the fields the doc set
};

std::unique_ptr<WideRow> MakeWideRow(bool dense) {
  auto r = std::make_unique<WideRow>();
  r->doc = MakeDocs(dense, 1)[0];
  r->flattener = std::make_unique<DocumentFlattener>(WideTargets(3));
  r->cells.resize(3 + eb::kWideFields);
  r->cells[0] = {CellKind::kNumber, "123456"};
  r->cells[1] = {CellKind::kText, "island-arcs"};
  r->cells[2] = {CellKind::kText, "2019-06-01T12:34:56Z"};
  if (!r->flattener->Flatten(r->doc, r->cells).ok()) std::abort();
  r->set_cells = {0, 1, 2};
  r->flattener->AppendSetSlots(r->set_cells);
  std::sort(r->set_cells.begin(), r->set_cells.end());
  r->columns = {"id", "partition", "ts"};
  for (const auto& n : eb::WideFieldNames()) r->columns.push_back(n);
  return r;
}

struct NarrowRow {
  std::vector<Cell> cells;
  std::vector<std::string> columns;
};

NarrowRow MakeNarrowRow() {
  NarrowRow r;
  r.cells = {{CellKind::kNumber, "123456"},
             {CellKind::kText, "north"},
             {CellKind::kText, "2019-06-01T12:34:56Z"},
             {CellKind::kNumber, "1559392496"},
             {CellKind::kText, "Smith, J. basalt"},
             {CellKind::kText, "\"quoted\" a, b, c tuff O'Neil"},
             {CellKind::kText, "L-004711"},
             {CellKind::kNumber, "734"},
             {},
             {CellKind::kNumber, "7"},
             {CellKind::kNumber, "912345678901234"},
             {CellKind::kNumber, "81234.56"},
             {CellKind::kNumber, "12.345"},
             {CellKind::kNumber, "0.123456"},
             {CellKind::kNumber, "-45.12345"},
             {CellKind::kNumber, "170.5"},
             {},
             {CellKind::kText, "QX-0042"},
             {CellKind::kText, "ok"},
             {CellKind::kText, "gneiss schist"}};
  for (int i = 0; i < 20; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "c%d", i);
    r.columns.emplace_back(name);
  }
  return r;
}

// `set_cells`: written through WriteSparseRowBody with these cells listed, as the SQLite reader
// lists them for sparse documents; otherwise WriteRow.
void WriteRows(benchmark::State& state, exportd::Format format, std::span<const Cell> cells,
               std::span<const std::string> columns,
               std::optional<std::span<const uint32_t>> set_cells = std::nullopt) {
  auto writer = exportd::MakeFormatWriter(format);
  std::string out;
  out.reserve(size_t{8} << 20);
  writer->BeginFile(columns, out);
  int64_t bytes = 0;
  for (auto _ : state) {
    if (set_cells) {
      writer->WriteSparseRowBody(cells, *set_cells, out);
    } else {
      writer->WriteRow(cells, out);
    }
    if (out.size() > (size_t{4} << 20)) {  // as the export runner: hand off and reuse the buffer
      bytes += static_cast<int64_t>(out.size());
      out.clear();
    }
  }
  bytes += static_cast<int64_t>(out.size());
  state.SetBytesProcessed(bytes);
  state.SetItemsProcessed(state.iterations());
}

void BM_WriteWideDense(benchmark::State& state) {
  static auto row = MakeWideRow(true);
  WriteRows(state, static_cast<exportd::Format>(state.range(0)), row->cells, row->columns);
}
void BM_WriteWideSparse(benchmark::State& state) {
  static auto row = MakeWideRow(false);
  WriteRows(state, static_cast<exportd::Format>(state.range(0)), row->cells, row->columns);
}
void BM_WriteWideSparseListed(benchmark::State& state) {
  static auto row = MakeWideRow(false);
  WriteRows(state, static_cast<exportd::Format>(state.range(0)), row->cells, row->columns,
            row->set_cells);
}
void BM_WriteNarrow(benchmark::State& state) {
  static auto row = MakeNarrowRow();
  WriteRows(state, static_cast<exportd::Format>(state.range(0)), row.cells, row.columns);
}
void FormatArgs(benchmark::internal::Benchmark* b) {
  b->ArgName("fmt");
  for (auto f : {exportd::Format::kCsv, exportd::Format::kTsv, exportd::Format::kJson,
                 exportd::Format::kNdjson}) {
    b->Arg(static_cast<int64_t>(f));
  }
}
BENCHMARK(BM_WriteWideDense)->Apply(FormatArgs);
BENCHMARK(BM_WriteWideSparse)->Apply(FormatArgs);
BENCHMARK(BM_WriteWideSparseListed)->Apply(FormatArgs);
BENCHMARK(BM_WriteNarrow)->Apply(FormatArgs);

// ---- SQLite reader ------------------------------------------------------------------------

std::string MicroDir() {
  const char* env = std::getenv("EXPORTD_BENCH_DIR");
  std::string dir = std::string(env && *env ? env : "/tmp/exportd-bench") + "/micro";
  std::filesystem::create_directories(dir);
  return dir;
}

void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", sql.c_str(), err ? err : "?");
    std::abort();
  }
}

// A wide dense table of `rows` rows (id, partition, ts, doc) built once per process.
std::string MakeWideTable(int rows) {
  const std::string path = MicroDir() + "/wide_" + std::to_string(rows) + ".sqlite";
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  Exec(db,
       "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
       "CREATE TABLE wide (id INTEGER PRIMARY KEY, partition TEXT, ts TEXT, doc TEXT); BEGIN");
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO wide VALUES (?, 'island-arcs', '2019-06-01T12:34:56Z', ?)",
                     -1, &ins, nullptr);
  const auto docs = MakeDocs(true, 8);
  for (int id = 1; id <= rows; ++id) {
    sqlite3_bind_int(ins, 1, id);
    const std::string& d = docs[static_cast<size_t>(id) % docs.size()];
    sqlite3_bind_text(ins, 2, d.data(), static_cast<int>(d.size()), SQLITE_STATIC);
    sqlite3_step(ins);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  Exec(db, "COMMIT");
  sqlite3_close(db);
  return path;
}

std::string MakeNarrowTable(int rows) {
  const std::string path = MicroDir() + "/narrow_" + std::to_string(rows) + ".sqlite";
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  Exec(db,
       "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
       "CREATE TABLE narrow (id INTEGER PRIMARY KEY, region TEXT, created_at TEXT, n1 INTEGER,"
       " n2 INTEGER, n3 INTEGER, r1 REAL, r2 REAL, r3 REAL, t1 TEXT, t2 TEXT, t3 TEXT,"
       " n4 INTEGER, r4 REAL, t4 TEXT, n5 INTEGER, r5 REAL, t5 TEXT, n6 INTEGER, t6 TEXT); BEGIN");
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO narrow VALUES (?1, 'north', '2019-06-01T12:34:56Z', ?1 * 7, NULL,"
                     " ?1 % 1000, ?1 / 100.0, 12.345, NULL, 'Smith, J. basalt', 'L-004711',"
                     " '\"quoted\" a, b', ?1 * 3, 0.125, 'ok', 42, -45.12345, NULL, 7, 'gneiss')",
                     -1, &ins, nullptr);
  for (int id = 1; id <= rows; ++id) {
    sqlite3_bind_int(ins, 1, id);
    sqlite3_step(ins);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  Exec(db, "COMMIT");
  sqlite3_close(db);
  return path;
}

std::shared_ptr<exportd::SqliteSource> OpenSource(const std::string& path, const std::string& table,
                                                  bool wide) {
  exportd::DatasetSpec spec;
  spec.name = table;
  spec.source.path = path;
  spec.source.table = table;
  spec.key = "id";
  if (wide) spec.document = exportd::DocumentSpec{"doc", eb::WideFieldNames()};
  auto dataset = exportd::ResolveSqliteDataset(spec);
  if (!dataset.ok()) {
    std::fprintf(stderr, "%s\n", dataset.status().ToString().c_str());
    std::abort();
  }
  auto source = exportd::SqliteSource::Open(
      std::make_shared<const exportd::Dataset>(std::move(dataset).value()));
  if (!source.ok()) std::abort();
  return std::move(source).value();
}

void SqliteRead(benchmark::State& state, const std::string& path, const std::string& table,
                bool wide) {
  auto source = OpenSource(path, table, wide);
  exportd::SourceQuery query;
  for (const auto& f : source->dataset().fields()) query.fields.push_back(f.name);
  int64_t rows = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    auto reader = source->Read(query);
    if (!reader.ok()) {
      state.SkipWithError(reader.status().ToString().c_str());
      break;
    }
    while ((*reader)->Next()) {
      for (const Cell& c : (*reader)->row()) bytes += static_cast<int64_t>(c.text.size());
      ++rows;
    }
    if (!(*reader)->status().ok()) state.SkipWithError((*reader)->status().ToString().c_str());
  }
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(bytes);  // cell text bytes handed to the writer
}

// A bare sqlite3 scan of the same table: step + column_text of every column, nothing else.
void SqliteScan(benchmark::State& state, const std::string& path, const std::string& table) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  Exec(db, "PRAGMA mmap_size = 268435456");
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, ("SELECT * FROM " + table + " ORDER BY id").c_str(), -1, &stmt, nullptr);
  int64_t rows = 0;
  int64_t bytes = 0;
  const int n = sqlite3_column_count(stmt);
  for (auto _ : state) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      for (int c = 0; c < n; ++c) {
        benchmark::DoNotOptimize(sqlite3_column_text(stmt, c));
        bytes += sqlite3_column_bytes(stmt, c);
      }
      ++rows;
    }
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(bytes);
}

constexpr int kMicroWideRows = 2000;
constexpr int kMicroNarrowRows = 100000;

const std::string& WidePath() {
  static const std::string path = MakeWideTable(kMicroWideRows);
  return path;
}
const std::string& NarrowPath() {
  static const std::string path = MakeNarrowTable(kMicroNarrowRows);
  return path;
}
void BM_SqliteReadWideDense(benchmark::State& state) {
  SqliteRead(state, WidePath(), "wide", true);
}
void BM_SqliteScanWideDense(benchmark::State& state) { SqliteScan(state, WidePath(), "wide"); }
void BM_SqliteReadNarrow(benchmark::State& state) {
  SqliteRead(state, NarrowPath(), "narrow", false);
}
void BM_SqliteScanNarrow(benchmark::State& state) { SqliteScan(state, NarrowPath(), "narrow"); }
BENCHMARK(BM_SqliteReadWideDense)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SqliteScanWideDense)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SqliteReadNarrow)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SqliteScanNarrow)->Unit(benchmark::kMillisecond);

// Writes one 64 MB object in the 1 MB blocks the part formatter hands over, then commits it.
void StorePart(benchmark::State& state, bool encrypted) {
  constexpr size_t kBlock = size_t{1} << 20;
  constexpr int kBlocks = 64;
  std::string block;
  eb::Rng rng(3);
  while (block.size() < kBlock) block += std::to_string(rng.Next() % 100000000) + ".25,";
  block.resize(kBlock);
  const std::string root = MicroDir() + "/store";
  std::filesystem::remove_all(root);
  std::unique_ptr<exportd::ObjectStore> store = std::make_unique<exportd::LocalObjectStore>(
      root, std::make_shared<exportd::UrlSigner>("bench"), "http://127.0.0.1");
  if (encrypted) {
    auto keys =
        exportd::MasterKeyRing::Parse(exportd::MasterKeyRing::NewEntry("bench"), "", "bench");
    if (!keys.ok()) {
      state.SkipWithError(keys.status().ToString().c_str());
      return;
    }
    store = std::make_unique<exportd::EncryptingObjectStore>(
        std::move(store), std::make_shared<const exportd::MasterKeyRing>(std::move(*keys)),
        exportd::EncryptionOptions{});
  }
  int64_t bytes = 0;
  for (auto _ : state) {
    auto writer = store->Create("task", "part.csv", exportd::ObjectOptions{});
    exportd::Status status = writer.status();
    for (int i = 0; status.ok() && i < kBlocks; ++i) status = (*writer)->Write(block);
    if (status.ok()) status = (*writer)->Commit().status();
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }
    bytes += static_cast<int64_t>(kBlock) * kBlocks;
  }
  state.SetBytesProcessed(bytes);
  std::filesystem::remove_all(root);
}
void BM_StorePartPlain(benchmark::State& state) { StorePart(state, false); }
void BM_StorePartEncrypted(benchmark::State& state) { StorePart(state, true); }
BENCHMARK(BM_StorePartPlain)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StorePartEncrypted)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
