#include "server/exportctl/progress_bar.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace exportd::ctl {
namespace {

using Json = nlohmann::json;

constexpr int kMinBarWidth = 10;
constexpr int kMaxBarWidth = 30;
// What the text of a typical Processing line takes besides the bar: "Processing [] 100%" and
// "  100,000/100,000 rows  15,000 rows/s  ETA 0:06" (longer numbers cut the line's end).
constexpr int kTextWidth = 66;

template <typename T>
std::optional<T> Member(const Json& object, const char* name) {
  if (!object.is_object() || !object.contains(name) || !object[name].is_number()) {
    return std::nullopt;
  }
  return object[name].get<T>();
}

std::string Percent(double percent) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%3d%%", static_cast<int>(std::floor(percent)));
  return buf;
}

}  // namespace

ProgressView ViewOfTask(const Json& task, std::optional<double> rows_per_second) {
  ProgressView v;
  if (task.contains("status") && task["status"].is_string()) v.status = task["status"];
  const Json progress = task.contains("progress") ? task["progress"] : Json::object();
  v.rows = Member<int64_t>(progress, "rows").value_or(0);
  v.rows_total = Member<int64_t>(progress, "rows_total");
  v.percent = Member<double>(progress, "percent");
  v.eta_seconds = Member<int64_t>(progress, "eta_seconds");
  v.rows_per_second = rows_per_second;
  if (v.status == "Succeeded") {
    v.percent = 100;
    v.eta_seconds.reset();
    if (!v.rows_total) v.rows_total = v.rows;
  } else if (!v.percent && v.rows_total && *v.rows_total > 0) {
    v.percent = 100.0 * static_cast<double>(v.rows) / static_cast<double>(*v.rows_total);
  }
  if (v.percent) v.percent = std::clamp(*v.percent, 0.0, 100.0);
  if (!v.eta_seconds && v.rows_total && v.rows_per_second && *v.rows_per_second > 0 &&
      v.status == "Processing") {
    v.eta_seconds = static_cast<int64_t>(std::ceil(
        static_cast<double>(std::max<int64_t>(0, *v.rows_total - v.rows)) / *v.rows_per_second));
  }
  return v;
}

std::string FormatCount(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string FormatDuration(int64_t seconds) {
  seconds = std::max<int64_t>(0, seconds);
  char buf[32];
  if (seconds >= 3600) {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", static_cast<long long>(seconds / 3600),
                  static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
  }
  return buf;
}

// Pieces are appended one by one: gcc 12 at -O3 misreads `"literal" + std::string&&` (a false
// -Wrestrict), and appending is what the line needs anyway.
std::string FormatProgressBar(const ProgressView& view, int width) {
  std::string tail = "  ";
  tail += FormatCount(view.rows);
  if (view.rows_total) tail.append("/").append(FormatCount(*view.rows_total));
  tail += " rows";
  const bool running = view.status == "Processing";
  if (view.rows_per_second && running) {
    tail.append("  ").append(FormatCount(std::llround(*view.rows_per_second))).append(" rows/s");
  }
  if (view.eta_seconds && running) tail.append("  ETA ").append(FormatDuration(*view.eta_seconds));
  // The bar keeps one width while the text beside it changes, so the line does not jump.
  const int bar_width = std::min(kMaxBarWidth, width - kTextWidth);
  std::string line = view.status;
  if (view.percent && bar_width >= kMinBarWidth) {
    const int filled = static_cast<int>(std::floor(*view.percent / 100.0 * bar_width));
    line.append(" [").append(filled, '#').append(bar_width - filled, '-').append("]");
  }
  if (view.percent) line.append(" ").append(Percent(*view.percent));
  line += tail;
  if (width > 0 && static_cast<int>(line.size()) > width) line.resize(width);
  return line;
}

std::string FormatProgressText(const ProgressView& view) {
  std::string line = view.status;
  if (view.percent) {
    line.append(" ")
        .append(std::to_string(static_cast<int>(std::floor(*view.percent))))
        .append("%");
  }
  line.append(" ").append(std::to_string(view.rows));
  if (view.rows_total) line.append("/").append(std::to_string(*view.rows_total));
  line += " rows";
  const bool running = view.status == "Processing";
  if (view.rows_per_second && running) {
    line.append(" ").append(std::to_string(std::llround(*view.rows_per_second))).append(" rows/s");
  }
  if (view.eta_seconds && running) line.append(" ETA ").append(FormatDuration(*view.eta_seconds));
  return line;
}

void RateMeter::Add(double at_seconds, int64_t rows) {
  if (!samples_.empty() && rows < samples_.back().second) samples_.clear();  // a retry restarted
  samples_.emplace_back(at_seconds, rows);
  while (samples_.size() > 2 && samples_.front().first < at_seconds - window_) {
    samples_.pop_front();
  }
}

std::optional<double> RateMeter::RowsPerSecond() const {
  if (samples_.size() < 2) return std::nullopt;
  const double dt = samples_.back().first - samples_.front().first;
  if (dt <= 0) return std::nullopt;
  return static_cast<double>(samples_.back().second - samples_.front().second) / dt;
}

}  // namespace exportd::ctl
