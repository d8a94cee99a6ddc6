#include "storage/postgres_source/pg_values.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <system_error>

#include "core/time_format.h"
#include "storage/base/base64.h"

namespace exportd {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A finite decimal as sign, significant digits (no leading or trailing zeros) and the position
// of the decimal point relative to them: value = 0.digits * 10^exponent. Zero has no digits.
struct Decimal {
  bool negative = false;
  std::string digits;
  int exponent = 0;

  friend bool operator==(const Decimal&, const Decimal&) = default;
};

// Reads "[-]digits[.digits][e[+-]digits]" (numeric output and std::to_chars output). False for
// anything else.
bool ParseDecimal(std::string_view s, Decimal& out) {
  out = Decimal{};
  size_t i = 0;
  if (i < s.size() && s[i] == '-') {
    out.negative = true;
    ++i;
  }
  int point = 0;  // digits before the decimal point, leading zeros excluded
  bool seen_point = false;
  bool any_digit = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (IsDigit(c)) {
      any_digit = true;
      if (out.digits.empty() && c == '0') {
        if (seen_point) --point;  // a zero right after the point (or after leading zeros)
        continue;
      }
      out.digits.push_back(c);
      if (!seen_point) ++point;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any_digit) return false;
  int exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && s[i] == '+') ++i;
    const auto [end, ec] = std::from_chars(s.data() + i, s.data() + s.size(), exponent);
    if (ec != std::errc()) return false;
    i = static_cast<size_t>(end - s.data());
  }
  if (i != s.size()) return false;
  while (!out.digits.empty() && out.digits.back() == '0') out.digits.pop_back();
  if (out.digits.empty()) {
    out.negative = false;
    return true;
  }
  out.exponent = point + exponent;
  return true;
}

Cell ShortestDouble(double value, std::string& scratch) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  scratch.assign(buf, ec == std::errc() ? end : buf);
  return {CellKind::kNumber, scratch};
}

Cell NonFinite(std::string_view text) {
  if (text == "NaN") return Cell{};
  return {CellKind::kText, text.front() == '-' ? "-Inf" : "Inf"};
}

}  // namespace

PgKind PgKindOfType(uint32_t type_oid) {
  switch (type_oid) {
    case 20:  // int8
    case 21:  // int2
    case 23:  // int4
    case 26:  // oid
      return PgKind::kInteger;
    case 700:  // float4
    case 701:  // float8
      return PgKind::kFloat;
    case 1700:
      return PgKind::kNumeric;
    case 16:
      return PgKind::kBool;
    case 1184:
      return PgKind::kTimestamptz;
    case 1114:
      return PgKind::kTimestamp;
    case 17:
      return PgKind::kBytea;
    case 25:    // text
    case 1042:  // char(n)
    case 1043:  // varchar
    case 19:    // name
      return PgKind::kText;
    case 114:
      return PgKind::kJson;
    case 3802:
      return PgKind::kJsonb;
    default:
      return PgKind::kOther;
  }
}

Cell FloatCell(std::string_view text, std::string& scratch) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return {CellKind::kText, text};  // not a float's text: as it is
  }
  if (std::isnan(value)) return Cell{};
  if (std::isinf(value)) return {CellKind::kText, value > 0 ? "Inf" : "-Inf"};
  return ShortestDouble(value, scratch);
}

Cell NumericCell(std::string_view text, std::string& scratch) {
  if (text.empty()) return Cell{};
  if (text == "NaN" || text == "Infinity" || text == "-Infinity") return NonFinite(text);
  const size_t point = text.find('.');
  std::string_view whole = text.substr(0, point);
  std::string_view fraction = point == std::string_view::npos ? "" : text.substr(point + 1);
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  if (fraction.empty()) {
    int64_t integer = 0;
    const auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), integer);
    if (ec == std::errc() && end == whole.data() + whole.size()) {
      char buf[24];
      const auto [out_end, out_ec] = std::to_chars(buf, buf + sizeof buf, integer);
      scratch.assign(buf, out_end);
      return {CellKind::kNumber, scratch};
    }
  }
  // The exact decimal, trailing fraction zeros dropped.
  std::string exact(whole);
  if (!fraction.empty()) exact.append(".").append(fraction);
  double value = 0;
  const auto [end, ec] = std::from_chars(exact.data(), exact.data() + exact.size(), value);
  if (ec == std::errc() && std::isfinite(value)) {
    Decimal wanted;
    Decimal held;
    char buf[32];
    const auto [short_end, short_ec] = std::to_chars(buf, buf + sizeof buf, value);
    if (ParseDecimal(exact, wanted) && short_ec == std::errc() &&
        ParseDecimal(std::string_view(buf, static_cast<size_t>(short_end - buf)), held) &&
        wanted == held) {
      scratch.assign(buf, short_end);
      return {CellKind::kNumber, scratch};
    }
  }
  scratch = std::move(exact);
  return {CellKind::kNumber, scratch};
}

void AppendRfc3339FromPg(std::string_view text, std::string& out) {
  // "YYYY-MM-DD HH:MM:SS[.ffffff][+00]"
  const bool shaped = text.size() >= 19 && text[4] == '-' && text[7] == '-' && text[10] == ' ' &&
                      text[13] == ':' && text[16] == ':' && text.find(" BC") == text.npos;
  if (!shaped) {
    out.append(text);
    return;
  }
  std::string_view rest = text.substr(11);
  if (rest.ends_with("+00")) rest.remove_suffix(3);
  out.append(text.substr(0, 10)).append("T").append(rest).append("Z");
}

bool AppendBase64FromByteaHex(std::string_view text, std::string& out) {
  if (!text.starts_with("\\x") || text.size() % 2 != 0) return false;
  std::string bytes;
  bytes.reserve(text.size() / 2 - 1);
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 2; i < text.size(); i += 2) {
    const int high = nibble(text[i]);
    const int low = nibble(text[i + 1]);
    if (high < 0 || low < 0) return false;
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  AppendBase64(bytes, out);
  return true;
}

std::string PgInstantText(TimePoint t) {
  constexpr int64_t kNanosPerSecond = 1'000'000'000;
  int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  int64_t secs = ns / kNanosPerSecond;
  int64_t frac = ns % kNanosPerSecond;
  if (frac < 0) {
    frac += kNanosPerSecond;
    --secs;
  }
  std::string out = FormatRfc3339Seconds(TimePoint(std::chrono::seconds(secs)));
  out.pop_back();  // 'Z'
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%09lldZ", static_cast<long long>(frac));
  return out + buf;
}

}  // namespace exportd
