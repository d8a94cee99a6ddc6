#include "core/cron.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <string>

namespace exportd {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::local_days;
using std::chrono::year_month_day;

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDayNames = {"sun", "mon", "tue", "wed",
                                                       "thu", "fri", "sat"};

struct FieldSpec {
  std::string_view name;
  int min;
  int max;
  // Names of min, min+1, ... (empty: numbers only).
  const std::string_view* names;
  size_t name_count;
};

constexpr FieldSpec kMinute{"minute", 0, 59, nullptr, 0};
constexpr FieldSpec kHour{"hour", 0, 23, nullptr, 0};
constexpr FieldSpec kDayOfMonth{"day-of-month", 1, 31, nullptr, 0};
constexpr FieldSpec kMonth{"month", 1, 12, kMonthNames.data(), kMonthNames.size()};
constexpr FieldSpec kDayOfWeek{"day-of-week", 0, 7, kDayNames.data(), kDayNames.size()};

Status FieldError(const FieldSpec& spec, const std::string& reason) {
  return InvalidArgument("cron " + std::string(spec.name) + " field: " + reason, "/cron");
}

std::string Quoted(std::string_view s) { return std::string("'").append(s).append("'"); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

// A number (at most 3 digits: nothing valid is longer) or, where the field has names, a name.
Result<int> ParseValue(std::string_view token, const FieldSpec& spec) {
  if (token.empty()) return FieldError(spec, "a value is missing");
  if (std::isalpha(static_cast<unsigned char>(token[0])) != 0) {
    for (size_t i = 0; i < spec.name_count; ++i) {
      if (EqualsIgnoreCase(token, spec.names[i])) return spec.min + static_cast<int>(i);
    }
    return FieldError(spec, Quoted(token) + (spec.name_count == 0 ? " is not a number"
                                                                  : " is not a number or a name"));
  }
  int value = 0;
  const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (error != std::errc() || end != token.data() + token.size() || token.size() > 3) {
    return FieldError(spec, Quoted(token) + " is not a number");
  }
  if (value < spec.min || value > spec.max) {
    return FieldError(spec, std::to_string(value) + " is out of range " + std::to_string(spec.min) +
                                "-" + std::to_string(spec.max));
  }
  return value;
}

// One list item: `*`, `v`, `a-b`, `*/n` or `a-b/n`; sets bit v for each value selected.
Status ParseItem(std::string_view item, const FieldSpec& spec, uint64_t& bits) {
  if (item.empty()) return FieldError(spec, "empty list item");
  std::string_view range = item;
  int step = 1;
  if (const size_t slash = item.find('/'); slash != std::string_view::npos) {
    range = item.substr(0, slash);
    const std::string_view step_text = item.substr(slash + 1);
    const auto [end, error] =
        std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
    if (step_text.empty() || error != std::errc() || end != step_text.data() + step_text.size() ||
        step_text.size() > 3) {
      return FieldError(spec, "step " + Quoted(step_text) + " is not a number");
    }
    if (step < 1 || step > spec.max) {
      return FieldError(spec, "step " + std::to_string(step) + " must be between 1 and " +
                                  std::to_string(spec.max));
    }
    if (range != "*" && range.find('-') == std::string_view::npos) {
      return FieldError(spec, "a step needs '*' or a range before it: " + Quoted(item));
    }
  }
  int low = spec.min;
  int high = spec.max;
  if (range != "*") {
    const size_t dash = range.find('-');
    auto first = ParseValue(range.substr(0, dash), spec);
    if (!first.ok()) return first.status();
    low = high = *first;
    if (dash != std::string_view::npos) {
      auto last = ParseValue(range.substr(dash + 1), spec);
      if (!last.ok()) return last.status();
      high = *last;
      if (low > high) {
        return FieldError(spec, "range " + Quoted(range) + " starts after it ends");
      }
    }
  }
  for (int v = low; v <= high; v += step) bits |= uint64_t{1} << v;
  return Status::Ok();
}

Status ParseField(std::string_view text, const FieldSpec& spec, uint64_t& bits) {
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    RETURN_IF_ERROR(ParseItem(text.substr(start, comma - start), spec, bits));
    if (comma == std::string_view::npos) return Status::Ok();
    start = comma + 1;
  }
}

constexpr std::array<int, 13> kMaxDaysInMonth = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

}  // namespace

Result<CronExpr> ParseCron(std::string_view text) {
  std::array<std::string_view, 5> fields;
  size_t count = 0;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == ' ' || text[i] == '\t') {
      ++i;
      continue;
    }
    const size_t end = std::min(text.find_first_of(" \t", i), text.size());
    if (count < fields.size()) fields[count] = text.substr(i, end - i);
    ++count;
    i = end;
  }
  if (count != fields.size()) {
    return InvalidArgument(
        "cron expression needs 5 fields (minute hour day-of-month month day-of-week), got " +
            std::to_string(count),
        "/cron");
  }
  const std::array<const FieldSpec*, 5> specs = {&kMinute, &kHour, &kDayOfMonth, &kMonth,
                                                 &kDayOfWeek};
  std::array<uint64_t, 5> bits{};
  for (size_t i = 0; i < fields.size(); ++i) {
    RETURN_IF_ERROR(ParseField(fields[i], *specs[i], bits[i]));
  }
  CronExpr expr;
  expr.minutes = std::bitset<60>(bits[0]);
  expr.hours = std::bitset<24>(bits[1]);
  expr.days_of_month = std::bitset<32>(bits[2]);
  expr.months = std::bitset<13>(bits[3]);
  expr.days_of_week = std::bitset<7>(bits[4] | (bits[4] >> 7));  // 7 is Sunday, as 0
  expr.day_of_month_star = fields[2].front() == '*';
  expr.day_of_week_star = fields[4].front() == '*';
  // With an unrestricted day-of-week the day-of-month alone decides: it must occur in some
  // selected month (February counts 29 days), or the expression could never fire.
  if (expr.day_of_week_star) {
    bool possible = false;
    for (int month = 1; month <= 12 && !possible; ++month) {
      if (!expr.months[month]) continue;
      for (int day = 1; day <= kMaxDaysInMonth[month] && !possible; ++day) {
        possible = expr.days_of_month[day];
      }
    }
    if (!possible) {
      return FieldError(kDayOfMonth, Quoted(fields[2]) + " never occurs in the months " +
                                         Quoted(fields[3]) + ", so the expression never fires");
    }
  }
  return expr;
}

bool MatchesDay(const CronExpr& expr, year_month_day date) {
  if (!expr.months[static_cast<unsigned>(date.month())]) return false;
  const bool dom = expr.days_of_month[static_cast<unsigned>(date.day())];
  const bool dow = expr.days_of_week[std::chrono::weekday(date).c_encoding()];
  if (expr.day_of_month_star || expr.day_of_week_star) return dom && dow;
  return dom || dow;
}

bool Matches(const CronExpr& expr, LocalSeconds reading) {
  const local_days day = floor<days>(reading);
  const auto time = std::chrono::hh_mm_ss(reading - day);
  return MatchesDay(expr, year_month_day(day)) && expr.hours[time.hours().count()] &&
         expr.minutes[time.minutes().count()];
}

namespace {

// The instant a selected reading fires at (see the header).
SysSeconds FiringInstant(const TimeZone& zone, LocalSeconds reading) {
  return zone.FromLocal(reading).first;
}

// The first day of the month after `day`'s, and the last day of the month before.
local_days NextMonth(year_month_day day) {
  return local_days((day.year() / day.month() / 1) + std::chrono::months(1));
}
local_days PreviousMonthEnd(year_month_day day) {
  return local_days(day.year() / day.month() / 1) - days(1);
}

// No clock in tzdata has jumped back by a day or more (the largest: 23 hours, Kwajalein 1969;
// 7 hours, Antarctica/Vostok 1994), so a reading later than ToLocal(t) by more than this was
// not shown at or before t.
constexpr std::chrono::hours kMaxFold(25);

}  // namespace

std::vector<SysSeconds> NextRuns(const CronExpr& expr, const TimeZone& zone, SysSeconds from,
                                 int count) {
  std::vector<SysSeconds> runs;
  if (count <= 0) return runs;
  // Firing instants grow with the reading, so no reading before from's own can fire after from.
  const LocalSeconds start = floor<std::chrono::minutes>(zone.ToLocal(from));
  const local_days last_day = floor<days>(start) + days(kCronSearchDays);
  for (local_days day = floor<days>(start); day <= last_day;) {
    const year_month_day date(day);
    if (!expr.months[static_cast<unsigned>(date.month())]) {
      day = NextMonth(date);
      continue;
    }
    if (MatchesDay(expr, date)) {
      for (int h = 0; h < 24; ++h) {
        if (!expr.hours[h] || day + std::chrono::hours(h + 1) <= start) continue;
        for (int m = 0; m < 60; ++m) {
          const LocalSeconds reading = day + std::chrono::hours(h) + std::chrono::minutes(m);
          if (!expr.minutes[m] || reading < start) continue;
          const SysSeconds at = FiringInstant(zone, reading);
          if (at <= from || (!runs.empty() && at <= runs.back())) continue;
          runs.push_back(at);
          if (runs.size() == static_cast<size_t>(count)) return runs;
        }
      }
    }
    day += days(1);
  }
  return runs;
}

std::optional<SysSeconds> LastRunAtOrBefore(const CronExpr& expr, const TimeZone& zone,
                                            SysSeconds t) {
  // Firing instants fall with the reading: walking readings down, the first one that fires at
  // or before t is the last run; a day or an hour whose first reading fires after t is skipped
  // whole.
  const LocalSeconds start = zone.ToLocal(t) + kMaxFold;
  const local_days first_day = floor<days>(start) - days(kCronSearchDays);
  for (local_days day = floor<days>(start); day >= first_day;) {
    const year_month_day date(day);
    if (!expr.months[static_cast<unsigned>(date.month())]) {
      day = PreviousMonthEnd(date);
      continue;
    }
    if (MatchesDay(expr, date) && FiringInstant(zone, LocalSeconds(day)) <= t) {
      for (int h = 23; h >= 0; --h) {
        const LocalSeconds hour = day + std::chrono::hours(h);
        if (!expr.hours[h] || FiringInstant(zone, hour) > t) continue;
        for (int m = 59; m >= 0; --m) {
          if (!expr.minutes[m]) continue;
          const SysSeconds at = FiringInstant(zone, hour + std::chrono::minutes(m));
          if (at <= t) return at;
        }
      }
    }
    day -= days(1);
  }
  return std::nullopt;
}

}  // namespace exportd
