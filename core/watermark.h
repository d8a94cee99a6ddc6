// Watermarks: where the next incremental export of each partition of a dataset starts, and the
// rules that move them. Stored by a WatermarkStore (core/watermark_store.h).
#ifndef EXPORTD_CORE_WATERMARK_H_
#define EXPORTD_CORE_WATERMARK_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/task.h"

namespace exportd {

struct Watermark {
  std::string dataset;
  std::string partition;
  TimePoint watermark{};
  // The incremental task whose success set it; nullopt when an admin set it by hand.
  std::optional<std::string> task_id;
  TimePoint updated_at{};

  friend bool operator==(const Watermark&, const Watermark&) = default;
};

// One partition's watermarks as the store holds them: partition -> watermark.
using WatermarkMap = std::map<std::string, TimePoint>;

// What the transition of an incremental task to Succeeded does to the watermarks of its dataset:
// each partition of its window (Task::window) whose watermark is absent or earlier than the
// window's end moves to that end. A watermark at or after it stays (a window that ends before its
// watermark exported nothing and never moves it back). Each change comes with its "watermark"
// event, dated `now`, caused by `origin`. Empty unless `after` is an incremental export with a
// window that has just become Succeeded (from `before`, the task as stored until then). Stores
// apply the changes in the transaction of that transition, so that a crash cannot separate them.
struct WatermarkChange {
  Watermark watermark;                // as it is to be stored
  std::optional<TimePoint> previous;  // nullopt: the partition had none
  TaskEvent event;
};
// The dataset whose watermarks a transition from `before` to `after` may move (read them for
// AdvanceWatermarks); nullopt when it moves none.
std::optional<std::string> WatermarksMovedBy(const Task& before, const Task& after);
std::vector<WatermarkChange> AdvanceWatermarks(const Task& before, const Task& after,
                                               const WatermarkMap& current, TimePoint now,
                                               const EventOrigin& origin);

// The "watermark" audit event of a change made by hand (set: `to` given; delete: nullopt), which
// belongs to no task.
TaskEvent ManualWatermarkEvent(const std::string& dataset, const std::string& partition,
                               std::optional<TimePoint> from, std::optional<TimePoint> to,
                               TimePoint now, const EventOrigin& origin);

}  // namespace exportd

#endif  // EXPORTD_CORE_WATERMARK_H_
