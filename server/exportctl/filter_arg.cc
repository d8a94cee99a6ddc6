#include "server/exportctl/filter_arg.h"

#include <array>
#include <cctype>
#include <utility>

namespace exportd::ctl {
namespace {

using Json = nlohmann::json;

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool IsSymbol(char c) { return c == '=' || c == '!' || c == '<' || c == '>'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// The API's name of an operator as written on the command line ("" if unknown).
std::string OpName(std::string_view written) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 19> kOps = {{
      {"=", "eq"},      {"==", "eq"},    {"!=", "ne"},         {"<", "lt"},
      {"<=", "lte"},    {">", "gt"},     {">=", "gte"},        {"eq", "eq"},
      {"ne", "ne"},     {"lt", "lt"},    {"lte", "lte"},       {"gt", "gt"},
      {"gte", "gte"},   {"in", "in"},    {"prefix", "prefix"}, {"null", "null"},
      {"not-null", ""}, {"notnull", ""}, {"is-null", "null"},
  }};
  for (const auto& [spelling, name] : kOps) {
    if (written == spelling) return name.empty() ? "not-null" : std::string(name);
  }
  return "";
}

// A JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

Status Bad(std::string_view text, std::string_view why) {
  return InvalidArgument("--filter '" + std::string(text) + "': " + std::string(why) +
                         " (expected 'FIELD OP VALUE', OP one of = != < <= > >= in prefix null "
                         "not-null)");
}

}  // namespace

Json TypedValue(std::string_view text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    return std::string(text.substr(1, text.size() - 2));
  }
  if (IsJsonNumber(text)) {
    Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded() && parsed.is_number()) return parsed;
  }
  return std::string(text);
}

Result<FilterArg> ParseFilterArg(std::string_view text) {
  std::string_view rest = Trim(text);
  size_t end = 0;
  while (end < rest.size() && !IsSpace(rest[end]) && !IsSymbol(rest[end])) ++end;
  if (end == 0) return Bad(text, "no field name");
  FilterArg arg;
  arg.field = std::string(rest.substr(0, end));
  rest = Trim(rest.substr(end));

  size_t op_end = 0;
  if (!rest.empty() && IsSymbol(rest.front())) {
    while (op_end < rest.size() && IsSymbol(rest[op_end])) ++op_end;
  } else {
    while (op_end < rest.size() && !IsSpace(rest[op_end])) ++op_end;
  }
  if (op_end == 0) return Bad(text, "no operator");
  const std::string_view written = rest.substr(0, op_end);
  arg.op = OpName(written);
  if (arg.op.empty()) return Bad(text, "unknown operator '" + std::string(written) + "'");
  const std::string_view value = Trim(rest.substr(op_end));

  if (arg.op == "null" || arg.op == "not-null") {
    if (!value.empty()) return Bad(text, std::string(written) + " takes no value");
    arg.value = (arg.op == "null");
    arg.op = "null";
    return arg;
  }
  if (value.empty()) return Bad(text, "no value");
  if (arg.op == "prefix") {
    arg.value = std::string(value);
  } else if (arg.op == "in") {
    arg.value = Json::array();
    std::string_view items = value;
    while (true) {
      const size_t comma = items.find(',');
      const std::string_view item = Trim(items.substr(0, comma));
      if (item.empty()) return Bad(text, "an empty value in the 'in' list");
      arg.value.push_back(TypedValue(item));
      if (comma == std::string_view::npos) break;
      items.remove_prefix(comma + 1);
    }
  } else {
    arg.value = TypedValue(value);
  }
  return arg;
}

Result<Json> FilterObject(const std::vector<FilterArg>& args) {
  Json out = Json::object();
  for (const FilterArg& arg : args) {
    Json& spec = out[arg.field];
    if (spec.is_null()) spec = Json::object();
    if (spec.contains(arg.op)) {
      return InvalidArgument("--filter: field '" + arg.field + "' has operator '" + arg.op +
                             "' twice; conditions on one field are ANDed, so give it once");
    }
    spec[arg.op] = arg.value;
  }
  for (auto& [field, spec] : out.items()) {
    if (spec.size() == 1 && spec.contains("eq")) {
      Json value = spec["eq"];
      spec = std::move(value);
    }
  }
  return out;
}

}  // namespace exportd::ctl
