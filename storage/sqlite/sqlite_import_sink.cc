#include "storage/sqlite/sqlite_import_sink.h"

#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <system_error>

#include "core/formats/format_writer.h"
#include "core/object_store.h"
#include "core/time_format.h"
#include "storage/sqlite/sqlite_db.h"

namespace exportd {
namespace {

constexpr std::string_view kCreatePublished =
    "CREATE TABLE IF NOT EXISTS _exportd_imports (task_id TEXT PRIMARY KEY NOT NULL,"
    " rows_inserted INTEGER NOT NULL, rows_skipped INTEGER NOT NULL,"
    " rows_replaced INTEGER NOT NULL, published_at INTEGER NOT NULL)";
constexpr std::string_view kSelectPublished =
    "SELECT rows_inserted, rows_skipped, rows_replaced FROM _exportd_imports WHERE task_id = ?1";
constexpr std::string_view kInsertPublished =
    "INSERT INTO _exportd_imports VALUES (?1, ?2, ?3, ?4, ?5)";

std::string StagingPath(const std::string& dir, const std::string& task_id) {
  return dir + "/" + task_id + ".db";
}

void RemoveStaging(const std::string& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix, ignored);
  }
}

// Records, inside the caller's transaction on the dataset's file, that task `task_id` published
// `counts`: what a rerun of the task finds (kSelectPublished) instead of publishing again. The
// statement is finalised on return, before the caller commits.
Status RecordPublished(Database& db, const std::string& task_id, const ImportCounts& counts) {
  ASSIGN_OR_RETURN(Statement record, db.Prepare(kInsertPublished));
  record.Bind(1, std::string_view(task_id))
      .Bind(2, counts.rows_inserted)
      .Bind(3, counts.rows_skipped)
      .Bind(4, counts.rows_replaced)
      .Bind(5, ToUnixMillis(std::chrono::system_clock::now()));
  return record.Run();
}

// One column of the dataset's table that an import writes.
struct TargetColumn {
  std::string name;
  int field = -1;          // index into Dataset::fields(); -1: the document column
  bool unix_time = false;  // a timestamp field stored as unix seconds (an INTEGER column)
};

bool IntegerAffinity(const std::string& declared) {
  std::string upper;
  for (char c : declared)
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return upper.find("INT") != std::string::npos;
}

void AppendDocumentValue(const ImportValue& v, std::string& out) {
  switch (v.type) {
    case ImportValue::Type::kInteger:
    case ImportValue::Type::kReal:
    case ImportValue::Type::kBool:
      out.append(v.text);
      return;
    default:
      out.push_back('"');
      AppendJsonEscaped(v.text, out);
      out.push_back('"');
      return;
  }
}

// Binds one row's values to `stmt` from parameter `first` on, one per TargetColumn. Texts are
// bound without a copy: REQUIRES `row` (and `doc`) unchanged until the statement has run.
void BindRow(Statement& stmt, int first, const Dataset& dataset,
             const std::vector<TargetColumn>& columns, std::span<const ImportValue> row,
             std::string& doc) {
  sqlite3_stmt* raw = stmt.get();
  const std::vector<Field>& fields = dataset.fields();
  for (size_t c = 0; c < columns.size(); ++c) {
    const int index = static_cast<int>(c) + first;
    const TargetColumn& col = columns[c];
    if (col.field < 0) {
      doc.clear();
      bool any = false;
      for (size_t f = 0; f < fields.size(); ++f) {
        if (!fields[f].from_document || row[f].type == ImportValue::Type::kNull) continue;
        doc.append(any ? ", " : "{");
        any = true;
        doc.push_back('"');
        AppendJsonEscaped(fields[f].name, doc);
        doc.append("\": ");
        AppendDocumentValue(row[f], doc);
      }
      if (any) {
        doc.push_back('}');
        sqlite3_bind_text64(raw, index, doc.data(), doc.size(), SQLITE_STATIC, SQLITE_UTF8);
      } else {
        sqlite3_bind_null(raw, index);
      }
      continue;
    }
    const ImportValue& v = row[static_cast<size_t>(col.field)];
    switch (v.type) {
      case ImportValue::Type::kNull:
        sqlite3_bind_null(raw, index);
        break;
      case ImportValue::Type::kInteger:
      case ImportValue::Type::kBool:
        sqlite3_bind_int64(raw, index, v.integer);
        break;
      case ImportValue::Type::kReal:
        sqlite3_bind_double(raw, index, v.real);
        break;
      case ImportValue::Type::kText:
        if (col.unix_time) {
          const std::optional<TimePoint> t = ParseRfc3339(v.text);
          sqlite3_bind_int64(raw, index,
                             std::chrono::duration_cast<std::chrono::seconds>(
                                 t.value_or(TimePoint{}).time_since_epoch())
                                 .count());
        } else {
          sqlite3_bind_text64(raw, index, v.text.data(), v.text.size(), SQLITE_STATIC, SQLITE_UTF8);
        }
        break;
    }
  }
}

Status DuplicateKey(const Dataset& dataset) {
  return Status(StatusCode::kAlreadyExists,
                "the key '" + dataset.spec().key + "' is the same as that of an earlier row");
}

class SqliteImportTarget final : public ImportTarget {
 public:
  SqliteImportTarget(const Dataset& dataset, std::string task_id, std::string staging_path,
                     int busy_timeout_ms, Database staging, Statement insert,
                     std::vector<TargetColumn> columns)
      : dataset_(dataset),
        task_id_(std::move(task_id)),
        staging_path_(std::move(staging_path)),
        busy_timeout_ms_(busy_timeout_ms),
        staging_(std::move(staging)),
        insert_(std::move(insert)),
        columns_(std::move(columns)) {}

  ~SqliteImportTarget() override {
    if (in_tx_) (void)staging_.Exec("ROLLBACK");
  }

  Status Stage(std::span<const ImportValue> row, const RowOrigin& origin) override {
    if (!in_tx_) {
      RETURN_IF_ERROR(staging_.Exec("BEGIN"));
      in_tx_ = true;
    }
    insert_.Reset();
    sqlite3_bind_int64(insert_.get(), 1, origin.file);
    sqlite3_bind_int64(insert_.get(), 2, origin.line);
    BindRow(insert_, 3, dataset_, columns_, row, doc_);
    RETURN_IF_ERROR(insert_.Run());
    if (sqlite3_changes(staging_.get()) == 0) return DuplicateKey(dataset_);
    return Status::Ok();
  }

  Status Flush() override {
    if (!in_tx_) return Status::Ok();
    in_tx_ = false;
    return staging_.Exec("COMMIT");
  }

  Result<ImportCounts> Publish(OnConflict on_conflict, size_t max_conflicts,
                               std::vector<Conflict>* conflicts) override {
    RETURN_IF_ERROR(Flush());
    const DatasetSpec& spec = dataset_.spec();
    ASSIGN_OR_RETURN(Database db,
                     Database::Open(spec.source.path, SQLITE_OPEN_READWRITE, busy_timeout_ms_));
    {
      ASSIGN_OR_RETURN(Statement attach, db.Prepare("ATTACH DATABASE ?1 AS staging"));
      attach.Bind(1, std::string_view(staging_path_));
      RETURN_IF_ERROR(attach.Run());
    }
    const std::string table = QuoteIdentifier(spec.source.table);
    const std::string key = QuoteIdentifier(spec.key);
    std::string cols;
    for (const TargetColumn& c : columns_) {
      cols += (cols.empty() ? "" : ", ") + QuoteIdentifier(c.name);
    }
    const std::string exists =
        "EXISTS (SELECT 1 FROM main." + table + " t WHERE t." + key + " = s." + key + ")";
    ImportCounts counts;
    {
      Transaction tx(db);
      RETURN_IF_ERROR(tx.status());
      RETURN_IF_ERROR(db.Exec(kCreatePublished));
      int64_t existing = 0;
      {
        ASSIGN_OR_RETURN(Statement count,
                         db.Prepare("SELECT count(*) FROM staging.rows s WHERE " + exists));
        ASSIGN_OR_RETURN(bool row, count.Step());
        if (row) existing = count.ColumnInt(0);
      }
      if (existing > 0 && on_conflict == OnConflict::kError) {
        ASSIGN_OR_RETURN(Statement list, db.Prepare("SELECT _file, _line, s." + key +
                                                    " FROM staging.rows s WHERE " + exists +
                                                    " ORDER BY s.rowid LIMIT ?1"));
        list.Bind(1, static_cast<int64_t>(max_conflicts));
        for (;;) {
          ASSIGN_OR_RETURN(bool row, list.Step());
          if (!row) break;
          conflicts->push_back(
              Conflict{RowOrigin{static_cast<int32_t>(list.ColumnInt(0)), list.ColumnInt(1)},
                       list.ColumnText(2)});
        }
        return Status(StatusCode::kAlreadyExists,
                      std::to_string(existing) + " keys of the import exist in the table");
      }
      if (on_conflict == OnConflict::kReplace && existing > 0) {
        RETURN_IF_ERROR(db.Exec("DELETE FROM main." + table + " WHERE " + key + " IN (SELECT " +
                                key + " FROM staging.rows)"));
      }
      std::string insert =
          "INSERT INTO main." + table + " (" + cols + ") SELECT " + cols + " FROM staging.rows s";
      if (on_conflict == OnConflict::kSkip) insert += " WHERE NOT " + exists;
      insert += " ORDER BY s.rowid";
      RETURN_IF_ERROR(db.Exec(insert));
      const int64_t written = sqlite3_changes64(db.get());
      if (on_conflict == OnConflict::kSkip) {
        counts.rows_inserted = written;
        counts.rows_skipped = existing;
      } else if (on_conflict == OnConflict::kReplace) {
        counts.rows_inserted = written - existing;
        counts.rows_replaced = existing;
      } else {
        counts.rows_inserted = written;
      }
      RETURN_IF_ERROR(RecordPublished(db, task_id_, counts));
      RETURN_IF_ERROR(tx.Commit());
    }
    (void)db.Exec("DETACH DATABASE staging");
    (void)Discard();
    return counts;
  }

  Status Discard() override {
    if (in_tx_) {
      (void)staging_.Exec("ROLLBACK");
      in_tx_ = false;
    }
    insert_ = Statement();
    staging_ = Database();
    RemoveStaging(staging_path_);
    return Status::Ok();
  }

 private:
  const Dataset& dataset_;
  const std::string task_id_;
  const std::string staging_path_;
  const int busy_timeout_ms_;
  Database staging_;
  Statement insert_;
  std::vector<TargetColumn> columns_;
  bool in_tx_ = false;
  std::string doc_;
};

// Writes straight into the dataset's table inside one transaction of the dataset's file, opened
// by Begin (BEGIN IMMEDIATE) and committed by Publish together with the _exportd_imports record.
// Only for a table that was empty when the transaction began, whose key the table itself keeps
// unique: nothing can conflict (no one else writes while the transaction holds the file's write
// lock), and a duplicate inside the import is the table's constraint error. A crash before the
// commit leaves the file's journal (or WAL) to roll back: nothing is visible.
class DirectImportTarget final : public ImportTarget {
 public:
  DirectImportTarget(const Dataset& dataset, std::string task_id, Database db, Statement insert,
                     std::vector<TargetColumn> columns)
      : dataset_(dataset),
        task_id_(std::move(task_id)),
        db_(std::move(db)),
        insert_(std::move(insert)),
        columns_(std::move(columns)) {}

  ~DirectImportTarget() override { (void)Discard(); }

  Status Stage(std::span<const ImportValue> row, const RowOrigin& origin) override {
    (void)origin;
    BindRow(insert_, 1, dataset_, columns_, row, doc_);
    const int rc = sqlite3_step(insert_.get());
    const int extended = sqlite3_extended_errcode(db_.get());
    sqlite3_reset(insert_.get());
    if (rc == SQLITE_DONE) {
      ++inserted_;
      return Status::Ok();
    }
    if (extended == SQLITE_CONSTRAINT_PRIMARYKEY || extended == SQLITE_CONSTRAINT_UNIQUE ||
        extended == SQLITE_CONSTRAINT_ROWID) {
      return DuplicateKey(dataset_);
    }
    return Status(
        rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_IOERR
            ? StatusCode::kUnavailable
            : StatusCode::kFailedPrecondition,
        "insert into '" + dataset_.spec().source.table + "': " + sqlite3_errmsg(db_.get()));
  }

  Status Flush() override { return Status::Ok(); }

  Result<ImportCounts> Publish(OnConflict on_conflict, size_t max_conflicts,
                               std::vector<Conflict>* conflicts) override {
    (void)on_conflict;
    (void)max_conflicts;
    (void)conflicts;
    if (!open_) return FailedPrecondition("the import's transaction has ended");
    ImportCounts counts;
    counts.rows_inserted = inserted_;
    RETURN_IF_ERROR(db_.Exec(kCreatePublished));
    RETURN_IF_ERROR(RecordPublished(db_, task_id_, counts));
    insert_ = Statement();
    RETURN_IF_ERROR(db_.Exec("COMMIT"));
    open_ = false;
    db_ = Database();
    return counts;
  }

  Status Discard() override {
    insert_ = Statement();
    if (open_) {
      open_ = false;
      (void)db_.Exec("ROLLBACK");
    }
    db_ = Database();
    return Status::Ok();
  }

 private:
  const Dataset& dataset_;
  const std::string task_id_;
  Database db_;
  Statement insert_;
  std::vector<TargetColumn> columns_;
  bool open_ = true;
  int64_t inserted_ = 0;
  std::string doc_;
};

// Whether the table keeps `key` unique by itself: it is the table's only PRIMARY KEY column, or
// the one column of a UNIQUE index that is not partial.
Result<bool> KeyIsUnique(Database& db, const std::string& table, const std::string& key) {
  {
    ASSIGN_OR_RETURN(Statement pk,
                     db.Prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0"));
    pk.Bind(1, std::string_view(table));
    std::vector<std::string> names;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, pk.Step());
      if (!row) break;
      names.push_back(pk.ColumnText(0));
    }
    if (names.size() == 1 && names[0] == key) return true;
  }
  ASSIGN_OR_RETURN(Statement indexes,
                   db.Prepare("SELECT il.name FROM pragma_index_list(?1) il WHERE il.\"unique\" = 1"
                              " AND il.partial = 0 AND (SELECT count(*) FROM"
                              " pragma_index_info(il.name)) = 1 AND (SELECT name FROM"
                              " pragma_index_info(il.name)) = ?2"));
  indexes.Bind(1, std::string_view(table)).Bind(2, std::string_view(key));
  ASSIGN_OR_RETURN(bool found, indexes.Step());
  return found;
}

// A DirectImportTarget when the table is empty, keeps the key unique and its file's write lock
// is free; else nullptr (the rows are staged).
Result<std::unique_ptr<ImportTarget>> BeginDirect(const Dataset& dataset,
                                                  const std::string& task_id,
                                                  const std::vector<TargetColumn>& columns,
                                                  int busy_timeout_ms) {
  const DatasetSpec& spec = dataset.spec();
  // No wait for the write lock: a file another writer holds is staged instead.
  ASSIGN_OR_RETURN(Database db, Database::Open(spec.source.path, SQLITE_OPEN_READWRITE, 0));
  if (!db.Exec("BEGIN IMMEDIATE").ok()) return std::unique_ptr<ImportTarget>();
  const std::string table = QuoteIdentifier(spec.source.table);
  bool empty = false;
  {
    ASSIGN_OR_RETURN(Statement any, db.Prepare("SELECT 1 FROM main." + table + " LIMIT 1"));
    ASSIGN_OR_RETURN(bool row, any.Step());
    empty = !row;
  }
  ASSIGN_OR_RETURN(bool unique, KeyIsUnique(db, spec.source.table, spec.key));
  if (!empty || !unique) {
    (void)db.Exec("ROLLBACK");
    return std::unique_ptr<ImportTarget>();
  }
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  RETURN_IF_ERROR(db.Exec("PRAGMA cache_size = -16384"));
  std::string cols;
  std::string params;
  for (size_t c = 0; c < columns.size(); ++c) {
    if (c > 0) {
      cols.append(", ");
      params.append(", ");
    }
    cols.append(QuoteIdentifier(columns[c].name));
    params.append("?").append(std::to_string(c + 1));
  }
  ASSIGN_OR_RETURN(Statement insert, db.Prepare("INSERT INTO main." + table + " (" + cols +
                                                ") VALUES (" + params + ")"));
  return std::unique_ptr<ImportTarget>(std::make_unique<DirectImportTarget>(
      dataset, task_id, std::move(db), std::move(insert), columns));
}

}  // namespace

SqliteImportSink::SqliteImportSink(std::string staging_dir, int busy_timeout_ms)
    : staging_dir_(std::move(staging_dir)), busy_timeout_ms_(busy_timeout_ms) {}

Result<std::optional<ImportCounts>> SqliteImportSink::Published(const Dataset& dataset,
                                                                const std::string& task_id) {
  // Read-write: a direct import cut short by a crash leaves a hot journal, which only a
  // connection that may write rolls back.
  ASSIGN_OR_RETURN(Database db, Database::Open(dataset.spec().source.path, SQLITE_OPEN_READWRITE,
                                               busy_timeout_ms_));
  {
    ASSIGN_OR_RETURN(Statement has, db.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                                               " AND name = '_exportd_imports'"));
    ASSIGN_OR_RETURN(bool exists, has.Step());
    if (!exists) return std::optional<ImportCounts>();
  }
  ASSIGN_OR_RETURN(Statement select, db.Prepare(kSelectPublished));
  select.Bind(1, std::string_view(task_id));
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::optional<ImportCounts>();
  return std::optional<ImportCounts>(
      ImportCounts{select.ColumnInt(0), select.ColumnInt(1), select.ColumnInt(2)});
}

Status SqliteImportSink::Recover(const Dataset& dataset) {
  if (dataset.spec().source.type != "sqlite") return Status::Ok();
  ASSIGN_OR_RETURN(Database db, Database::Open(dataset.spec().source.path, SQLITE_OPEN_READWRITE,
                                               busy_timeout_ms_));
  ASSIGN_OR_RETURN(Statement read, db.Prepare("SELECT count(*) FROM sqlite_master"));
  return read.Step().status();
}

Result<std::unique_ptr<ImportTarget>> SqliteImportSink::Begin(const Dataset& dataset,
                                                              const std::string& task_id) {
  const DatasetSpec& spec = dataset.spec();
  if (spec.source.type != "sqlite") {
    return FailedPrecondition("dataset '" + spec.name + "' is not a SQLite table");
  }
  RETURN_IF_ERROR(ValidateTaskId(task_id));
  // The declared types of the table's columns.
  std::map<std::string, std::string> declared;
  {
    ASSIGN_OR_RETURN(Database db,
                     Database::Open(spec.source.path, SQLITE_OPEN_READONLY, busy_timeout_ms_));
    ASSIGN_OR_RETURN(Statement kind, db.Prepare("SELECT type FROM sqlite_master WHERE name = ?1"));
    kind.Bind(1, std::string_view(spec.source.table));
    ASSIGN_OR_RETURN(bool found, kind.Step());
    if (!found || kind.ColumnText(0) != "table") {
      return FailedPrecondition("dataset '" + spec.name + "' reads '" + spec.source.table +
                                "', which is not a table: imports write tables only");
    }
    ASSIGN_OR_RETURN(Statement info, db.Prepare("SELECT name, type FROM pragma_table_info(?1)"));
    info.Bind(1, std::string_view(spec.source.table));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, info.Step());
      if (!row) break;
      declared[info.ColumnText(0)] = info.ColumnText(1);
    }
  }
  std::vector<TargetColumn> columns;
  const std::vector<Field>& fields = dataset.fields();
  for (size_t f = 0; f < fields.size(); ++f) {
    if (fields[f].from_document) continue;
    auto it = declared.find(fields[f].name);
    if (it == declared.end()) {
      return FailedPrecondition("dataset '" + spec.name + "': no column '" + fields[f].name +
                                "' in its table");
    }
    columns.push_back({fields[f].name, static_cast<int>(f),
                       fields[f].type == FieldType::kTimestamp && IntegerAffinity(it->second)});
  }
  if (spec.document) columns.push_back({spec.document->column, -1, false});

  ASSIGN_OR_RETURN(std::unique_ptr<ImportTarget> direct,
                   BeginDirect(dataset, task_id, columns, busy_timeout_ms_));
  if (direct) return direct;

  std::error_code ec;
  std::filesystem::create_directories(staging_dir_, ec);
  if (ec) return Status(StatusCode::kUnavailable, "create " + staging_dir_ + ": " + ec.message());
  const std::string path = StagingPath(staging_dir_, task_id);
  RemoveStaging(path);  // whatever an earlier attempt left
  ASSIGN_OR_RETURN(Database staging,
                   Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  std::string create = "CREATE TABLE rows (_file INTEGER NOT NULL, _line INTEGER NOT NULL";
  std::string insert = "INSERT OR IGNORE INTO rows VALUES (?1, ?2";
  for (size_t c = 0; c < columns.size(); ++c) {
    create += ", " + QuoteIdentifier(columns[c].name);
    if (columns[c].name == spec.key) create += " UNIQUE";
    insert += ", ?" + std::to_string(c + 3);
  }
  create += ")";
  insert += ")";
  RETURN_IF_ERROR(staging.Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;"));
  RETURN_IF_ERROR(staging.Exec(create));
  ASSIGN_OR_RETURN(Statement stmt, staging.Prepare(insert));
  return std::unique_ptr<ImportTarget>(std::make_unique<SqliteImportTarget>(
      dataset, task_id, path, busy_timeout_ms_, std::move(staging), std::move(stmt),
      std::move(columns)));
}

}  // namespace exportd
