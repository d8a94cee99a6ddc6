#include "storage/postgres_source/pg_values.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "core/text.h"
#include "core/time_format.h"
#include "storage/base/base64.h"

namespace exportd {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

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
    if (IsAsciiDigit(c)) {
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
  // PostgreSQL writes the same shortest digits (extra_float_digits > 0), in fixed notation when
  // the decimal exponent is in [-4, 15). Such a text with a fraction and no zeros before its
  // first significant digit is also std::to_chars' choice (the scientific form is longer), so
  // it is already the text to write: no conversion for most values.
  const std::string_view digits = text.starts_with('-') ? text.substr(1) : text;
  if (text.find('.') != std::string_view::npos && !digits.starts_with("0.0") &&
      text.find_first_of("eEnN") == std::string_view::npos) {
    return {CellKind::kNumber, text};
  }
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
  for (size_t i = 2; i < text.size(); i += 2) {
    const int high = HexDigit(text[i]);
    const int low = HexDigit(text[i + 1]);
    if (high < 0 || low < 0) return false;
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  AppendBase64(bytes, out);
  return true;
}

namespace {

// COPY's text escapes, as the server's COPY FROM reads them (copyfromparse.c).
void DecodeCopyEscapes(std::string_view field, std::string& out) {
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    const char c = field[i];
    if (c != '\\' || i + 1 == field.size()) {
      out.push_back(c);
      continue;
    }
    const char e = field[++i];
    switch (e) {
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case 'x':
        if (i + 1 < field.size() && HexDigit(field[i + 1]) >= 0) {
          int value = HexDigit(field[++i]);
          if (i + 1 < field.size() && HexDigit(field[i + 1]) >= 0)
            value = value * 16 + HexDigit(field[++i]);
          out.push_back(static_cast<char>(value));
        } else {
          out.push_back('x');
        }
        break;
      default:
        if (e >= '0' && e <= '7') {
          int value = e - '0';
          for (int k = 0;
               k < 2 && i + 1 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '7'; ++k) {
            value = value * 8 + (field[++i] - '0');
          }
          out.push_back(static_cast<char>(value));
        } else {
          out.push_back(e);
        }
        break;
    }
  }
}

}  // namespace

bool SplitCopyTextRow(std::string_view row, std::vector<std::optional<std::string_view>>& fields,
                      std::vector<std::string>& scratch) {
  if (!row.empty() && row.back() == '\n') row.remove_suffix(1);
  // Most rows have no escape at all: one search of the row spares one per field.
  const bool escaped = std::memchr(row.data(), '\\', row.size()) != nullptr;
  const size_t want = fields.size();
  const char* p = row.data();
  const char* const end = p + row.size();
  size_t n = 0;
  for (;;) {
    if (n == want) return false;
    const char* q = p;
    while (q != end && *q != '\t') ++q;  // fields are short: a loop beats a call per field
    const std::string_view field(p, static_cast<size_t>(q - p));
    if (!escaped) {
      fields[n] = field;
    } else if (field == "\\N") {
      fields[n] = std::nullopt;
    } else if (std::memchr(field.data(), '\\', field.size()) == nullptr) {
      fields[n] = field;
    } else {
      scratch[n].clear();
      DecodeCopyEscapes(field, scratch[n]);
      fields[n] = std::string_view(scratch[n]);
    }
    ++n;
    if (q == end) break;
    p = q + 1;
  }
  return n == want;
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
