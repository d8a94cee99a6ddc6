#include "core/time_format.h"

#include <charconv>
#include <cstdio>

namespace exportd {
namespace {

using std::chrono::days;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string FormatUtc(TimePoint t, bool with_millis) {
  auto ms_total = duration_cast<milliseconds>(t.time_since_epoch()).count();
  int64_t secs = ms_total / 1000;
  int64_t ms = ms_total % 1000;
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  int64_t day_count = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --day_count;
  }
  std::chrono::year_month_day ymd{std::chrono::sys_days{days{day_count}}};
  char buf[40];
  if (with_millis) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), int(sod / 3600), int(sod / 60 % 60),
                  int(sod % 60), int(ms));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), int(sod / 3600), int(sod / 60 % 60),
                  int(sod % 60));
  }
  return buf;
}

bool ReadDigits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::string FormatRfc3339(TimePoint t) { return FormatUtc(t, true); }
std::string FormatRfc3339Seconds(TimePoint t) { return FormatUtc(t, false); }

std::optional<TimePoint> ParseRfc3339(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (!ReadDigits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !ReadDigits(s, 5, 2, mo) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !ReadDigits(s, 11, 2, h) || s[13] != ':' || !ReadDigits(s, 14, 2, mi) || s[16] != ':' ||
      !ReadDigits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  if (h > 23 || mi > 59 || sec > 59) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{unsigned(mo)},
                                  std::chrono::day{unsigned(d)}};
  if (!ymd.ok()) return std::nullopt;
  size_t pos = 19;
  int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return std::nullopt;
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!ReadDigits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ReadDigits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  auto tp = std::chrono::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} +
            seconds{sec} + milliseconds{frac_ms} - std::chrono::minutes{offset_minutes};
  // TimePoint counts nanoseconds in an int64: converting an instant outside its range would
  // overflow (and wrap: "9999-12-31T23:59:59Z" became 1816-03-30). The lower end is rounded up
  // to a whole second so that the second an instant falls in is a TimePoint too.
  const milliseconds since_epoch = tp.time_since_epoch();
  if (since_epoch < std::chrono::ceil<seconds>(TimePoint::duration::min()) ||
      since_epoch > duration_cast<milliseconds>(TimePoint::duration::max())) {
    return std::nullopt;
  }
  return TimePoint{duration_cast<TimePoint::duration>(since_epoch)};
}

int64_t ToUnixMillis(TimePoint t) {
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}
TimePoint FromUnixMillis(int64_t ms) {
  return TimePoint{duration_cast<TimePoint::duration>(milliseconds{ms})};
}
int64_t ToUnixSeconds(TimePoint t) { return duration_cast<seconds>(t.time_since_epoch()).count(); }

}  // namespace exportd
