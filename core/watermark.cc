#include "core/watermark.h"

#include "core/time_format.h"

namespace exportd {
namespace {

std::string Describe(const std::optional<TimePoint>& t) { return t ? FormatRfc3339(*t) : "none"; }

TaskEvent WatermarkEvent(std::string task_id, const std::string& dataset,
                         const std::string& partition, std::optional<TimePoint> from,
                         std::optional<TimePoint> to, TimePoint now, const EventOrigin& origin) {
  TaskEvent event;
  event.task_id = std::move(task_id);
  event.at = now;
  event.type = "watermark";
  event.detail = std::string("dataset ").append(dataset).append(", partition ").append(partition);
  event.detail.append(": ").append(Describe(from)).append(" -> ").append(Describe(to));
  event.actor = origin.actor;
  event.remote = origin.remote;
  return event;
}

}  // namespace

std::optional<std::string> WatermarksMovedBy(const Task& before, const Task& after) {
  if (after.state != TaskState::kSucceeded || IsTerminal(before.state)) return std::nullopt;
  if (!after.request.incremental || !after.window) return std::nullopt;
  return after.request.dataset;
}

std::vector<WatermarkChange> AdvanceWatermarks(const Task& before, const Task& after,
                                               const WatermarkMap& current, TimePoint now,
                                               const EventOrigin& origin) {
  std::vector<WatermarkChange> changes;
  if (!WatermarksMovedBy(before, after)) return changes;
  const std::string& dataset = after.request.dataset;
  for (const PartitionWindow& w : after.window->partitions) {
    std::optional<TimePoint> previous;
    if (auto it = current.find(w.partition); it != current.end()) previous = it->second;
    if (previous && *previous >= w.until) continue;
    WatermarkChange change;
    change.watermark = Watermark{.dataset = dataset,
                                 .partition = w.partition,
                                 .watermark = w.until,
                                 .task_id = after.id,
                                 .updated_at = now};
    change.previous = previous;
    change.event = WatermarkEvent(after.id, dataset, w.partition, previous, w.until, now, origin);
    changes.push_back(std::move(change));
  }
  return changes;
}

TaskEvent ManualWatermarkEvent(const std::string& dataset, const std::string& partition,
                               std::optional<TimePoint> from, std::optional<TimePoint> to,
                               TimePoint now, const EventOrigin& origin) {
  return WatermarkEvent("", dataset, partition, from, to, now, origin);
}

}  // namespace exportd
