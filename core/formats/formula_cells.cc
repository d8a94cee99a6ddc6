#include "core/formats/formula_cells.h"

#include <cstddef>

#include "core/text.h"

namespace exportd {
namespace {

// Advances `i` past a run of digits; returns how many there were.
size_t SkipDigits(std::string_view s, size_t& i) {
  const size_t start = i;
  while (i < s.size() && IsAsciiDigit(s[i])) ++i;
  return i - start;
}

}  // namespace

bool IsDecimalNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t mantissa_digits = SkipDigits(s, i);
  if (i < s.size() && s[i] == '.') {
    ++i;
    mantissa_digits += SkipDigits(s, i);
  }
  if (mantissa_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (SkipDigits(s, i) == 0) return false;
  }
  return i == s.size();
}

}  // namespace exportd
