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

// `text`, a valid JSON number, as an integer if it is one in int64 range, else as a real.
void Number(std::string_view text, ImportValue& out) {
  out.text.assign(text);
  if (ParseInteger(text, out.integer)) {
    out.type = ImportValue::Type::kInteger;
    return;
  }
  out.type = ImportValue::Type::kReal;
  out.real = 0;
  (void)std::from_chars(text.data(), text.data() + text.size(), out.real);
}

// A number's or boolean's text as the file wrote it, which only a document field writes (a
// column takes the integer or the double): not copied for the others.
void KeepToken(const Field& field, std::string_view text, ImportValue& out) {
  if (field.from_document) {
    out.text.assign(text);
  } else {
    out.text.clear();
  }
}

void Text(std::string_view text, ImportValue& out) {
  out.type = ImportValue::Type::kText;
  out.text.assign(text);
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
  ImportValue out;
  RETURN_IF_ERROR(ConvertValue(field, value, out));
  return out;
}

Status ConvertValue(const Field& field, const RecordValue& value, ImportValue& out) {
  if (value.kind == CellKind::kNull) {
    out.type = ImportValue::Type::kNull;
    out.text.clear();
    return Status::Ok();
  }
  if (value.kind == CellKind::kJson && field.type != FieldType::kText &&
      field.type != FieldType::kAny) {
    return InvalidArgument("expected a " + std::string(FieldTypeName(field.type)) +
                           ", got a JSON object or array");
  }
  const std::string& text = value.text;
  switch (field.type) {
    case FieldType::kInteger:
      if ((value.kind == CellKind::kText || value.kind == CellKind::kNumber) &&
          ParseInteger(text, out.integer)) {
        out.type = ImportValue::Type::kInteger;
        KeepToken(field, text, out);
        return Status::Ok();
      }
      return InvalidArgument("expected an integer, got '" + text + "'");
    case FieldType::kReal:
      if ((value.kind == CellKind::kText || value.kind == CellKind::kNumber) &&
          ParseReal(text, out.real)) {
        out.type = ImportValue::Type::kReal;
        KeepToken(field, text, out);
        return Status::Ok();
      }
      return InvalidArgument("expected a number, got '" + text + "'");
    case FieldType::kBoolean:
      if (text == "true" || text == "false") {
        out.type = ImportValue::Type::kBool;
        out.integer = text == "true" ? 1 : 0;
        KeepToken(field, text, out);
        return Status::Ok();
      }
      return InvalidArgument("expected true or false, got '" + text + "'");
    case FieldType::kTimestamp:
      if (value.kind == CellKind::kText && ParseRfc3339(text)) {
        Text(text, out);
        return Status::Ok();
      }
      return InvalidArgument("expected an RFC 3339 timestamp, got '" + text + "'");
    case FieldType::kText:
      Text(text, out);
      return Status::Ok();
    case FieldType::kAny:
      break;
  }
  switch (value.kind) {
    case CellKind::kNumber:
      Number(text, out);
      break;
    case CellKind::kBool:
      out.type = ImportValue::Type::kBool;
      out.integer = text == "true" ? 1 : 0;
      out.text.assign(text);
      break;
    default:
      // CSV and TSV have no types: a cell that is a JSON number is a number.
      if (value.kind == CellKind::kText && IsValidJsonNumber(text)) {
        Number(text, out);
      } else {
        Text(text, out);
      }
      break;
  }
  return Status::Ok();
}

}  // namespace exportd
