#include "storage/sqlite/sql_query.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "core/formats/format_writer.h"
#include "core/time_format.h"
#include "storage/sqlite/sqlite_db.h"

namespace exportd {
namespace {

// Appends SQL text and parameters in step, so that binds always follow '?' order.
class SqlWriter {
 public:
  SqlWriter& operator<<(std::string_view text) {
    sql_ += text;
    return *this;
  }
  SqlWriter& Param(FilterValue value) {
    sql_ += '?';
    binds_.push_back(std::move(value));
    return *this;
  }
  CompiledSql Finish() && { return {std::move(sql_), std::move(binds_)}; }

 private:
  std::string sql_;
  std::vector<FilterValue> binds_;
};

// The SQL value of one field: a quoted column, or the document key lookup.
struct Operand {
  std::string column;   // quoted column, or the quoted document column
  std::string doc_key;  // the document key, for document fields
  bool is_document = false;

  void Emit(SqlWriter& w) const {
    if (!is_document) {
      w << column;
      return;
    }
    w << "(SELECT value FROM json_each(NULLIF(" << column << ", '')) WHERE key = ";
    w.Param(doc_key);
    w << ")";
  }
};

// An instant split the two ways the text comparison needs.
struct InstantText {
  std::string second_prefix;  // "YYYY-MM-DDTHH:MM:SS"
  std::string normalized;     // "YYYY-MM-DDTHH:MM:SS.nnnnnnnnn"
};

struct InstantSeconds {
  int64_t floor = 0;
  int64_t ceil = 0;
  bool whole() const { return floor == ceil; }
};

constexpr int64_t kNanosPerSecond = 1'000'000'000;

std::pair<int64_t, int64_t> SplitSeconds(TimePoint t) {
  int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  int64_t secs = ns / kNanosPerSecond;
  int64_t frac = ns % kNanosPerSecond;
  if (frac < 0) {
    frac += kNanosPerSecond;
    --secs;
  }
  return {secs, frac};
}

InstantText ToInstantText(TimePoint t) {
  auto [secs, frac] = SplitSeconds(t);
  std::string whole = FormatRfc3339Seconds(TimePoint(std::chrono::seconds(secs)));
  InstantText out;
  out.second_prefix = whole.substr(0, 19);
  std::string digits = std::to_string(frac);
  out.normalized = out.second_prefix + "." + std::string(9 - digits.size(), '0') + digits;
  return out;
}

InstantSeconds ToInstantSeconds(TimePoint t) {
  auto [secs, frac] = SplitSeconds(t);
  return {secs, frac == 0 ? secs : secs + 1};
}

// The text column in the fixed-width form of InstantText::normalized. Valid for values shaped
// 'YYYY-MM-DDTHH:MM:SS[.fraction](Z|z)'; fractions beyond nanoseconds are truncated.
std::string NormalizedTimeExpr(const std::string& col) {
  return "(substr(" + col + ", 1, 19) || substr(CASE WHEN substr(" + col +
         ", 20, 1) = '.' THEN rtrim(substr(" + col +
         ", 20), 'Zz') ELSE '.' END || '000000000', 1, 10))";
}

Result<TimePoint> ToTimePoint(const FilterValue& value, const std::string& field) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    if (auto t = ParseRfc3339(*s)) return *t;
    return InvalidArgument("'" + *s + "' is not an RFC 3339 timestamp (field '" + field + "')");
  }
  if (const auto* i = std::get_if<int64_t>(&value)) {
    return TimePoint(std::chrono::seconds(*i));
  }
  if (const auto* d = std::get_if<double>(&value)) {
    // Beyond +-1e11 s (year 5138) is outside what RFC 3339 text can hold anyway.
    if (!std::isfinite(*d) || std::fabs(*d) > 1e11) {
      return InvalidArgument("timestamp value out of range (field '" + field + "')");
    }
    return TimePoint(
        std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(*d)));
  }
  return InvalidArgument("field '" + field + "' is compared with a timestamp, not a " +
                         (std::holds_alternative<bool>(value) ? "boolean" : "null"));
}

// A list of keys as one JSON array, bound once and read with json_each: a record_ids list may
// hold more values than SQLite takes parameters. Integers stay integers, so that they compare
// with an INTEGER key as numbers.
std::string KeysAsJson(const std::vector<FilterValue>& keys) {
  std::string out = "[";
  for (const FilterValue& key : keys) {
    if (out.size() > 1) out.push_back(',');
    if (const auto* i = std::get_if<int64_t>(&key)) {
      out += std::to_string(*i);
    } else if (const auto* text = std::get_if<std::string>(&key)) {
      out.push_back('"');
      AppendJsonEscaped(*text, out);
      out.push_back('"');
    } else if (const auto* d = std::get_if<double>(&key)) {
      out += std::to_string(*d);
    } else if (const auto* b = std::get_if<bool>(&key)) {
      out += *b ? "1" : "0";
    } else {
      out += "null";
    }
  }
  out.push_back(']');
  return out;
}

class QueryCompiler {
 public:
  QueryCompiler(const Dataset& dataset, const SqlTableInfo& table)
      : dataset_(dataset), spec_(dataset.spec()), table_(table) {}

  // Appends " WHERE ..." (or nothing) for the query's filter, time range, partitions, windows,
  // keys and after_key, and `extra` (SQL text without parameters) when it is not empty.
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
      if (!spec_.time_field) return NoSuchField("time field", "since/until");
      const std::string col = QuoteIdentifier(*spec_.time_field);
      if (query.since) {
        next();
        EmitTimeCompare(col, FilterOp::kGte, *query.since, w);
      }
      if (query.until) {
        next();
        EmitTimeCompare(col, FilterOp::kLt, *query.until, w);
      }
    }
    if (!query.partitions.empty()) {
      if (!spec_.partition_field) return NoSuchField("partition field", "partitions");
      next();
      w << QuoteIdentifier(*spec_.partition_field) << " IN (";
      for (size_t i = 0; i < query.partitions.size(); ++i) {
        if (i > 0) w << ", ";
        w.Param(query.partitions[i]);
      }
      w << ")";
    }
    if (query.null_partition) {
      if (!spec_.partition_field) return NoSuchField("partition field", "split_by");
      next();
      w << QuoteIdentifier(*spec_.partition_field) << " IS NULL";
    }
    if (query.windows) {
      next();
      RETURN_IF_ERROR(EmitWindows(*query.windows, w));
    }
    if (query.keys) {
      next();
      w << QuoteIdentifier(spec_.key) << " IN (SELECT value FROM json_each(";
      w.Param(KeysAsJson(*query.keys));
      w << "))";
    }
    if (query.after_key) {
      if (std::holds_alternative<std::monostate>(*query.after_key)) {
        return InvalidArgument("after_key cannot be null");
      }
      next();
      w << QuoteIdentifier(spec_.key) << " > ";
      w.Param(*query.after_key);
    }
    return Status::Ok();
  }

  // Windows that share their bounds are one term, "(part IN (...) AND time >= ? AND time < ?)":
  // after a nightly run every partition's watermark is the same, so an incremental export is one
  // time range that an index on the time field (or on (partition, time)) serves.
  Status EmitWindows(const std::vector<PartitionWindow>& windows, SqlWriter& w) {
    if (!spec_.time_field) return NoSuchField("time field", "windows");
    if (!spec_.partition_field) return NoSuchField("partition field", "windows");
    if (windows.empty()) {
      w << "0";
      return Status::Ok();
    }
    std::map<std::pair<std::optional<TimePoint>, TimePoint>, std::vector<std::string>> groups;
    for (const PartitionWindow& window : windows) {
      groups[{window.since, window.until}].push_back(window.partition);
    }
    const std::string time = QuoteIdentifier(*spec_.time_field);
    const std::string part = QuoteIdentifier(*spec_.partition_field);
    w << "(";
    bool first = true;
    for (const auto& [bounds, partitions] : groups) {
      w << (first ? "(" : " OR (");
      first = false;
      w << part << " IN (";
      for (size_t i = 0; i < partitions.size(); ++i) {
        if (i > 0) w << ", ";
        w.Param(partitions[i]);
      }
      w << ")";
      if (bounds.first) {
        w << " AND ";
        EmitTimeCompare(time, FilterOp::kGte, *bounds.first, w);
      }
      w << " AND ";
      EmitTimeCompare(time, FilterOp::kLt, bounds.second, w);
      w << ")";
    }
    w << ")";
    return Status::Ok();
  }

  Result<Operand> ResolveOperand(const std::string& name, const Field** field_out) const {
    const Field* field = dataset_.FindField(name);
    if (field == nullptr) {
      return InvalidArgument("unknown field '" + name + "' in dataset '" + dataset_.name() + "'");
    }
    *field_out = field;
    if (field->from_document) {
      if (!spec_.document) return Internal("document field without a document column");
      return Operand{QuoteIdentifier(spec_.document->column), field->name, true};
    }
    return Operand{QuoteIdentifier(field->name), {}, false};
  }

 private:
  Status NoSuchField(std::string_view what, std::string_view used_by) const {
    return InvalidArgument("dataset '" + dataset_.name() + "' has no " + std::string(what) + "; " +
                           std::string(used_by) + " cannot be used");
  }

  bool IsTimeField(const Field& field) const {
    return !field.from_document && spec_.time_field && field.name == *spec_.time_field;
  }

  Status EmitCondition(const Condition& c, SqlWriter& w) {
    const Field* field = nullptr;
    ASSIGN_OR_RETURN(Operand operand, ResolveOperand(c.field, &field));
    const std::string op_name(FilterOpName(c.op));
    if (c.op == FilterOp::kIn) {
      if (c.values.empty()) return InvalidArgument("'in' on '" + c.field + "' needs values");
    } else if (c.values.size() != 1) {
      return InvalidArgument("'" + op_name + "' on '" + c.field + "' takes exactly one value");
    }

    if (c.op == FilterOp::kNull) {
      const bool* is_null = std::get_if<bool>(&c.values[0]);
      if (is_null == nullptr) return InvalidArgument("'null' on '" + c.field + "' takes a bool");
      operand.Emit(w);
      w << (*is_null ? " IS NULL" : " IS NOT NULL");
      return Status::Ok();
    }
    if (c.op == FilterOp::kEq || c.op == FilterOp::kNe) {
      if (std::holds_alternative<std::monostate>(c.values[0])) {
        operand.Emit(w);
        w << (c.op == FilterOp::kEq ? " IS NULL" : " IS NOT NULL");
        return Status::Ok();
      }
    }
    if (c.op == FilterOp::kPrefix) return EmitPrefix(operand, *field, c, w);
    if (IsTimeField(*field)) return EmitTimeCondition(operand.column, c, w);

    if (c.op == FilterOp::kIn) {
      bool has_null = false;
      w << "(";
      operand.Emit(w);
      w << " IN (";
      bool first = true;
      for (const FilterValue& v : c.values) {
        if (std::holds_alternative<std::monostate>(v)) {
          has_null = true;
          continue;
        }
        if (!first) w << ", ";
        first = false;
        w.Param(v);
      }
      w << ")";
      if (has_null) {
        w << " OR ";
        operand.Emit(w);
        w << " IS NULL";
      }
      w << ")";
      return Status::Ok();
    }

    if (std::holds_alternative<std::monostate>(c.values[0])) {
      return InvalidArgument("'" + op_name + "' on '" + c.field + "' cannot compare with null");
    }
    operand.Emit(w);
    switch (c.op) {
      case FilterOp::kEq:
        w << " = ";
        break;
      case FilterOp::kNe:
        w << " IS NOT ";
        break;
      case FilterOp::kGt:
        w << " > ";
        break;
      case FilterOp::kGte:
        w << " >= ";
        break;
      case FilterOp::kLt:
        w << " < ";
        break;
      case FilterOp::kLte:
        w << " <= ";
        break;
      default:
        return Internal("unexpected operator " + op_name);
    }
    w.Param(c.values[0]);
    return Status::Ok();
  }

  Status EmitPrefix(const Operand& operand, const Field& field, const Condition& c, SqlWriter& w) {
    const auto* prefix = std::get_if<std::string>(&c.values[0]);
    if (prefix == nullptr) return InvalidArgument("'prefix' on '" + c.field + "' takes a string");
    if (IsTimeField(field) && table_.time_storage == TimeStorage::kUnixSeconds) {
      return InvalidArgument("'prefix' needs a text field; '" + c.field + "' holds unix seconds");
    }
    // A bound text compared with a column of numeric affinity would be converted to a number
    // ('12' -> 12); '+col' has no affinity, so only text values can match. Columns declared
    // as text keep the plain form so that an index applies.
    const bool plain = operand.is_document || field.type == FieldType::kText;
    auto emit_operand = [&]() {
      if (!plain) w << "+";
      operand.Emit(w);
    };
    std::optional<std::string> successor = PrefixSuccessor(*prefix);
    w << "(";
    emit_operand();
    w << " >= ";
    w.Param(*prefix);
    if (successor) {
      w << " AND ";
      emit_operand();
      w << " < ";
      w.Param(std::move(*successor));
    } else {
      // No upper bound ("" or all 0xFF): keep numbers (below text) and blobs (above) out.
      w << " AND typeof(";
      operand.Emit(w);
      w << ") = 'text'";
    }
    w << ")";
    return Status::Ok();
  }

  Status EmitTimeCondition(const std::string& col, const Condition& c, SqlWriter& w) {
    std::vector<TimePoint> instants;
    for (const FilterValue& v : c.values) {
      if (c.op == FilterOp::kIn && std::holds_alternative<std::monostate>(v)) continue;
      ASSIGN_OR_RETURN(TimePoint t, ToTimePoint(v, c.field));
      instants.push_back(t);
    }
    const bool null_in_list = instants.size() != c.values.size();
    if (c.op != FilterOp::kIn) {
      EmitTimeCompare(col, c.op, instants[0], w);
      return Status::Ok();
    }
    w << "(";
    if (table_.time_storage == TimeStorage::kUnixSeconds) {
      w << col << " IN (";
      bool first = true;
      for (TimePoint t : instants) {
        InstantSeconds s = ToInstantSeconds(t);
        if (!s.whole()) continue;  // an integer never equals a fractional instant
        if (!first) w << ", ";
        first = false;
        w.Param(s.floor);
      }
      w << ")";
    } else {
      w << NormalizedTimeExpr(col) << " IN (";
      for (size_t i = 0; i < instants.size(); ++i) {
        if (i > 0) w << ", ";
        w.Param(ToInstantText(instants[i]).normalized);
      }
      w << ")";
    }
    if (null_in_list) w << " OR " << col << " IS NULL";
    w << ")";
    return Status::Ok();
  }

  void EmitTimeCompare(const std::string& col, FilterOp op, TimePoint t, SqlWriter& w) const {
    if (table_.time_storage == TimeStorage::kUnixSeconds) {
      InstantSeconds s = ToInstantSeconds(t);
      switch (op) {
        case FilterOp::kGte:
          w << col << " >= ";
          w.Param(s.ceil);
          return;
        case FilterOp::kGt:
          w << col << " > ";
          w.Param(s.floor);
          return;
        case FilterOp::kLt:
          w << col << " < ";
          w.Param(s.ceil);
          return;
        case FilterOp::kLte:
          w << col << " <= ";
          w.Param(s.floor);
          return;
        case FilterOp::kEq:
          if (!s.whole()) {
            w << "0";
            return;
          }
          w << col << " = ";
          w.Param(s.floor);
          return;
        case FilterOp::kNe:
          if (!s.whole()) {
            w << "1";
            return;
          }
          w << col << " IS NOT ";
          w.Param(s.floor);
          return;
        default:
          return;  // kIn, kPrefix and kNull never reach here
      }
    }
    InstantText text = ToInstantText(t);
    const std::string norm = NormalizedTimeExpr(col);
    // FilterValue's std::string alternative; 19 digits-and-separators, so a successor exists.
    std::string upper = *PrefixSuccessor(text.second_prefix);
    switch (op) {
      case FilterOp::kGte:
      case FilterOp::kGt:
        w << "(" << col << " >= ";
        w.Param(text.second_prefix);
        w << " AND " << norm << (op == FilterOp::kGt ? " > " : " >= ");
        w.Param(text.normalized);
        w << ")";
        return;
      case FilterOp::kLt:
      case FilterOp::kLte:
        w << "(" << col << " < ";
        w.Param(upper);
        w << " AND " << norm << (op == FilterOp::kLte ? " <= " : " < ");
        w.Param(text.normalized);
        w << ")";
        return;
      case FilterOp::kEq:
        w << "(" << col << " >= ";
        w.Param(text.second_prefix);
        w << " AND " << col << " < ";
        w.Param(upper);
        w << " AND " << norm << " = ";
        w.Param(text.normalized);
        w << ")";
        return;
      case FilterOp::kNe:
        w << norm << " IS NOT ";
        w.Param(text.normalized);
        return;
      default:
        return;
    }
  }

 private:
  const Dataset& dataset_;
  const DatasetSpec& spec_;
  const SqlTableInfo& table_;
};

}  // namespace

std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty() && static_cast<unsigned char>(out.back()) == 0xFF) out.pop_back();
  if (out.empty()) return std::nullopt;
  out.back() = static_cast<char>(static_cast<unsigned char>(out.back()) + 1);
  return out;
}

Result<CompiledSql> CompileCount(const Dataset& dataset, const SourceQuery& query,
                                 const SqlTableInfo& table) {
  QueryCompiler compiler(dataset, table);
  SqlWriter w;
  w << "SELECT COUNT(*) FROM " << QuoteIdentifier(dataset.spec().source.table);
  RETURN_IF_ERROR(compiler.EmitWhere(query, w));
  return std::move(w).Finish();
}

Result<CompiledSql> CompileKeys(const Dataset& dataset, const SourceQuery& query,
                                const SqlTableInfo& table) {
  QueryCompiler compiler(dataset, table);
  const DatasetSpec& spec = dataset.spec();
  SqlWriter w;
  w << "SELECT " << QuoteIdentifier(spec.key) << " FROM " << QuoteIdentifier(spec.source.table);
  RETURN_IF_ERROR(compiler.EmitWhere(query, w));
  w << " ORDER BY " << QuoteIdentifier(spec.key);
  return std::move(w).Finish();
}

Result<CompiledSelect> CompileSelect(const Dataset& dataset, const SourceQuery& query,
                                     const SqlTableInfo& table) {
  if (query.fields.empty()) return InvalidArgument("a query selects at least one field");
  const DatasetSpec& spec = dataset.spec();
  QueryCompiler compiler(dataset, table);
  CompiledSelect out;
  SqlWriter w;
  w << "SELECT ";
  std::map<std::string, int, std::less<>> column_of;
  int next_column = 0;
  auto add_column = [&](const std::string& name) {
    if (next_column > 0) w << ", ";
    w << QuoteIdentifier(name);
    return next_column++;
  };
  for (const std::string& name : query.fields) {
    const Field* field = nullptr;
    ASSIGN_OR_RETURN(Operand operand, compiler.ResolveOperand(name, &field));
    if (operand.is_document) {
      out.field_columns.push_back(-1);
      continue;
    }
    auto it = column_of.find(name);
    if (it == column_of.end()) it = column_of.emplace(name, add_column(name)).first;
    out.field_columns.push_back(it->second);
  }
  out.key_column = add_column(spec.key);
  for (int c : out.field_columns) {
    if (c < 0) {
      out.document_column = add_column(spec.document->column);
      break;
    }
  }
  w << " FROM " << QuoteIdentifier(spec.source.table);
  RETURN_IF_ERROR(compiler.EmitWhere(query, w));
  w << " ORDER BY " << QuoteIdentifier(spec.key);
  out.query = std::move(w).Finish();
  return out;
}

Result<CompiledSql> CompilePartitions(const Dataset& dataset, bool skip_scan) {
  const DatasetSpec& spec = dataset.spec();
  if (!spec.partition_field) {
    return FailedPrecondition("dataset '" + dataset.name() + "' has no partition field");
  }
  const std::string part = QuoteIdentifier(*spec.partition_field);
  const std::string table = QuoteIdentifier(spec.source.table);
  SqlWriter w;
  if (skip_scan) {
    // One index seek per distinct value instead of a pass over every row.
    w << "WITH RECURSIVE p(v) AS (SELECT MIN(" << part << ") FROM " << table
      << " UNION ALL SELECT (SELECT MIN(" << part << ") FROM " << table << " WHERE " << part
      << " > p.v) FROM p WHERE p.v IS NOT NULL) SELECT CAST(v AS TEXT) FROM p WHERE v IS NOT NULL";
  } else {
    w << "SELECT DISTINCT CAST(" << part << " AS TEXT) FROM " << table << " WHERE " << part
      << " IS NOT NULL";
  }
  return std::move(w).Finish();
}

Result<CompiledSql> CompileNextPartitionProbe(const Dataset& dataset) {
  const DatasetSpec& spec = dataset.spec();
  if (!spec.partition_field) {
    return FailedPrecondition("dataset '" + dataset.name() + "' has no partition field");
  }
  const std::string part = QuoteIdentifier(*spec.partition_field);
  SqlWriter w;
  w << "SELECT MIN(" << part << ") FROM " << QuoteIdentifier(spec.source.table) << " WHERE " << part
    << " > ";
  w.Param(std::string());
  return std::move(w).Finish();
}

Result<CompiledSql> CompileSummary(const Dataset& dataset, const SourceQuery& query,
                                   const std::vector<std::string>& count_distinct,
                                   const SqlTableInfo& table) {
  const DatasetSpec& spec = dataset.spec();
  QueryCompiler compiler(dataset, table);
  SqlWriter w;
  w << "SELECT ";
  if (spec.partition_field) {
    w << "COALESCE(CAST(" << QuoteIdentifier(*spec.partition_field) << " AS TEXT), '')";
  } else {
    w << "''";
  }
  w << ", COUNT(*)";
  for (const std::string& name : count_distinct) {
    const Field* field = nullptr;
    ASSIGN_OR_RETURN(Operand operand, compiler.ResolveOperand(name, &field));
    w << ", COUNT(DISTINCT ";
    operand.Emit(w);
    w << ")";
  }
  w << " FROM " << QuoteIdentifier(spec.source.table);
  SourceQuery where = query;
  where.after_key.reset();
  RETURN_IF_ERROR(compiler.EmitWhere(where, w));
  w << " GROUP BY 1 ORDER BY 1";
  return std::move(w).Finish();
}

Result<CompiledSql> CompileMissingKeys(const Dataset& dataset, const SourceQuery& query,
                                       const SqlTableInfo& table) {
  if (!query.keys) return InvalidArgument("a key lookup needs keys");
  const DatasetSpec& spec = dataset.spec();
  QueryCompiler compiler(dataset, table);
  SqlWriter w;
  w << "SELECT wanted.value FROM json_each(";
  w.Param(KeysAsJson(*query.keys));
  w << ") AS wanted WHERE NOT EXISTS (SELECT 1 FROM " << QuoteIdentifier(spec.source.table);
  SourceQuery where = query;
  where.after_key.reset();
  where.keys.reset();
  const std::string key_matches =
      QuoteIdentifier(spec.source.table) + "." + QuoteIdentifier(spec.key) + " = wanted.value";
  RETURN_IF_ERROR(compiler.EmitWhere(where, w, key_matches));
  w << ") ORDER BY wanted.value";
  return std::move(w).Finish();
}

void BindAll(Statement& stmt, const std::vector<FilterValue>& binds) {
  for (size_t i = 0; i < binds.size(); ++i) stmt.Bind(static_cast<int>(i + 1), binds[i]);
}

}  // namespace exportd
