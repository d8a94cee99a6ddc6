// The progress line of `exportctl watch` and `export --wait`: pure formatting (unit-tested) and
// the rows/s estimate between polls.
#ifndef EXPORTD_SERVER_EXPORTCTL_PROGRESS_BAR_H_
#define EXPORTD_SERVER_EXPORTCTL_PROGRESS_BAR_H_

#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

namespace exportd::ctl {

struct ProgressView {
  std::string status;
  int64_t rows = 0;
  std::optional<int64_t> rows_total;
  std::optional<double> percent;  // 0..100
  std::optional<double> rows_per_second;
  std::optional<int64_t> eta_seconds;
};

// The task's status and progress; a Succeeded task is at 100% (and rows_total = rows when the
// server gave none).
ProgressView ViewOfTask(const nlohmann::json& task, std::optional<double> rows_per_second);

// "1,234,567"
std::string FormatCount(int64_t n);
// "0:07", "12:03", "1:02:03"
std::string FormatDuration(int64_t seconds);

// One terminal line of at most `width` columns (no control characters):
// "Processing [#######-------------]  35%  35,000/100,000 rows  12,000 rows/s  ETA 0:05".
// The bar is 10 to 30 columns wide, by the width alone (so it does not jump while the text
// changes), and left out on narrower terminals or without a percent; the line is cut at `width`.
std::string FormatProgressBar(const ProgressView& view, int width);

// One line for a log or a pipe: "Processing 35% 35000/100000 rows 12000 rows/s ETA 0:05".
std::string FormatProgressText(const ProgressView& view);

// Rows per second over the polls of the last `window_seconds`.
class RateMeter {
 public:
  explicit RateMeter(double window_seconds = 10) : window_(window_seconds) {}
  void Add(double at_seconds, int64_t rows);
  std::optional<double> RowsPerSecond() const;

 private:
  double window_;
  std::deque<std::pair<double, int64_t>> samples_;
};

}  // namespace exportd::ctl

#endif  // EXPORTD_SERVER_EXPORTCTL_PROGRESS_BAR_H_
