#include "storage/postgres_source/pg_source.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <set>
#include <utility>

#include "core/time_format.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres_source/pg_copy_stream.h"
#include "storage/sqlite/document_flattener.h"

namespace exportd {
namespace {

// Every source connection: the text forms the cell conversions read (pg_values.h), and nothing
// written by mistake.
constexpr const char* kSessionSql =
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
    "SET extra_float_digits = 1; SET bytea_output = 'hex'; SET client_encoding = 'UTF8'; "
    "SET default_transaction_read_only = on";

constexpr const char* kBeginSnapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

// The columns of a relation: name, base type, type as written, byte-order collation, NOT NULL.
constexpr const char* kColumnsSql =
    "SELECT a.attname, COALESCE(NULLIF(t.typbasetype, 0), a.atttypid)::int8, "
    "format_type(a.atttypid, a.atttypmod), "
    "COALESCE(co.collname IN ('C', 'POSIX') OR (co.collname = 'default' AND "
    "(SELECT datcollate IN ('C', 'POSIX', 'C.UTF-8', 'C.utf8') FROM pg_database "
    "WHERE datname = current_database())), false), a.attnotnull "
    "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
    "LEFT JOIN pg_collation co ON co.oid = a.attcollation "
    "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
    "ORDER BY a.attnum";

// A source's error: PgError's translation, but SQLSTATE class 42 (no such table or column, no
// privilege, a syntax error) is permanent for a source: kFailedPrecondition.
Status SourceError(std::string_view context, PGconn* conn, const PGresult* result) {
  Status s = PgError(context, conn, result);
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (state != nullptr && std::string_view(state).starts_with("42") &&
      s.code() != StatusCode::kUnavailable) {
    return Status(StatusCode::kFailedPrecondition, s.message());
  }
  return s;
}

// Runs `sql` with text parameters; text results.
Result<PgResult> Query(PgConnection& conn, const std::string& sql,
                       const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  PGresult* result = PQexecParams(conn.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0);
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Status error = SourceError("", conn.get(), result);
    PQclear(result);
    return error;
  }
  return PgResult(result);
}

Result<std::unique_ptr<PgConnection>> OpenSession(const std::string& url,
                                                  int connect_timeout_seconds = 0) {
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn,
                   PgConnection::Open(url, connect_timeout_seconds));
  RETURN_IF_ERROR(conn->ExecScript(kSessionSql));
  return conn;
}

std::string DescribeKey(const FilterValue& key) {
  if (const auto* i = std::get_if<int64_t>(&key)) return std::to_string(*i);
  if (const auto* s = std::get_if<std::string>(&key)) return "'" + *s + "'";
  return "NULL";
}

FilterValue KeyFromText(std::string_view text, bool integer) {
  if (integer) {
    int64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
  }
  return std::string(text);
}

enum class SlotKind : uint8_t {
  kNumberText,  // integers: the text as it is
  kFloat,
  kNumeric,
  kBool,
  kTimestamp,
  kUnixTime,
  kBytea,
  kText,
  kDocument,
};

SlotKind SlotKindOf(PgKind kind, bool unix_time) {
  if (unix_time) return SlotKind::kUnixTime;
  switch (kind) {
    case PgKind::kInteger:
      return SlotKind::kNumberText;
    case PgKind::kFloat:
      return SlotKind::kFloat;
    case PgKind::kNumeric:
      return SlotKind::kNumeric;
    case PgKind::kBool:
      return SlotKind::kBool;
    case PgKind::kTimestamptz:
    case PgKind::kTimestamp:
      return SlotKind::kTimestamp;
    case PgKind::kBytea:
      return SlotKind::kBytea;
    default:
      return SlotKind::kText;
  }
}

Status CopyError(PGconn* conn, const PGresult* result) { return SourceError("", conn, result); }

// Reads the rows of a COPY (SELECT ...) TO STDOUT in text format, which a PgCopyStream takes off
// the connection while this reader decodes them.
class PgCopyReader final : public RecordReader {
 public:
  PgCopyReader(std::unique_ptr<PgConnection> conn, std::string dataset_name,
               std::vector<SlotKind> kinds, std::vector<int> columns, int result_columns,
               int key_column, bool integer_key, int document_column,
               std::vector<DocumentFlattener::Target> targets)
      : conn_(std::move(conn)),
        stream_(conn_->get(), &CopyError),
        dataset_name_(std::move(dataset_name)),
        kinds_(std::move(kinds)),
        columns_(std::move(columns)),
        key_column_(key_column),
        integer_key_(integer_key),
        document_column_(document_column),
        flattener_(std::move(targets)),
        cells_(kinds_.size()),
        scratch_(kinds_.size()),
        fields_(static_cast<size_t>(result_columns)),
        unescaped_(static_cast<size_t>(result_columns)) {
    for (size_t i = 0; i < kinds_.size(); ++i) {
      if (kinds_[i] != SlotKind::kDocument) plain_slots_.push_back(static_cast<uint32_t>(i));
    }
  }

  bool Next() override {
    if (!Advance()) return false;
    Status s = FillRow();
    if (s.ok()) return true;
    Stop(std::move(s));
    return false;
  }

  bool Skip() override { return Advance(); }

  std::span<const Cell> row() const override { return cells_; }

  std::optional<std::span<const uint32_t>> non_null_cells() const override {
    if (!sparse_) return std::nullopt;
    return std::span<const uint32_t>(non_null_);
  }

  FilterValue key() const override {
    const std::optional<std::string_view>& key = fields_[static_cast<size_t>(key_column_)];
    if (!key) return std::monostate{};
    return KeyFromText(*key, integer_key_);
  }

  Status status() const override { return status_; }

 private:
  bool Advance() {
    if (done_) return false;
    const std::optional<std::string_view> line = stream_.Next();
    if (!line) {
      Status s = stream_.status();
      Stop(s.ok() ? std::move(s) : s.WithContext("read dataset '" + dataset_name_ + "'"));
      return false;
    }
    if (!SplitCopyTextRow(*line, fields_, unescaped_)) {
      Stop(Internal("read dataset '" + dataset_name_ + "': a row of " +
                    std::to_string(fields_.size()) + " columns came back with another number"));
      return false;
    }
    return true;
  }

  // The connection is this thread's again once the stream has ended well.
  void Stop(Status s) {
    status_ = std::move(s);
    done_ = true;
    if (status_.ok()) (void)conn_->ExecScript("COMMIT");
  }

  Status FillRow() {
    for (const uint32_t i : plain_slots_) {
      const std::optional<std::string_view>& field = fields_[static_cast<size_t>(columns_[i])];
      Cell& cell = cells_[i];
      if (!field) {
        cell = Cell{};
        continue;
      }
      const std::string_view text = *field;
      switch (kinds_[i]) {
        case SlotKind::kNumberText:
          cell = {CellKind::kNumber, text};
          break;
        case SlotKind::kFloat:
          cell = FloatCell(text, scratch_[i]);
          break;
        case SlotKind::kNumeric:
          cell = NumericCell(text, scratch_[i]);
          break;
        case SlotKind::kBool:
          cell = {CellKind::kBool, text == "t" ? "true" : "false"};
          break;
        case SlotKind::kTimestamp:
          scratch_[i].clear();
          AppendRfc3339FromPg(text, scratch_[i]);
          cell = {CellKind::kText, scratch_[i]};
          break;
        case SlotKind::kUnixTime: {
          int64_t seconds = 0;
          std::from_chars(text.data(), text.data() + text.size(), seconds);
          scratch_[i] = FormatRfc3339Seconds(TimePoint(std::chrono::seconds(seconds)));
          cell = {CellKind::kText, scratch_[i]};
          break;
        }
        case SlotKind::kBytea:
          scratch_[i].clear();
          cell = {CellKind::kText, AppendBase64FromByteaHex(text, scratch_[i])
                                       ? std::string_view(scratch_[i])
                                       : text};
          break;
        default:
          cell = {CellKind::kText, text};
          break;
      }
    }
    if (document_column_ >= 0) {
      const std::string_view doc =
          fields_[static_cast<size_t>(document_column_)].value_or(std::string_view());
      Status s = flattener_.Flatten(doc, cells_);
      if (!s.ok()) {
        return s.WithContext("dataset '" + dataset_name_ + "', row key " + DescribeKey(key()));
      }
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

  const std::unique_ptr<PgConnection> conn_;
  PgCopyStream stream_;  // after conn_: stopped before the connection closes
  const std::string dataset_name_;
  const std::vector<SlotKind> kinds_;
  const std::vector<int> columns_;  // result column per slot (unused for document slots)
  const int key_column_;
  const bool integer_key_;
  const int document_column_;
  DocumentFlattener flattener_;
  std::vector<Cell> cells_;
  std::vector<std::string> scratch_;         // per slot: text built for this row
  std::vector<uint32_t> plain_slots_;        // the slots that are not document fields, ascending
  static constexpr size_t kSparseShare = 8;  // as the SQLite reader
  bool sparse_ = false;
  std::vector<uint32_t> non_null_;

  std::vector<std::optional<std::string_view>> fields_;  // its columns; nullopt for NULL
  std::vector<std::string> unescaped_;                   // per column: text with escapes
  Status status_;
  bool done_ = false;
};

}  // namespace

Result<PgTableInfo> ReadPgTable(PgConnection& conn, const std::string& table) {
  PgTableInfo info;
  info.relation = QuotePgRelation(table);
  ASSIGN_OR_RETURN(PgResult rows, Query(conn, kColumnsSql, {info.relation}));
  for (int r = 0; r < rows.rows(); ++r) {
    info.columns.push_back({rows.Text(r, 0), static_cast<uint32_t>(rows.Int(r, 1)), rows.Text(r, 2),
                            rows.Text(r, 3) == "t", rows.Text(r, 4) == "t"});
  }
  if (info.columns.empty()) return FailedPrecondition("no table or view '" + table + "'");
  return info;
}

Result<Dataset> ResolvePgDataset(const DatasetSpec& spec) {
  const std::string where = "dataset '" + spec.name + "'";
  if (spec.source.type != "postgres") {
    return FailedPrecondition(where + ": source type '" + spec.source.type + "' is not postgres");
  }
  if (spec.key.empty()) return FailedPrecondition(where + ": no key field");
  auto conn = OpenSession(spec.source.url);
  if (!conn.ok()) return conn.status().WithContext(where + " (PostgreSQL source)");
  auto table = ReadPgTable(**conn, spec.source.table);
  if (!table.ok()) return table.status().WithContext(where + " (PostgreSQL source)");

  auto require = [&](const std::string& role, const std::string& name) -> Result<const PgColumn*> {
    const PgColumn* column = table->Find(name);
    if (column == nullptr) {
      return FailedPrecondition(where + ": " + role + " '" + name + "' is not a column of table '" +
                                spec.source.table + "'");
    }
    return column;
  };
  ASSIGN_OR_RETURN(const PgColumn* key, require("key", spec.key));
  if (key->kind() != PgKind::kInteger && key->kind() != PgKind::kText) {
    return FailedPrecondition(where + ": key '" + spec.key +
                              "' must be an integer or text column, not " + key->type_name);
  }
  if (spec.time_field) {
    ASSIGN_OR_RETURN(const PgColumn* time, require("time field", *spec.time_field));
    const PgKind k = time->kind();
    if (k != PgKind::kTimestamptz && k != PgKind::kTimestamp && k != PgKind::kInteger) {
      return FailedPrecondition(where + ": time field '" + *spec.time_field +
                                "' must be timestamptz, timestamp or an integer (unix seconds), "
                                "not " +
                                time->type_name);
    }
  }
  if (spec.partition_field)
    RETURN_IF_ERROR(require("partition field", *spec.partition_field).status());
  if (spec.document) {
    ASSIGN_OR_RETURN(const PgColumn* doc, require("document column", spec.document->column));
    const PgKind k = doc->kind();
    if (k != PgKind::kJson && k != PgKind::kJsonb && k != PgKind::kText) {
      return FailedPrecondition(where + ": document column '" + spec.document->column +
                                "' must be json, jsonb or text, not " + doc->type_name);
    }
  }

  std::vector<std::string> column_names = spec.columns;
  if (column_names.empty()) {
    for (const PgColumn& c : table->columns) {
      if (!spec.document || c.name != spec.document->column) column_names.push_back(c.name);
    }
  }
  std::vector<Field> fields;
  std::set<std::string, std::less<>> seen;
  for (const std::string& name : column_names) {
    ASSIGN_OR_RETURN(const PgColumn* column, require("column", name));
    if (!seen.insert(name).second) {
      return FailedPrecondition(where + ": column '" + name + "' is listed twice");
    }
    FieldType type = FieldType::kAny;
    switch (column->kind()) {
      case PgKind::kInteger:
        type = FieldType::kInteger;
        break;
      case PgKind::kFloat:
      case PgKind::kNumeric:
        type = FieldType::kReal;
        break;
      case PgKind::kText:
        type = FieldType::kText;
        break;
      case PgKind::kBool:
        type = FieldType::kBoolean;
        break;
      default:
        break;
    }
    if (spec.time_field && name == *spec.time_field) type = FieldType::kTimestamp;
    fields.push_back({name, type, false});
  }
  if (spec.document) {
    for (const std::string& name : spec.document->fields) {
      if (name.empty()) return FailedPrecondition(where + ": a document field has an empty name");
      if (table->Find(name) != nullptr) {
        return FailedPrecondition(where + ": document field '" + name +
                                  "' has the name of a column of table '" + spec.source.table +
                                  "'; rename one of them");
      }
      if (!seen.insert(name).second) {
        return FailedPrecondition(where + ": document field '" + name + "' is declared twice");
      }
      fields.push_back({name, FieldType::kAny, true});
    }
  }
  return Dataset(spec, std::move(fields));
}

Result<std::shared_ptr<PgSource>> PgSource::Open(std::shared_ptr<const Dataset> dataset) {
  const DatasetSpec& spec = dataset->spec();
  const std::string where = "dataset '" + spec.name + "' (PostgreSQL source)";
  auto conn = OpenSession(spec.source.url);
  if (!conn.ok()) return conn.status().WithContext(where);
  auto table = ReadPgTable(**conn, spec.source.table);
  if (!table.ok()) return table.status().WithContext(where);
  return std::shared_ptr<PgSource>(new PgSource(std::move(dataset), std::move(table).value()));
}

Status PgSource::CheckSchema() {
  const DatasetSpec& spec = dataset_->spec();
  const std::string where = "dataset '" + spec.name + "'";
  auto conn = OpenSession(spec.source.url);
  if (!conn.ok()) return conn.status().WithContext(where);
  auto now = ReadPgTable(**conn, spec.source.table);
  if (!now.ok()) return now.status().WithContext(where + " (" + spec.source.table + ")");
  const auto missing = [&](const std::string& role, const std::string& name) -> Status {
    if (now->Find(name) != nullptr) return Status::Ok();
    return FailedPrecondition(where + ": " + role + " '" + name + "' is no longer a column of '" +
                              spec.source.table +
                              "' (renamed or dropped since exportd started?); restore it, or "
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

Status PgSource::CheckReachable() const {
  auto conn = PgConnection::Open(dataset_->spec().source.url, /*connect_timeout_seconds=*/2);
  if (!conn.ok()) return conn.status();
  return (*conn)->ExecScript("SELECT 1");
}

Result<int64_t> PgSource::Count(const SourceQuery& query) {
  const std::string where = "count dataset '" + dataset_->spec().name + "'";
  ASSIGN_OR_RETURN(PgCompiledSql sql, PgCompileCount(*dataset_, query, table_));
  auto conn = OpenSession(dataset_->spec().source.url);
  if (!conn.ok()) return conn.status().WithContext(where);
  auto rows = Query(**conn, sql.sql, sql.params);
  if (!rows.ok()) return rows.status().WithContext(where);
  if (rows->rows() != 1) return Internal(where + ": COUNT(*) returned no row");
  return rows->Int(0, 0);
}

Result<std::vector<std::string>> PgSource::Partitions() {
  const std::string where = "partitions of dataset '" + dataset_->spec().name + "'";
  ASSIGN_OR_RETURN(PgCompiledSql sql, PgCompilePartitions(*dataset_, table_));
  auto conn = OpenSession(dataset_->spec().source.url);
  if (!conn.ok()) return conn.status().WithContext(where);
  auto rows = Query(**conn, sql.sql, sql.params);
  if (!rows.ok()) return rows.status().WithContext(where);
  std::vector<std::string> partitions;
  for (int r = 0; r < rows->rows(); ++r) partitions.push_back(rows->Text(r, 0));
  // Byte order, as the SQLite source (std::string compares bytes).
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  return partitions;
}

Result<SourceSummary> PgSource::Summarize(const SourceQuery& query,
                                          const std::vector<std::string>& count_distinct) {
  const std::string where = "summarise dataset '" + dataset_->spec().name + "'";
  ASSIGN_OR_RETURN(PgCompiledSql sql, PgCompileSummary(*dataset_, query, count_distinct, table_));
  auto conn = OpenSession(dataset_->spec().source.url);
  if (!conn.ok()) return conn.status().WithContext(where);
  auto rows = Query(**conn, sql.sql, sql.params);
  if (!rows.ok()) return rows.status().WithContext(where);
  SourceSummary summary;
  for (int r = 0; r < rows->rows(); ++r) {
    const std::string partition = rows->Text(r, 0);
    summary.rows_by_partition[partition] = rows->Int(r, 1);
    for (size_t i = 0; i < count_distinct.size(); ++i) {
      summary.distinct[count_distinct[i]][partition] = rows->Int(r, static_cast<int>(i) + 2);
    }
  }
  return summary;
}

Result<std::vector<FilterValue>> PgSource::MissingKeys(const SourceQuery& query) {
  const std::string where = "look up keys in dataset '" + dataset_->spec().name + "'";
  ASSIGN_OR_RETURN(PgCompiledSql sql, PgCompileMissingKeys(*dataset_, query, table_));
  auto conn = OpenSession(dataset_->spec().source.url);
  if (!conn.ok()) return conn.status().WithContext(where);
  auto rows = Query(**conn, sql.sql, sql.params);
  if (!rows.ok()) return rows.status().WithContext(where);
  const bool integer = table_.Find(dataset_->spec().key)->kind() == PgKind::kInteger;
  std::vector<FilterValue> missing;
  for (int r = 0; r < rows->rows(); ++r) missing.push_back(KeyFromText(rows->Text(r, 0), integer));
  return missing;
}

Result<std::unique_ptr<RecordReader>> PgSource::Read(const SourceQuery& query) {
  const std::string where = "read dataset '" + dataset_->spec().name + "'";
  auto conn = OpenSession(dataset_->spec().source.url);
  if (!conn.ok()) return conn.status().WithContext(where);
  // One transaction is one snapshot; READ ONLY lets the server skip what a writer would need.
  if (Status s = (*conn)->ExecScript("BEGIN READ ONLY"); !s.ok()) return s.WithContext(where);
  return MakeReader(std::move(conn).value(), query);
}

Result<std::vector<std::unique_ptr<RecordReader>>> PgSource::ReadShared(const SourceQuery& query,
                                                                        int count) {
  const DatasetSpec& spec = dataset_->spec();
  const std::string where = "read dataset '" + spec.name + "'";
  std::vector<std::unique_ptr<RecordReader>> readers;
  const bool documents = std::any_of(query.fields.begin(), query.fields.end(), [&](const auto& f) {
    const Field* field = dataset_->FindField(f);
    return field != nullptr && field->from_document;
  });
  if (count <= 1 || !documents || !table_.Find(spec.key)->not_null) {
    ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader, Read(query));
    readers.push_back(std::move(reader));
    return readers;
  }
  auto first = OpenSession(spec.source.url);
  if (!first.ok()) return first.status().WithContext(where);
  if (Status s = (*first)->ExecScript(kBeginSnapshot); !s.ok()) return s.WithContext(where);
  auto exported = Query(**first, "SELECT pg_export_snapshot()", {});
  if (!exported.ok()) return exported.status().WithContext(where);
  const std::string snapshot = exported->Text(0, 0);
  // The identifier is the server's ("00000003-0000001B-1"); checked before it enters SQL text
  // (SET TRANSACTION SNAPSHOT takes no parameter).
  const bool plain = !snapshot.empty() && std::all_of(snapshot.begin(), snapshot.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == '-';
  });
  std::vector<std::unique_ptr<PgConnection>> others;
  for (int i = 1; plain && i < count; ++i) {
    // A connection that cannot join: the export makes do with the readers it has.
    auto conn = OpenSession(spec.source.url);
    if (!conn.ok()) break;
    if (!(*conn)
             ->ExecScript(std::string(kBeginSnapshot) + "; SET TRANSACTION SNAPSHOT '" + snapshot +
                          "'")
             .ok()) {
      break;
    }
    others.push_back(std::move(conn).value());
  }
  ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader,
                   MakeReader(std::move(first).value(), query));
  readers.push_back(std::move(reader));
  for (std::unique_ptr<PgConnection>& conn : others) {
    ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> other, MakeReader(std::move(conn), query));
    readers.push_back(std::move(other));
  }
  return readers;
}

Result<std::unique_ptr<RecordReader>> PgSource::MakeReader(std::unique_ptr<PgConnection> conn,
                                                           const SourceQuery& query) {
  const DatasetSpec& spec = dataset_->spec();
  const std::string where = "read dataset '" + spec.name + "'";
  ASSIGN_OR_RETURN(PgCompiledSelect select,
                   PgCompileSelect(*dataset_, query, table_, PgParamStyle::kSetting));
  std::vector<SlotKind> kinds;
  std::vector<DocumentFlattener::Target> targets;
  for (size_t i = 0; i < query.fields.size(); ++i) {
    const Field* field = dataset_->FindField(query.fields[i]);  // known: compiled above
    if (field->from_document) {
      kinds.push_back(SlotKind::kDocument);
      for (const auto& t : targets) {
        if (t.name == field->name) {
          return InvalidArgument("document field '" + field->name + "' is selected twice");
        }
      }
      targets.push_back({field->name, i});
      continue;
    }
    const PgColumn* column = table_.Find(field->name);
    const bool unix_time =
        spec.time_field && field->name == *spec.time_field && column->kind() == PgKind::kInteger;
    kinds.push_back(SlotKindOf(column->kind(), unix_time));
  }
  // COPY takes no bind parameters: the values go into settings of this transaction, which the
  // compiled SELECT reads (PgParamStyle::kSetting), so no value is ever part of the SQL text.
  if (!select.query.params.empty()) {
    std::string set = "SELECT ";
    for (size_t n = 1; n <= select.query.params.size(); ++n) {
      if (n > 1) set += ", ";
      set += "set_config('" + PgParamSettingName(n) + "', $" + std::to_string(n) + ", true)";
    }
    auto done = Query(*conn, set, select.query.params);
    if (!done.ok()) return done.status().WithContext(where);
  }
  const std::string copy = "COPY (" + select.query.sql + ") TO STDOUT";
  PGresult* started = PQexec(conn->get(), copy.c_str());
  const bool copying = started != nullptr && PQresultStatus(started) == PGRES_COPY_OUT;
  const int result_columns = copying ? PQnfields(started) : 0;
  const Status error = copying ? Status::Ok() : SourceError(where, conn->get(), started);
  PQclear(started);
  if (!error.ok()) return error;
  const bool integer_key = table_.Find(spec.key)->kind() == PgKind::kInteger;
  return std::unique_ptr<RecordReader>(new PgCopyReader(
      std::move(conn), spec.name, std::move(kinds), std::move(select.field_columns), result_columns,
      select.key_column, integer_key, select.document_column, std::move(targets)));
}

Result<std::shared_ptr<Source>> OpenPgSource(std::shared_ptr<const Dataset> dataset) {
  ASSIGN_OR_RETURN(std::shared_ptr<PgSource> source, PgSource::Open(std::move(dataset)));
  return std::shared_ptr<Source>(std::move(source));
}

}  // namespace exportd
