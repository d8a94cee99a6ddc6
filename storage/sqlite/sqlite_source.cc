#include "storage/sqlite/sqlite_source.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/time_format.h"
#include "storage/base/base64.h"
#include "storage/sqlite/document_flattener.h"
#include "storage/sqlite/sqlite_dataset.h"
#include "storage/sqlite/sqlite_db.h"

namespace exportd {
namespace {

std::string DescribeKey(const FilterValue& key) {
  if (const auto* i = std::get_if<int64_t>(&key)) return std::to_string(*i);
  if (const auto* s = std::get_if<std::string>(&key)) return "'" + *s + "'";
  if (const auto* d = std::get_if<double>(&key)) return std::to_string(*d);
  return "NULL";
}

enum class SlotKind : uint8_t { kColumn, kBoolean, kUnixTime, kDocument };

// The dataset key in column `col` of the current row of `stmt`.
FilterValue KeyAt(sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER:
      return int64_t{sqlite3_column_int64(stmt, col)};
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, col);
    case SQLITE_NULL:
      return std::monostate{};
    default: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      return std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
    }
  }
}

// Prepares, on the reader's connection, the statement over the reader's rows after `after` (all
// of them when unset): the full row, or the key alone (`keys_only`).
using PrepareAfter = std::function<Result<Statement>(Database& db, bool keys_only,
                                                     const std::optional<FilterValue>& after)>;

class SqliteRecordReader final : public RecordReader {
 public:
  // `prepare_after` (readers of ReadShared, which hold their transaction open): Skip() reads keys
  // alone, from a statement positioned after the last row read, so rows another reader decodes
  // cost no loading of their documents; `first_after` is the query's own after_key.
  SqliteRecordReader(Database db, Statement stmt, std::string dataset_name,
                     std::vector<SlotKind> kinds, std::vector<int> columns, int key_column,
                     int document_column, std::vector<DocumentFlattener::Target> targets,
                     bool in_transaction, PrepareAfter prepare_after,
                     std::optional<FilterValue> first_after)
      : db_(std::move(db)),
        stmt_(std::move(stmt)),
        dataset_name_(std::move(dataset_name)),
        kinds_(std::move(kinds)),
        columns_(std::move(columns)),
        key_column_(key_column),
        document_column_(document_column),
        flattener_(std::move(targets)),
        cells_(kinds_.size()),
        scratch_(kinds_.size()),
        in_transaction_(in_transaction),
        prepare_after_(std::move(prepare_after)),
        anchor_(std::move(first_after)) {
    for (size_t i = 0; i < kinds_.size(); ++i) {
      if (kinds_[i] != SlotKind::kDocument) plain_slots_.push_back(static_cast<uint32_t>(i));
    }
  }

  bool Next() override {
    if (skipping_ && !Reposition(/*to_keys=*/false)) return false;
    if (!Step(stmt_)) return false;
    stepped_full_ = true;
    Status s = FillRow();
    if (s.ok()) return true;
    Stop(std::move(s));
    return false;
  }

  bool Skip() override {
    if (!prepare_after_) return Step(stmt_);
    if (!skipping_ && !Reposition(/*to_keys=*/true)) return false;
    if (!Step(keys_stmt_)) return false;
    stepped_keys_ = true;
    return true;
  }

  std::span<const Cell> row() const override { return cells_; }

  std::optional<std::span<const uint32_t>> non_null_cells() const override {
    if (!sparse_) return std::nullopt;
    return std::span<const uint32_t>(non_null_);
  }

  FilterValue key() const override { return KeyAt(stmt_.get(), key_column_); }

  Status status() const override { return status_; }

 private:
  bool Step(Statement& stmt) {
    if (done_) return false;
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_ROW) return true;
    Stop(rc == SQLITE_DONE ? Status::Ok()
                           : SqliteStatus(rc, db_.get(), "read dataset '" + dataset_name_ + "'"));
    return false;
  }

  void Stop(Status s) {
    status_ = std::move(s);
    done_ = true;
    // Release the read lock at once rather than when the reader is destroyed.
    sqlite3_reset(stmt_.get());
    sqlite3_reset(keys_stmt_.get());
    if (in_transaction_) (void)db_.Exec("COMMIT");
  }

  // Switches between reading full rows and keys alone: the statement switched to starts after
  // the last row the other one passed (both run in the one transaction, so in one snapshot).
  // A switch is one prepare and one seek; a lane switches twice per batch of its own.
  bool Reposition(bool to_keys) {
    if (done_) return false;
    if (to_keys ? stepped_full_ : stepped_keys_) {
      anchor_ = to_keys ? KeyAt(stmt_.get(), key_column_) : KeyAt(keys_stmt_.get(), 0);
    }
    Result<Statement> stmt = prepare_after_(db_, to_keys, anchor_);
    if (!stmt.ok()) {
      Stop(stmt.status().WithContext("read dataset '" + dataset_name_ + "'"));
      return false;
    }
    (to_keys ? keys_stmt_ : stmt_) = std::move(stmt).value();
    (to_keys ? stepped_keys_ : stepped_full_) = false;
    skipping_ = to_keys;
    return true;
  }

  Status FillRow() {
    sqlite3_stmt* stmt = stmt_.get();
    for (const uint32_t i : plain_slots_) {
      const int col = columns_[i];
      Cell& cell = cells_[i];
      switch (sqlite3_column_type(stmt, col)) {
        case SQLITE_NULL:
          cell = Cell{};
          break;
        case SQLITE_INTEGER:
          if (kinds_[i] == SlotKind::kBoolean) {
            cell = {CellKind::kBool, sqlite3_column_int64(stmt, col) == 0 ? "false" : "true"};
          } else if (kinds_[i] == SlotKind::kUnixTime) {
            scratch_[i] = FormatRfc3339Seconds(
                TimePoint(std::chrono::seconds(sqlite3_column_int64(stmt, col))));
            cell = {CellKind::kText, scratch_[i]};
          } else {
            // Formatted here rather than through sqlite3_column_text, which converts the value
            // to text inside SQLite and caches it there; the digits are the same.
            char buf[24];
            const auto [end, ec] =
                std::to_chars(buf, buf + sizeof buf, int64_t{sqlite3_column_int64(stmt, col)});
            scratch_[i].assign(buf, ec == std::errc() ? end : buf);
            cell = {CellKind::kNumber, scratch_[i]};
          }
          break;
        case SQLITE_FLOAT: {
          // SQLite's own text form keeps 15 significant digits, which loses data; the shortest
          // text that reads back as the same double (std::to_chars) is exact. SQLite stores
          // NaN as NULL; infinities are not JSON numbers and go out as text.
          const double value = sqlite3_column_double(stmt, col);
          if (std::isinf(value)) {
            cell = {CellKind::kText, value > 0 ? "Inf" : "-Inf"};
            break;
          }
          char buf[32];
          auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
          scratch_[i].assign(buf, ec == std::errc() ? end : buf);
          cell = {CellKind::kNumber, scratch_[i]};
          break;
        }
        case SQLITE_TEXT:
          cell = {CellKind::kText, ColumnText(stmt, col)};
          break;
        default: {  // SQLITE_BLOB
          const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(stmt, col));
          scratch_[i].clear();
          AppendBase64(std::string_view(reinterpret_cast<const char*>(data),
                                        static_cast<size_t>(sqlite3_column_bytes(stmt, col))),
                       scratch_[i]);
          cell = {CellKind::kText, scratch_[i]};
          break;
        }
      }
    }
    if (document_column_ >= 0) {
      std::string_view doc;
      if (sqlite3_column_type(stmt, document_column_) != SQLITE_NULL) {
        doc = ColumnText(stmt, document_column_);
      }
      Status s = flattener_.Flatten(doc, cells_);
      if (!s.ok()) {
        return s.WithContext("dataset '" + dataset_name_ + "', row key " + DescribeKey(key()));
      }
      // A document that set few of its fields: the writers get the cells that may be set, so
      // that they pass over the thousands of NULLs in bulk (RecordReader::non_null_cells).
      const size_t document_cells = kinds_.size() - plain_slots_.size();
      sparse_ = flattener_.cells_set() * kSparseShare <= document_cells;
      if (sparse_) {
        non_null_.assign(plain_slots_.begin(), plain_slots_.end());
        flattener_.AppendSetSlots(non_null_);
        std::sort(non_null_.begin(), non_null_.end());
      }
    }
    return Status::Ok();
  }

  static std::string_view ColumnText(sqlite3_stmt* stmt, int col) {
    // sqlite3_column_text before sqlite3_column_bytes: the length is that of the text form.
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
    const int size = sqlite3_column_bytes(stmt, col);
    return text == nullptr ? std::string_view() : std::string_view(text, static_cast<size_t>(size));
  }

  // stmt_ is declared after db_ so that it is finalized first.
  Database db_;
  Statement stmt_;
  const std::string dataset_name_;
  const std::vector<SlotKind> kinds_;
  const std::vector<int> columns_;  // result column per slot (unused for document slots)
  const int key_column_;
  const int document_column_;
  DocumentFlattener flattener_;
  std::vector<Cell> cells_;
  std::vector<std::string> scratch_;   // per slot: text built for this row (base64, time)
  std::vector<uint32_t> plain_slots_;  // the slots that are not document fields, ascending
  // Set when the current row's document set at most 1 / kSparseShare of the document's cells:
  // then non_null_ lists the plain slots and those cells, ascending.
  static constexpr size_t kSparseShare = 8;
  bool sparse_ = false;
  std::vector<uint32_t> non_null_;
  const bool in_transaction_;          // an explicit BEGIN holds the snapshot (ReadShared)
  const PrepareAfter prepare_after_;   // set for ReadShared's readers
  Statement keys_stmt_;                // Skip()'s statement once it has switched to keys
  std::optional<FilterValue> anchor_;  // the key the current statement started after
  bool skipping_ = false;              // keys_stmt_ is the current statement
  bool stepped_full_ = false;          // stmt_ has a current row
  bool stepped_keys_ = false;          // keys_stmt_ has a current row
  Status status_;
  bool done_ = false;
};

// A read-only connection for one Count() or Read().
Result<Database> OpenReadConnection(const SourceSpec& source) {
  ASSIGN_OR_RETURN(Database db,
                   Database::Open(source.path, SQLITE_OPEN_READONLY, source.busy_timeout_ms));
  // No memory map (mmap_size 0): the mapped pages of the file counted in the process's resident
  // set (VmHWM 200-290 MB on the benchmark tables) for a gain within the noise of a full scan;
  // pages read through pread stay in the kernel's page cache instead. See bench/README.md.
  (void)db.Exec("PRAGMA mmap_size = 0");
  // A scan in key order reads each page once: SQLite's default 2 MB page cache per connection
  // (two or three per export) only adds to the resident set.
  (void)db.Exec("PRAGMA cache_size = -512");
  return db;
}

// Starts a read transaction and takes its shared lock at once. In rollback-journal mode the lock
// is held until the transaction ends and no writer commits while it is held, so a connection
// that starts its transaction meanwhile sees the same snapshot.
Status BeginReadTransaction(Database& db) {
  RETURN_IF_ERROR(db.Exec("BEGIN"));
  return db.Exec("SELECT 1 FROM sqlite_schema LIMIT 1");
}

// Whether some row of the table has a NULL key. Readers that share rows position themselves after
// a key (`key > ?`), which no NULL key allows, and the order of rows with equal (NULL) keys is not
// defined, so two connections could disagree on it: such a table is read by one reader.
Result<bool> HasNullKey(Database& db, const DatasetSpec& spec) {
  ASSIGN_OR_RETURN(Statement stmt,
                   db.Prepare("SELECT 1 FROM " + QuoteIdentifier(spec.source.table) + " WHERE " +
                              QuoteIdentifier(spec.key) + " IS NULL LIMIT 1"));
  return stmt.Step();
}

// In WAL mode readers hold no lock that stops writers, so two connections may start from
// different commits (and Debian's SQLite lacks SQLITE_ENABLE_SNAPSHOT to pin one).
Result<bool> IsWal(Database& db) {
  ASSIGN_OR_RETURN(Statement stmt, db.Prepare("PRAGMA journal_mode"));
  ASSIGN_OR_RETURN(const bool row, stmt.Step());
  return row && stmt.ColumnText(0) == "wal";
}

// Whether SQLite answers `sql` by sorting every matching row first (its plan has a temporary
// B-tree for the ORDER BY): when the query is served by a secondary index (a time window or a
// filter on an indexed column) rather than read in key order.
Result<bool> PlanSortsAllRows(Database& db, const CompiledSql& sql) {
  ASSIGN_OR_RETURN(Statement plan, db.Prepare("EXPLAIN QUERY PLAN " + sql.sql));
  BindAll(plan, sql.binds);
  for (;;) {
    ASSIGN_OR_RETURN(const bool row, plan.Step());
    if (!row) return false;
    if (plan.ColumnText(3).find("TEMP B-TREE FOR ORDER BY") != std::string::npos) return true;
  }
}

// Whether SQLite answers `sql` through an index (a SEARCH ... USING ... INDEX step).
Result<bool> PlanUsesIndex(Database& db, const CompiledSql& sql) {
  ASSIGN_OR_RETURN(Statement plan, db.Prepare("EXPLAIN QUERY PLAN " + sql.sql));
  BindAll(plan, sql.binds);
  for (;;) {
    ASSIGN_OR_RETURN(const bool row, plan.Step());
    if (!row) return false;
    const std::string detail = plan.ColumnText(3);
    if (detail.rfind("SEARCH", 0) == 0 && detail.find("INDEX") != std::string::npos) return true;
  }
}

}  // namespace

Result<std::shared_ptr<SqliteSource>> SqliteSource::Open(std::shared_ptr<const Dataset> dataset) {
  const DatasetSpec& spec = dataset->spec();
  const std::string where = "dataset '" + spec.name + "'";
  SqlTableInfo table;
  if (spec.time_field) {
    auto db = Database::Open(spec.source.path, SQLITE_OPEN_READONLY, spec.source.busy_timeout_ms);
    if (!db.ok()) return db.status().WithContext(where);
    auto columns = ReadTableColumns(*db, spec.source.table);
    if (!columns.ok()) return columns.status().WithContext(where);
    bool found = false;
    for (const SqliteColumn& c : *columns) {
      if (c.name == *spec.time_field) {
        table.time_storage = TimeStorageFromDeclared(c.declared_type);
        found = true;
      }
    }
    if (!found) {
      return FailedPrecondition(where + ": time field '" + *spec.time_field + "' is not a column");
    }
  }
  return std::shared_ptr<SqliteSource>(new SqliteSource(std::move(dataset), table));
}

Status SqliteSource::CheckSchema() {
  const DatasetSpec& spec = dataset_->spec();
  const std::string where = "dataset '" + spec.name + "'";
  auto db = OpenReadConnection(spec.source);
  if (!db.ok()) return db.status().WithContext(where);
  auto columns = ReadTableColumns(*db, spec.source.table);
  if (!columns.ok()) return columns.status().WithContext(where + " (" + spec.source.path + ")");
  const auto missing = [&](const std::string& role, const std::string& name) -> Status {
    for (const SqliteColumn& c : *columns) {
      if (c.name == name) return Status::Ok();
    }
    return FailedPrecondition(where + ": " + role + " '" + name + "' is no longer a column of '" +
                              spec.source.table + "' in " + spec.source.path +
                              " (renamed or dropped since exportd started?); restore it, or "
                              "change the dataset's configuration and restart exportd");
  };
  RETURN_IF_ERROR(missing("key", spec.key));
  if (spec.time_field) RETURN_IF_ERROR(missing("time field", *spec.time_field));
  if (spec.partition_field) RETURN_IF_ERROR(missing("partition field", *spec.partition_field));
  if (spec.document) RETURN_IF_ERROR(missing("document column", spec.document->column));
  for (const Field& field : dataset_->fields()) {
    if (!field.from_document) RETURN_IF_ERROR(missing("column", field.name));
  }
  return Status::Ok();
}

Result<int64_t> SqliteSource::Count(const SourceQuery& query) {
  const DatasetSpec& spec = dataset_->spec();
  const std::string where = "count dataset '" + spec.name + "'";
  ASSIGN_OR_RETURN(CompiledSql sql, CompileCount(*dataset_, query, table_));
  auto db = OpenReadConnection(spec.source);
  if (!db.ok()) return db.status().WithContext(where);
  auto stmt = db->Prepare(sql.sql);
  if (!stmt.ok()) return stmt.status().WithContext(where);
  BindAll(*stmt, sql.binds);
  auto row = stmt->Step();
  if (!row.ok()) return row.status().WithContext(where);
  if (!*row) return Internal(where + ": COUNT(*) returned no row");
  return stmt->ColumnInt(0);
}

Result<std::vector<std::string>> SqliteSource::Partitions() {
  const std::string where = "partitions of dataset '" + dataset_->spec().name + "'";
  ASSIGN_OR_RETURN(CompiledSql probe, CompileNextPartitionProbe(*dataset_));
  auto db = OpenReadConnection(dataset_->spec().source);
  if (!db.ok()) return db.status().WithContext(where);
  Result<bool> indexed = PlanUsesIndex(*db, probe);
  if (!indexed.ok()) return indexed.status().WithContext(where);
  ASSIGN_OR_RETURN(CompiledSql sql, CompilePartitions(*dataset_, *indexed));
  auto stmt = db->Prepare(sql.sql);
  if (!stmt.ok()) return stmt.status().WithContext(where);
  std::vector<std::string> partitions;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status().WithContext(where);
    if (!*row) break;
    partitions.push_back(stmt->ColumnText(0));
  }
  // Values of other types than text can share a text form (1 and '1').
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  return partitions;
}

Result<SourceSummary> SqliteSource::Summarize(const SourceQuery& query,
                                              const std::vector<std::string>& count_distinct) {
  const std::string where = "summarise dataset '" + dataset_->spec().name + "'";
  ASSIGN_OR_RETURN(CompiledSql sql, CompileSummary(*dataset_, query, count_distinct, table_));
  auto db = OpenReadConnection(dataset_->spec().source);
  if (!db.ok()) return db.status().WithContext(where);
  auto stmt = db->Prepare(sql.sql);
  if (!stmt.ok()) return stmt.status().WithContext(where);
  BindAll(*stmt, sql.binds);
  SourceSummary summary;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status().WithContext(where);
    if (!*row) break;
    const std::string partition = stmt->ColumnText(0);
    summary.rows_by_partition[partition] = stmt->ColumnInt(1);
    for (size_t i = 0; i < count_distinct.size(); ++i) {
      summary.distinct[count_distinct[i]][partition] = stmt->ColumnInt(static_cast<int>(i) + 2);
    }
  }
  return summary;
}

Result<std::vector<FilterValue>> SqliteSource::MissingKeys(const SourceQuery& query) {
  const std::string where = "look up keys in dataset '" + dataset_->spec().name + "'";
  ASSIGN_OR_RETURN(CompiledSql sql, CompileMissingKeys(*dataset_, query, table_));
  auto db = OpenReadConnection(dataset_->spec().source);
  if (!db.ok()) return db.status().WithContext(where);
  auto stmt = db->Prepare(sql.sql);
  if (!stmt.ok()) return stmt.status().WithContext(where);
  BindAll(*stmt, sql.binds);
  std::vector<FilterValue> missing;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status().WithContext(where);
    if (!*row) break;
    missing.push_back(KeyAt(stmt->get(), 0));
  }
  return missing;
}

Result<std::unique_ptr<RecordReader>> SqliteSource::Read(const SourceQuery& query) {
  auto db = OpenReadConnection(dataset_->spec().source);
  if (!db.ok()) return db.status().WithContext("read dataset '" + dataset_->spec().name + "'");
  return MakeReader(std::move(db).value(), query, /*in_transaction=*/false);
}

Result<std::vector<std::unique_ptr<RecordReader>>> SqliteSource::ReadShared(
    const SourceQuery& query, int count) {
  const DatasetSpec& spec = dataset_->spec();
  const std::string where = "read dataset '" + spec.name + "'";
  std::vector<std::unique_ptr<RecordReader>> readers;
  const bool shared = count > 1;
  for (int i = 0; i < std::max(count, 1); ++i) {
    auto db = OpenReadConnection(spec.source);
    if (i == 0) {
      if (!db.ok()) return db.status().WithContext(where);
      if (shared) {
        if (Status s = BeginReadTransaction(*db); !s.ok()) return s.WithContext(where);
        ASSIGN_OR_RETURN(const bool wal, IsWal(*db));
        ASSIGN_OR_RETURN(const bool null_key, HasNullKey(*db, spec));
        // Shared readers reposition themselves (a new statement after a key) each time they
        // switch between skipping and reading: cheap in key order, a full sort each time when
        // the plan sorts. Such a query gets one reader, which sorts once.
        ASSIGN_OR_RETURN(CompiledSelect select, CompileSelect(*dataset_, query, table_));
        ASSIGN_OR_RETURN(const bool sorts, PlanSortsAllRows(*db, select.query));
        count = wal || null_key || sorts ? 1 : count;
      }
    } else {
      // The first reader's lock is held now. Only a writer waiting to commit (its pending lock
      // stops new readers until ours is released, which it never is meanwhile) or trouble can
      // stop this one: then the export makes do with the readers it has, at once.
      if (!db.ok()) break;
      sqlite3_busy_timeout(db->get(), 0);
      if (!BeginReadTransaction(*db).ok()) break;
      sqlite3_busy_timeout(db->get(), spec.source.busy_timeout_ms);
    }
    ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader,
                     MakeReader(std::move(db).value(), query, /*in_transaction=*/shared));
    readers.push_back(std::move(reader));
  }
  return readers;
}

Result<std::unique_ptr<RecordReader>> SqliteSource::MakeReader(Database db,
                                                               const SourceQuery& query,
                                                               bool in_transaction) {
  const DatasetSpec& spec = dataset_->spec();
  const std::string where = "read dataset '" + spec.name + "'";
  ASSIGN_OR_RETURN(CompiledSelect select, CompileSelect(*dataset_, query, table_));

  std::vector<SlotKind> kinds;
  std::vector<DocumentFlattener::Target> targets;
  for (size_t i = 0; i < query.fields.size(); ++i) {
    const Field* field = dataset_->FindField(query.fields[i]);  // known: CompileSelect checked
    if (field->from_document) {
      kinds.push_back(SlotKind::kDocument);
      bool repeated = false;
      for (const auto& t : targets) repeated = repeated || t.name == field->name;
      if (repeated) {
        return InvalidArgument("document field '" + field->name + "' is selected twice");
      }
      targets.push_back({field->name, i});
    } else if (field->type == FieldType::kBoolean) {
      kinds.push_back(SlotKind::kBoolean);
    } else if (field->type == FieldType::kTimestamp &&
               table_.time_storage == TimeStorage::kUnixSeconds) {
      kinds.push_back(SlotKind::kUnixTime);
    } else {
      kinds.push_back(SlotKind::kColumn);
    }
  }

  auto stmt = db.Prepare(select.query.sql);
  if (!stmt.ok()) return stmt.status().WithContext(where);
  BindAll(*stmt, select.query.binds);
  PrepareAfter prepare_after;
  if (in_transaction) {
    // Compiled once per kind with an after_key, whose value is the last bind (sql_query.h):
    // compiling resolves every field (thousands for a wide document), preparing does not.
    prepare_after = [dataset = dataset_, table = table_, query,
                     compiled = std::array<std::optional<CompiledSql>, 2>()](
                        Database& conn, bool keys_only,
                        const std::optional<FilterValue>& after) mutable -> Result<Statement> {
      std::optional<CompiledSql>& cached = compiled[keys_only ? 1 : 0];
      CompiledSql sql;
      if (after && cached) {
        sql = *cached;
        sql.binds.back() = *after;
      } else {
        // A copy of the query (its thousands of field names) only when compiling.
        SourceQuery positioned = query;
        positioned.after_key = after;
        if (keys_only) {
          ASSIGN_OR_RETURN(sql, CompileKeys(*dataset, positioned, table));
        } else {
          ASSIGN_OR_RETURN(CompiledSelect full, CompileSelect(*dataset, positioned, table));
          sql = std::move(full.query);
        }
      }
      if (after && !cached) cached = sql;
      ASSIGN_OR_RETURN(Statement prepared, conn.Prepare(sql.sql));
      BindAll(prepared, sql.binds);
      return prepared;
    };
  }
  return std::unique_ptr<RecordReader>(new SqliteRecordReader(
      std::move(db), std::move(stmt).value(), spec.name, std::move(kinds),
      std::move(select.field_columns), select.key_column, select.document_column,
      std::move(targets), in_transaction, std::move(prepare_after), query.after_key));
}

Result<std::shared_ptr<Source>> OpenSqliteSource(std::shared_ptr<const Dataset> dataset) {
  ASSIGN_OR_RETURN(std::shared_ptr<SqliteSource> source, SqliteSource::Open(std::move(dataset)));
  return std::shared_ptr<Source>(std::move(source));
}

}  // namespace exportd
