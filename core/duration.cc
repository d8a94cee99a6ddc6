#include "core/duration.h"

#include <charconv>
#include <cstdint>

namespace exportd {
namespace {

constexpr std::string_view kExpected =
    "must be whole seconds or a duration like 7d, 36h, 90m or 3600s";

Status Bad(std::string_view text, const std::string& pointer) {
  // Appended rather than concatenated: g++ 12 at -O3 reports a false -Wrestrict for
  // "'" + std::string(...) (GCC bug 105329).
  std::string message;
  message.reserve(text.size() + kExpected.size() + 3);
  message.append(1, '\'').append(text).append("' ").append(kExpected);
  return InvalidArgument(message, pointer);
}

Status TooLong(const std::string& pointer) {
  return InvalidArgument("duration is longer than " + FormatDuration(kMaxDuration), pointer);
}

}  // namespace

Result<std::chrono::seconds> DurationFromSeconds(int64_t seconds, const std::string& pointer) {
  if (seconds < 0) return InvalidArgument("duration must not be negative", pointer);
  if (seconds > kMaxDuration.count()) return TooLong(pointer);
  return std::chrono::seconds(seconds);
}

Result<std::chrono::seconds> ParseDuration(std::string_view text, const std::string& pointer) {
  if (text.empty()) return Bad(text, pointer);
  int64_t unit = 1;
  std::string_view digits = text;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      unit = 0;
      break;
  }
  if (unit != 0) {
    digits.remove_suffix(1);
  } else {
    unit = 1;
  }
  // from_chars would take a leading '-'; only plain digits are a duration.
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return Bad(text, pointer);
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec == std::errc::result_out_of_range) return TooLong(pointer);
  if (ec != std::errc() || end != digits.data() + digits.size()) return Bad(text, pointer);
  if (n > static_cast<uint64_t>(kMaxDuration.count()) / static_cast<uint64_t>(unit)) {
    return TooLong(pointer);
  }
  return std::chrono::seconds(static_cast<int64_t>(n) * unit);
}

std::string FormatDuration(std::chrono::seconds d) {
  const int64_t s = d.count();
  if (s != 0 && s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

}  // namespace exportd
