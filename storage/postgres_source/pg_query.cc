#include "storage/postgres_source/pg_query.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <map>
#include <utility>
#include <variant>

#include "core/text.h"
#include "core/time_format.h"

namespace exportd {
namespace {

// Appends SQL text and parameters in step, so that parameter numbers always follow the text.
class SqlWriter {
 public:
  explicit SqlWriter(PgParamStyle style = PgParamStyle::kBound) : style_(style) {}
  SqlWriter& operator<<(std::string_view text) {
    sql_ += text;
    return *this;
  }
  // "$n::cast", or "current_setting('exportd.pn')::cast" (no cast when `cast` is empty).
  SqlWriter& Param(std::string value, std::string_view cast) {
    params_.push_back(std::move(value));
    if (style_ == PgParamStyle::kBound) {
      sql_.append("$").append(std::to_string(params_.size()));
    } else {
      sql_.append("current_setting('").append(PgParamSettingName(params_.size())).append("')");
    }
    if (!cast.empty()) sql_.append("::").append(cast);
    return *this;
  }
  PgCompiledSql Finish() && { return {std::move(sql_), std::move(params_)}; }

 private:
  const PgParamStyle style_;
  std::string sql_;
  std::vector<std::string> params_;
};

std::string DoubleText(double d) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, ec == std::errc() ? end : buf);
}

// A value as text, the way SQLite turns a bound value into text for a TEXT column (booleans
// bind as 0/1 there).
std::string ValueText(const FilterValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return DoubleText(*d);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "1" : "0";
  return "";
}

bool IsNumericKind(PgKind k) {
  return k == PgKind::kInteger || k == PgKind::kFloat || k == PgKind::kNumeric;
}

bool IsRange(FilterOp op) {
  return op == FilterOp::kGt || op == FilterOp::kGte || op == FilterOp::kLt || op == FilterOp::kLte;
}

std::string_view OpText(FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
      return " = ";
    case FilterOp::kNe:
      return " IS DISTINCT FROM ";
    case FilterOp::kGt:
      return " > ";
    case FilterOp::kGte:
      return " >= ";
    case FilterOp::kLt:
      return " < ";
    case FilterOp::kLte:
      return " <= ";
    default:
      return " = ";
  }
}

Result<TimePoint> ToTimePoint(const FilterValue& value, const std::string& field) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    if (auto t = ParseRfc3339(*s)) return *t;
    return InvalidArgument("'" + *s + "' is not an RFC 3339 timestamp (field '" + field + "')");
  }
  if (const auto* i = std::get_if<int64_t>(&value)) return TimePoint(std::chrono::seconds(*i));
  if (const auto* d = std::get_if<double>(&value)) {
    if (!std::isfinite(*d) || std::fabs(*d) > 1e11) {
      return InvalidArgument("timestamp value out of range (field '" + field + "')");
    }
    return TimePoint(
        std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(*d)));
  }
  return InvalidArgument("field '" + field + "' is compared with a timestamp, not a " +
                         (std::holds_alternative<bool>(value) ? "boolean" : "null"));
}

std::pair<int64_t, int64_t> FloorCeilSeconds(TimePoint t) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  const int64_t floor = std::chrono::floor<std::chrono::seconds>(ns).count();
  const int64_t ceil = std::chrono::ceil<std::chrono::seconds>(ns).count();
  return {floor, ceil};
}

// The smallest UTF-8 text greater than every text that starts with `prefix`, in byte order (the
// order of code points): the prefix with its last code point incremented (a code point that has
// no successor is dropped first). "" when there is none. PostgreSQL refuses text that is not
// UTF-8, so SQLite's byte successor ("\xc3\xbf" -> "\xc3\xc0") will not do.
std::string Utf8Successor(std::string_view prefix) {
  std::vector<uint32_t> points;
  for (size_t i = 0; i < prefix.size();) {
    const auto b = static_cast<unsigned char>(prefix[i]);
    const int n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    uint32_t cp = n == 1 ? b : n == 2 ? b & 0x1F : n == 3 ? b & 0x0F : b & 0x07;
    for (int k = 1; k < n && i + static_cast<size_t>(k) < prefix.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(prefix[i + static_cast<size_t>(k)]) & 0x3F);
    }
    points.push_back(cp);
    i += static_cast<size_t>(n);
  }
  while (!points.empty() && points.back() >= 0x10FFFF) points.pop_back();
  if (points.empty()) return "";
  points.back() = points.back() == 0xD7FF ? 0xE000 : points.back() + 1;
  std::string out;
  for (const uint32_t cp : points) AppendUtf8(cp, out);
  return out;
}

// A PostgreSQL array literal of text elements, each quoted.
std::string TextArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const std::string& item : items) {
    if (out.size() > 1) out.push_back(',');
    out.push_back('"');
    for (const char c : item) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

// One field as SQL: a table column, or a key of the document column.
struct Operand {
  const PgColumn* column = nullptr;  // the table column, or the document column
  std::string quoted;                // the quoted column name
  std::string doc_key;               // set for document fields
  bool is_document = false;

  // The document value as jsonb, a JSON null as NULL.
  void EmitDocument(SqlWriter& w) const {
    w << "NULLIF(" << quoted;
    if (column->kind() != PgKind::kJsonb) w << "::jsonb";
    w << " -> ";
    w.Param(doc_key, "text");
    w << ", 'null'::jsonb)";
  }

  // The column compared natively with `v`: the parameter's cast, or empty when the column's text
  // output is compared with the value's text instead.
  std::string_view NativeCast(const FilterValue& v) const {
    const PgKind k = column->kind();
    if (k == PgKind::kText) return "text";
    if (std::holds_alternative<int64_t>(v) || std::holds_alternative<bool>(v)) {
      if (k == PgKind::kInteger) return "bigint";
      if (k == PgKind::kFloat) return "float8";
      if (k == PgKind::kNumeric) return "numeric";
      if (k == PgKind::kBool && std::holds_alternative<bool>(v)) return "boolean";
    }
    if (std::holds_alternative<double>(v)) {
      if (k == PgKind::kInteger || k == PgKind::kFloat) return "float8";
      if (k == PgKind::kNumeric) return "numeric";
    }
    return {};
  }

  // "left OP right" for one non-null value.
  void EmitCompare(SqlWriter& w, FilterOp op, const FilterValue& v) const {
    if (is_document) {
      EmitDocument(w);
      w << OpText(op) << "to_jsonb(";
      if (const auto* i = std::get_if<int64_t>(&v)) {
        w.Param(std::to_string(*i), "bigint");
      } else if (const auto* d = std::get_if<double>(&v)) {
        w.Param(DoubleText(*d), "float8");
      } else if (const auto* b = std::get_if<bool>(&v)) {
        w.Param(*b ? "true" : "false", "boolean");
      } else {
        w.Param(ValueText(v), "text");
      }
      w << ")";
      return;
    }
    const std::string_view cast = NativeCast(v);
    const bool collate = IsRange(op) && (cast.empty() || (cast == "text" && !column->byte_order));
    if (cast.empty()) {
      w << quoted << "::text";
    } else {
      w << quoted;
    }
    if (collate) w << " COLLATE \"C\"";
    w << OpText(op);
    if (cast == "boolean") {
      w.Param(std::get<bool>(v) ? "true" : "false", cast);
    } else {
      w.Param(ValueText(v), cast.empty() ? std::string_view("text") : cast);
    }
  }

  void EmitIsNull(SqlWriter& w, bool is_null) const {
    if (is_document) {
      EmitDocument(w);
    } else {
      w << quoted;
    }
    w << (is_null ? " IS NULL" : " IS NOT NULL");
  }
};

class QueryCompiler {
 public:
  QueryCompiler(const Dataset& dataset, const PgTableInfo& table)
      : dataset_(dataset), spec_(dataset.spec()), table_(table) {}

  Result<Operand> Resolve(const std::string& name) const {
    const Field* field = dataset_.FindField(name);
    if (field == nullptr) {
      return InvalidArgument("unknown field '" + name + "' in dataset '" + dataset_.name() + "'");
    }
    const std::string& column_name = field->from_document ? spec_.document->column : field->name;
    const PgColumn* column = table_.Find(column_name);
    if (column == nullptr) {
      return FailedPrecondition("dataset '" + dataset_.name() + "': '" + column_name +
                                "' is not a column of " + table_.relation);
    }
    Operand op;
    op.column = column;
    op.quoted = QuotePgIdentifier(column_name);
    if (field->from_document) {
      op.is_document = true;
      op.doc_key = field->name;
    }
    return op;
  }

  // ORDER BY / keyset text for the key.
  std::string KeyOrderExpr() const {
    const PgColumn* key = table_.Find(spec_.key);
    std::string expr = QuotePgIdentifier(spec_.key);
    if (key != nullptr && key->kind() == PgKind::kText && !key->byte_order)
      expr += " COLLATE \"C\"";
    return expr;
  }

  Status EmitKeyAfter(SqlWriter& w, const FilterValue& after) const {
    const PgColumn* key = table_.Find(spec_.key);
    if (key == nullptr) return FailedPrecondition("no key column");
    w << KeyOrderExpr() << " > ";
    if (key->kind() == PgKind::kInteger) {
      const auto* i = std::get_if<int64_t>(&after);
      if (i == nullptr)
        return InvalidArgument("the key of dataset '" + dataset_.name() +
                               "' is an integer; a resume position is not");
      w.Param(std::to_string(*i), "bigint");
    } else {
      w.Param(ValueText(after), "text");
    }
    return Status::Ok();
  }

  Status EmitKeys(SqlWriter& w, const std::vector<FilterValue>& keys) const {
    const PgColumn* key = table_.Find(spec_.key);
    if (key == nullptr) return FailedPrecondition("no key column");
    w << QuotePgIdentifier(spec_.key) << " = ANY(";
    EmitKeyArray(w, *key, keys);
    w << ")";
    return Status::Ok();
  }

  void EmitKeyArray(SqlWriter& w, const PgColumn& key, const std::vector<FilterValue>& keys) const {
    std::vector<std::string> items;
    items.reserve(keys.size());
    if (key.kind() == PgKind::kInteger) {
      std::string literal = "{";
      for (const FilterValue& k : keys) {
        // A key that is no integer matches no row of an integer key: left out.
        const auto* i = std::get_if<int64_t>(&k);
        if (i == nullptr) continue;
        if (literal.size() > 1) literal.push_back(',');
        literal += std::to_string(*i);
      }
      literal.push_back('}');
      w.Param(std::move(literal), "bigint[]");
      return;
    }
    for (const FilterValue& k : keys) items.push_back(ValueText(k));
    w.Param(TextArrayLiteral(items), "text[]");
  }

  // Appends " WHERE ..." (or nothing) for the query's conditions, and `extra` when not empty.
  Status EmitWhere(const SourceQuery& query, SqlWriter& w, std::string_view extra = {}) {
    bool first = true;
    auto next = [&]() {
      w << (first ? " WHERE " : " AND ");
      first = false;
    };
    if (!extra.empty()) {
      next();
      w << extra;
    }
    for (const Condition& c : query.filter) {
      next();
      RETURN_IF_ERROR(EmitCondition(c, w));
    }
    if (query.since || query.until) {
      ASSIGN_OR_RETURN(const PgColumn* time, TimeColumn("since/until"));
      if (query.since) {
        next();
        EmitTimeCompare(*time, FilterOp::kGte, *query.since, w);
      }
      if (query.until) {
        next();
        EmitTimeCompare(*time, FilterOp::kLt, *query.until, w);
      }
    }
    if (!query.partitions.empty()) {
      ASSIGN_OR_RETURN(const std::string part, PartitionText("partitions"));
      next();
      w << part << " IN (";
      for (size_t i = 0; i < query.partitions.size(); ++i) {
        if (i > 0) w << ", ";
        w.Param(query.partitions[i], "text");
      }
      w << ")";
    }
    if (query.null_partition) {
      if (!spec_.partition_field) return NoSuchField("partition field", "split_by");
      next();
      w << QuotePgIdentifier(*spec_.partition_field) << " IS NULL";
    }
    if (query.windows) {
      next();
      RETURN_IF_ERROR(EmitWindows(*query.windows, w));
    }
    if (query.keys) {
      next();
      RETURN_IF_ERROR(EmitKeys(w, *query.keys));
    }
    if (query.after_key) {
      if (std::holds_alternative<std::monostate>(*query.after_key)) {
        return InvalidArgument("after_key cannot be null");
      }
      next();
      RETURN_IF_ERROR(EmitKeyAfter(w, *query.after_key));
    }
    return Status::Ok();
  }

  // The partition column as text (its values are named by their text).
  Result<std::string> PartitionText(std::string_view used_by) const {
    if (!spec_.partition_field) return NoSuchField("partition field", used_by);
    const PgColumn* column = table_.Find(*spec_.partition_field);
    if (column == nullptr) return FailedPrecondition("no partition column");
    std::string expr = QuotePgIdentifier(*spec_.partition_field);
    if (column->kind() != PgKind::kText) expr += "::text";
    return expr;
  }

 private:
  Status NoSuchField(std::string_view what, std::string_view used_by) const {
    return InvalidArgument("dataset '" + dataset_.name() + "' has no " + std::string(what) + "; " +
                           std::string(used_by) + " cannot be used");
  }

  Result<const PgColumn*> TimeColumn(std::string_view used_by) const {
    if (!spec_.time_field) return NoSuchField("time field", used_by);
    const PgColumn* column = table_.Find(*spec_.time_field);
    if (column == nullptr) return FailedPrecondition("no time column");
    return column;
  }

  bool IsTimeField(const Field& field) const {
    return !field.from_document && spec_.time_field && field.name == *spec_.time_field;
  }

  Status EmitWindows(const std::vector<PartitionWindow>& windows, SqlWriter& w) {
    ASSIGN_OR_RETURN(const PgColumn* time, TimeColumn("windows"));
    ASSIGN_OR_RETURN(const std::string part, PartitionText("windows"));
    if (windows.empty()) {
      w << "FALSE";
      return Status::Ok();
    }
    std::map<std::pair<std::optional<TimePoint>, TimePoint>, std::vector<std::string>> groups;
    for (const PartitionWindow& window : windows) {
      groups[{window.since, window.until}].push_back(window.partition);
    }
    w << "(";
    bool first = true;
    for (const auto& [bounds, partitions] : groups) {
      w << (first ? "(" : " OR (");
      first = false;
      w << part << " IN (";
      for (size_t i = 0; i < partitions.size(); ++i) {
        if (i > 0) w << ", ";
        w.Param(partitions[i], "text");
      }
      w << ")";
      if (bounds.first) {
        w << " AND ";
        EmitTimeCompare(*time, FilterOp::kGte, *bounds.first, w);
      }
      w << " AND ";
      EmitTimeCompare(*time, FilterOp::kLt, bounds.second, w);
      w << ")";
    }
    w << ")";
    return Status::Ok();
  }

  Status EmitCondition(const Condition& c, SqlWriter& w) {
    ASSIGN_OR_RETURN(Operand operand, Resolve(c.field));
    const Field* field = dataset_.FindField(c.field);
    const std::string op_name(FilterOpName(c.op));
    if (c.op == FilterOp::kIn) {
      if (c.values.empty()) return InvalidArgument("'in' on '" + c.field + "' needs values");
    } else if (c.values.size() != 1) {
      return InvalidArgument("'" + op_name + "' on '" + c.field + "' takes exactly one value");
    }
    if (c.op == FilterOp::kNull) {
      const bool* is_null = std::get_if<bool>(&c.values[0]);
      if (is_null == nullptr) return InvalidArgument("'null' on '" + c.field + "' takes a bool");
      operand.EmitIsNull(w, *is_null);
      return Status::Ok();
    }
    if ((c.op == FilterOp::kEq || c.op == FilterOp::kNe) &&
        std::holds_alternative<std::monostate>(c.values[0])) {
      operand.EmitIsNull(w, c.op == FilterOp::kEq);
      return Status::Ok();
    }
    if (c.op == FilterOp::kPrefix) return EmitPrefix(operand, c, w);
    const bool time = IsTimeField(*field);
    if (c.op == FilterOp::kIn) {
      bool has_null = false;
      bool first = true;
      w << "(";
      for (const FilterValue& v : c.values) {
        if (std::holds_alternative<std::monostate>(v)) {
          has_null = true;
          continue;
        }
        if (!first) w << " OR ";
        first = false;
        if (time) {
          ASSIGN_OR_RETURN(TimePoint t, ToTimePoint(v, c.field));
          EmitTimeCompare(*operand.column, FilterOp::kEq, t, w);
        } else {
          operand.EmitCompare(w, FilterOp::kEq, v);
        }
      }
      if (has_null) {
        if (!first) w << " OR ";
        operand.EmitIsNull(w, true);
      }
      w << ")";
      return Status::Ok();
    }
    if (std::holds_alternative<std::monostate>(c.values[0])) {
      return InvalidArgument("'" + op_name + "' on '" + c.field + "' cannot compare with null");
    }
    if (time) {
      ASSIGN_OR_RETURN(TimePoint t, ToTimePoint(c.values[0], c.field));
      EmitTimeCompare(*operand.column, c.op, t, w);
      return Status::Ok();
    }
    operand.EmitCompare(w, c.op, c.values[0]);
    return Status::Ok();
  }

  // Text values only, byte-wise: numbers and booleans never match a prefix (as in SQLite, where
  // they sort below every text).
  Status EmitPrefix(const Operand& operand, const Condition& c, SqlWriter& w) {
    const auto* prefix = std::get_if<std::string>(&c.values[0]);
    if (prefix == nullptr) return InvalidArgument("'prefix' on '" + c.field + "' takes a string");
    const std::string successor = Utf8Successor(*prefix);
    auto emit_text = [&]() {
      if (operand.is_document) {
        w << "(";
        operand.EmitDocument(w);
        w << " #>> '{}')";
      } else {
        w << operand.quoted;
        if (operand.column->kind() != PgKind::kText) w << "::text";
      }
      w << " COLLATE \"C\"";
    };
    if (!operand.is_document &&
        (IsNumericKind(operand.column->kind()) || operand.column->kind() == PgKind::kBool)) {
      w << "FALSE";
      return Status::Ok();
    }
    w << "(";
    if (operand.is_document) {
      w << "jsonb_typeof(";
      operand.EmitDocument(w);
      w << ") = 'string' AND ";
    }
    emit_text();
    w << " >= ";
    w.Param(*prefix, "text");
    if (!successor.empty()) {
      w << " AND ";
      emit_text();
      w << " < ";
      w.Param(successor, "text");
    }
    w << ")";
    return Status::Ok();
  }

  void EmitTimeCompare(const PgColumn& column, FilterOp op, TimePoint t, SqlWriter& w) const {
    const std::string col = QuotePgIdentifier(column.name);
    if (column.kind() == PgKind::kInteger) {
      const auto [floor, ceil] = FloorCeilSeconds(t);
      const bool whole = floor == ceil;
      switch (op) {
        case FilterOp::kGte:
          w << col << " >= ";
          w.Param(std::to_string(ceil), "bigint");
          return;
        case FilterOp::kGt:
          w << col << " > ";
          w.Param(std::to_string(floor), "bigint");
          return;
        case FilterOp::kLt:
          w << col << " < ";
          w.Param(std::to_string(ceil), "bigint");
          return;
        case FilterOp::kLte:
          w << col << " <= ";
          w.Param(std::to_string(floor), "bigint");
          return;
        case FilterOp::kEq:
          if (!whole) {
            w << "FALSE";
            return;
          }
          w << col << " = ";
          w.Param(std::to_string(floor), "bigint");
          return;
        case FilterOp::kNe:
          if (!whole) {
            w << "TRUE";
            return;
          }
          w << col << " IS DISTINCT FROM ";
          w.Param(std::to_string(floor), "bigint");
          return;
        default:
          return;
      }
    }
    w << col << OpText(op);
    w.Param(PgInstantText(t), column.kind() == PgKind::kTimestamp ? "timestamp" : "timestamptz");
  }

  const Dataset& dataset_;
  const DatasetSpec& spec_;
  const PgTableInfo& table_;
};

}  // namespace

std::string PgParamSettingName(size_t n) { return "exportd.p" + std::to_string(n); }

const PgColumn* PgTableInfo::Find(std::string_view name) const {
  for (const PgColumn& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string QuotePgIdentifier(std::string_view name) {
  std::string out = "\"";
  for (const char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string QuotePgRelation(std::string_view table) {
  const size_t dot = table.find('.');
  if (dot == std::string_view::npos) return QuotePgIdentifier(table);
  return QuotePgIdentifier(table.substr(0, dot)) + "." + QuotePgIdentifier(table.substr(dot + 1));
}

Result<PgCompiledSql> PgCompileCount(const Dataset& dataset, const SourceQuery& query,
                                     const PgTableInfo& table) {
  QueryCompiler compiler(dataset, table);
  SqlWriter w;
  w << "SELECT COUNT(*) FROM " << table.relation;
  RETURN_IF_ERROR(compiler.EmitWhere(query, w));
  return std::move(w).Finish();
}

Result<PgCompiledSelect> PgCompileSelect(const Dataset& dataset, const SourceQuery& query,
                                         const PgTableInfo& table, PgParamStyle style) {
  if (query.fields.empty()) return InvalidArgument("a query selects at least one field");
  const DatasetSpec& spec = dataset.spec();
  QueryCompiler compiler(dataset, table);
  PgCompiledSelect out;
  SqlWriter w(style);
  w << "SELECT ";
  std::map<std::string, int, std::less<>> column_of;
  int next_column = 0;
  auto add_column = [&](const std::string& name) {
    if (next_column > 0) w << ", ";
    w << QuotePgIdentifier(name);
    return next_column++;
  };
  for (const std::string& name : query.fields) {
    ASSIGN_OR_RETURN(Operand operand, compiler.Resolve(name));
    if (operand.is_document) {
      out.field_columns.push_back(-1);
      continue;
    }
    auto it = column_of.find(name);
    if (it == column_of.end()) it = column_of.emplace(name, add_column(name)).first;
    out.field_columns.push_back(it->second);
  }
  out.key_column = add_column(spec.key);
  for (const int c : out.field_columns) {
    if (c < 0) {
      out.document_column = add_column(spec.document->column);
      break;
    }
  }
  w << " FROM " << table.relation;
  RETURN_IF_ERROR(compiler.EmitWhere(query, w));
  w << " ORDER BY " << compiler.KeyOrderExpr();
  out.query = std::move(w).Finish();
  return out;
}

Result<PgCompiledSql> PgCompilePartitions(const Dataset& dataset, const PgTableInfo& table) {
  const DatasetSpec& spec = dataset.spec();
  if (!spec.partition_field) {
    return FailedPrecondition("dataset '" + dataset.name() + "' has no partition field");
  }
  QueryCompiler compiler(dataset, table);
  ASSIGN_OR_RETURN(const std::string part, compiler.PartitionText("partitions"));
  SqlWriter w;
  w << "SELECT DISTINCT " << part << " FROM " << table.relation << " WHERE "
    << QuotePgIdentifier(*spec.partition_field) << " IS NOT NULL";
  return std::move(w).Finish();
}

Result<PgCompiledSql> PgCompileSummary(const Dataset& dataset, const SourceQuery& query,
                                       const std::vector<std::string>& count_distinct,
                                       const PgTableInfo& table) {
  const DatasetSpec& spec = dataset.spec();
  QueryCompiler compiler(dataset, table);
  SqlWriter w;
  w << "SELECT ";
  if (spec.partition_field) {
    ASSIGN_OR_RETURN(const std::string part, compiler.PartitionText("metrics"));
    w << "COALESCE(" << part << ", '')";
  } else {
    w << "''";
  }
  w << ", COUNT(*)";
  for (const std::string& name : count_distinct) {
    ASSIGN_OR_RETURN(Operand operand, compiler.Resolve(name));
    w << ", COUNT(DISTINCT ";
    if (operand.is_document) {
      operand.EmitDocument(w);
    } else {
      w << operand.quoted;
    }
    w << ")";
  }
  w << " FROM " << table.relation;
  SourceQuery where = query;
  where.after_key.reset();
  RETURN_IF_ERROR(compiler.EmitWhere(where, w));
  w << " GROUP BY 1";
  return std::move(w).Finish();
}

Result<PgCompiledSql> PgCompileMissingKeys(const Dataset& dataset, const SourceQuery& query,
                                           const PgTableInfo& table) {
  if (!query.keys) return InvalidArgument("a key lookup needs keys");
  const DatasetSpec& spec = dataset.spec();
  const PgColumn* key = table.Find(spec.key);
  if (key == nullptr) return FailedPrecondition("dataset '" + dataset.name() + "': no key column");
  QueryCompiler compiler(dataset, table);
  SqlWriter w;
  w << "SELECT wanted.k FROM unnest(";
  compiler.EmitKeyArray(w, *key, *query.keys);
  w << ") AS wanted(k) WHERE NOT EXISTS (SELECT 1 FROM " << table.relation;
  SourceQuery where = query;
  where.after_key.reset();
  where.keys.reset();
  RETURN_IF_ERROR(compiler.EmitWhere(where, w, QuotePgIdentifier(spec.key) + " = wanted.k"));
  w << ") ORDER BY wanted.k";
  if (key->kind() != PgKind::kInteger) w << " COLLATE \"C\"";
  return std::move(w).Finish();
}

}  // namespace exportd
