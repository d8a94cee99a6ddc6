#include "storage/document_flattener.h"

#include "core/formats/json_writer.h"

#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <utility>

namespace exportd {
namespace {

namespace od = simdjson::ondemand;


bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

Status JsonError(simdjson::error_code error, std::string_view what) {
  return DataLoss("malformed JSON document (" + std::string(what) +
                  "): " + simdjson::error_message(error));
}

}  // namespace

struct DocumentFlattener::Impl {
  od::parser parser;
  std::unique_ptr<char[]> buffer;
  size_t capacity = 0;

  // Copies `json` into the reusable buffer with simdjson's padding after it.
  const char* Pad(std::string_view json) {
    const size_t needed = json.size() + simdjson::SIMDJSON_PADDING;
    if (needed > capacity) {
      capacity = std::max(needed, capacity * 2);
      buffer = std::make_unique<char[]>(capacity);
    }
    std::memcpy(buffer.get(), json.data(), json.size());
    std::memset(buffer.get() + json.size(), 0, simdjson::SIMDJSON_PADDING);
    return buffer.get();
  }
};

DocumentFlattener::DocumentFlattener(std::vector<Target> targets)
    : targets_(std::move(targets)),
      filled_in_row_(targets_.size(), 0),
      impl_(std::make_unique<Impl>()) {
  dirty_slots_.reserve(targets_.size());
  const size_t size = std::bit_ceil(std::max<size_t>(8, targets_.size() * 2));
  table_.assign(size, 0);
  mask_ = size - 1;
  for (size_t t = 0; t < targets_.size(); ++t) {
    size_t i = std::hash<std::string_view>{}(targets_[t].name) & mask_;
    while (table_[i] != 0) i = (i + 1) & mask_;
    table_[i] = static_cast<uint32_t>(t + 1);
  }
}

DocumentFlattener::~DocumentFlattener() = default;

int DocumentFlattener::Find(std::string_view key) const {
  size_t i = std::hash<std::string_view>{}(key) & mask_;
  for (;;) {
    uint32_t entry = table_[i];
    if (entry == 0) return -1;
    if (targets_[entry - 1].name == key) return static_cast<int>(entry - 1);
    i = (i + 1) & mask_;
  }
}

Status DocumentFlattener::Flatten(std::string_view json, std::span<Cell> row) {
  for (size_t slot : dirty_slots_) row[slot] = Cell{};
  dirty_slots_.clear();
  ++row_number_;
  if (json.empty() || targets_.empty()) return Status::Ok();

  const char* padded = impl_->Pad(json);
  od::document doc;
  if (auto error = impl_->parser.iterate(padded, json.size(), impl_->capacity).get(doc)) {
    return JsonError(error, "parse");
  }
  od::object object;
  if (auto error = doc.get_object().get(object)) return JsonError(error, "not an object");

  for (auto field_result : object) {
    od::field field;
    if (auto error = std::move(field_result).get(field)) return JsonError(error, "field");
    // Keys without escapes (nearly all) are compared in place; the closing quote is there
    // because stage 1 validated the string.
    const char* raw = field.key().raw();
    const char* end = raw;
    while (*end != '"' && *end != '\\') ++end;
    std::string_view key;
    if (*end == '"') {
      key = std::string_view(raw, static_cast<size_t>(end - raw));
    } else if (auto error = field.unescaped_key().get(key)) {
      return JsonError(error, "key");
    }
    const int target = Find(key);
    if (target < 0 || filled_in_row_[target] == row_number_) continue;  // skipped by the parser

    od::value& value = field.value();
    od::json_type type;
    if (auto error = value.type().get(type)) return JsonError(error, "value");
    Cell cell;
    switch (type) {
      case od::json_type::number: {
        std::string_view token = value.raw_json_token();
        while (!token.empty() && IsJsonSpace(token.back())) token.remove_suffix(1);
        if (!IsValidJsonNumber(token)) {
          return DataLoss("malformed JSON document: bad number '" + std::string(token) +
                          "' for key '" + std::string(key) + "'");
        }
        cell = {CellKind::kNumber, token};
        break;
      }
      case od::json_type::string: {
        std::string_view text;
        if (auto error = value.get_string().get(text)) return JsonError(error, "string");
        cell = {CellKind::kText, text};
        break;
      }
      case od::json_type::boolean: {
        bool b = false;
        if (auto error = value.get_bool().get(b)) return JsonError(error, "boolean");
        cell = {CellKind::kBool, b ? std::string_view("true") : std::string_view("false")};
        break;
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto error = value.is_null().get(is_null)) return JsonError(error, "null");
        if (!is_null) return DataLoss("malformed JSON document: bad literal");
        break;
      }
      case od::json_type::object: {
        od::object inner;
        std::string_view text;
        if (auto error = value.get_object().get(inner)) return JsonError(error, "object");
        if (auto error = inner.raw_json().get(text)) return JsonError(error, "object");
        cell = {CellKind::kJson, text};
        break;
      }
      case od::json_type::array: {
        od::array inner;
        std::string_view text;
        if (auto error = value.get_array().get(inner)) return JsonError(error, "array");
        if (auto error = inner.raw_json().get(text)) return JsonError(error, "array");
        cell = {CellKind::kJson, text};
        break;
      }
    }
    filled_in_row_[target] = row_number_;
    const size_t slot = targets_[target].slot;
    row[slot] = cell;
    dirty_slots_.push_back(slot);
  }
  // After the root object only the end of input may follow.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return DataLoss("malformed JSON document: content after the object");
  }
  return Status::Ok();
}

}  // namespace exportd
