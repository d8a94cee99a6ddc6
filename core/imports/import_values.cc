#include "core/imports/import_values.h"

#include <charconv>
#include <map>

#include "core/formats/json_writer.h"
#include "core/time_format.h"

namespace exportd {
namespace {

bool ParseInteger(std::string_view text, int64_t& out) {
  if (text.empty() || text.front() == '+') return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool ParseReal(std::string_view text, double& out) {
  if (text == "Inf") {
    out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "-Inf") {
    out = -std::numeric_limits<double>::infinity();
    return true;
  }
  // A JSON number (no "nan", no hex, no leading '+' or '.'), as exports write them.
  if (!IsValidJsonNumber(text)) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

ImportValue Number(const std::string& text) {
  ImportValue v;
  v.text = text;
  if (ParseInteger(text, v.integer)) {
    v.type = ImportValue::Type::kInteger;
  } else {
    v.type = ImportValue::Type::kReal;
    (void)ParseReal(text, v.real);
  }
  return v;
}

ImportValue Text(const std::string& text) {
  ImportValue v;
  v.type = ImportValue::Type::kText;
  v.text = text;
  return v;
}

}  // namespace

Result<std::vector<size_t>> MapHeader(const Dataset& dataset, const std::vector<std::string>& names,
                                      int64_t* column) {
  std::vector<size_t> map;
  std::map<std::string_view, size_t> seen;
  bool has_key = false;
  const std::vector<Field>& fields = dataset.fields();
  for (size_t i = 0; i < names.size(); ++i) {
    *column = static_cast<int64_t>(i) + 1;
    const Field* field = dataset.FindField(names[i]);
    if (field == nullptr) {
      return InvalidArgument("'" + names[i] + "' is not a field of dataset '" + dataset.name() +
                             "'");
    }
    if (!seen.emplace(names[i], i).second) {
      return InvalidArgument("'" + names[i] + "' is named twice");
    }
    map.push_back(static_cast<size_t>(field - fields.data()));
    has_key = has_key || names[i] == dataset.spec().key;
  }
  *column = 0;
  if (!has_key) {
    return InvalidArgument("the header lacks the dataset's key '" + dataset.spec().key + "'");
  }
  return map;
}

Result<ImportValue> ConvertValue(const Field& field, const RecordValue& value) {
  if (value.kind == CellKind::kNull) return ImportValue{};
  if (value.kind == CellKind::kJson && field.type != FieldType::kText &&
      field.type != FieldType::kAny) {
    return InvalidArgument("expected a " + std::string(FieldTypeName(field.type)) +
                           ", got a JSON object or array");
  }
  const std::string& text = value.text;
  switch (field.type) {
    case FieldType::kInteger: {
      ImportValue v;
      v.type = ImportValue::Type::kInteger;
      v.text = text;
      if ((value.kind == CellKind::kText || value.kind == CellKind::kNumber) &&
          ParseInteger(text, v.integer)) {
        return v;
      }
      return InvalidArgument("expected an integer, got '" + text + "'");
    }
    case FieldType::kReal: {
      ImportValue v;
      v.type = ImportValue::Type::kReal;
      v.text = text;
      if ((value.kind == CellKind::kText || value.kind == CellKind::kNumber) &&
          ParseReal(text, v.real)) {
        return v;
      }
      return InvalidArgument("expected a number, got '" + text + "'");
    }
    case FieldType::kBoolean: {
      ImportValue v;
      v.type = ImportValue::Type::kBool;
      v.text = text;
      if (text == "true" || text == "false") {
        v.integer = text == "true" ? 1 : 0;
        return v;
      }
      return InvalidArgument("expected true or false, got '" + text + "'");
    }
    case FieldType::kTimestamp:
      if (value.kind == CellKind::kText && ParseRfc3339(text)) return Text(text);
      return InvalidArgument("expected an RFC 3339 timestamp, got '" + text + "'");
    case FieldType::kText:
      return Text(text);
    case FieldType::kAny:
      break;
  }
  switch (value.kind) {
    case CellKind::kNumber:
      return Number(text);
    case CellKind::kBool: {
      ImportValue v;
      v.type = ImportValue::Type::kBool;
      v.integer = text == "true" ? 1 : 0;
      v.text = text;
      return v;
    }
    default:
      // CSV and TSV have no types: a cell that is a JSON number is a number.
      if (value.kind == CellKind::kText && IsValidJsonNumber(text)) return Number(text);
      return Text(text);
  }
}

}  // namespace exportd
