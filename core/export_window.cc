#include "core/export_window.h"

#include <algorithm>
#include <set>

#include "core/local_calendar.h"
#include "core/time_zone.h"

namespace exportd {
namespace {}  // namespace

TimePoint DefaultUntil(ExportType type, TimePoint now, std::chrono::seconds settle,
                       const TimeZone& zone) {
  switch (type) {
    case ExportType::kHourly:
      return StartOfLocalHour(zone, FloorSeconds(now));
    case ExportType::kDaily:
      return StartOfLocalDay(zone, FloorSeconds(now));
    case ExportType::kInstant:
      break;
  }
  return now - settle;
}

std::optional<TimePoint> DefaultSince(ExportType type, TimePoint until, const TimeZone& zone) {
  switch (type) {
    case ExportType::kHourly:
      return until - std::chrono::hours(1);
    case ExportType::kDaily: {
      // The same wall-clock reading a day earlier; sub-second parts of `until` carry over.
      const SysSeconds whole = FloorSeconds(until);
      const LocalResolution earlier = zone.FromLocal(zone.ToLocal(whole) - std::chrono::days(1));
      return TimePoint(earlier.first) + (until - TimePoint(whole));
    }
    case ExportType::kInstant:
      break;
  }
  return std::nullopt;
}

std::vector<std::string> IncrementalScope(const ExportRequest& request,
                                          const std::vector<std::string>& dataset_partitions,
                                          const WatermarkMap& watermarks) {
  std::set<std::string> scope;
  if (!request.partitions.empty()) {
    scope.insert(request.partitions.begin(), request.partitions.end());
  } else {
    scope.insert(dataset_partitions.begin(), dataset_partitions.end());
    for (const auto& [partition, watermark] : watermarks) scope.insert(partition);
  }
  return {scope.begin(), scope.end()};
}

TaskWindow IncrementalWindow(const ExportRequest& request, TimePoint until,
                             const std::vector<std::string>& scope, const WatermarkMap& watermarks,
                             const TimeZone& zone) {
  TaskWindow window;
  window.until = until;
  const std::optional<TimePoint> fallback =
      request.since ? request.since : DefaultSince(request.export_type, until, zone);
  for (const std::string& partition : scope) {
    PartitionWindow w{.partition = partition, .since = fallback, .until = until};
    if (auto it = watermarks.find(partition); it != watermarks.end()) w.since = it->second;
    window.partitions.push_back(std::move(w));
  }
  return window;
}

bool IncrementalScopesOverlap(const ExportRequest& a, const ExportRequest& b) {
  if (!a.incremental || !b.incremental || a.dataset != b.dataset) return false;
  if (a.partitions.empty() || b.partitions.empty()) return true;
  // Canonical requests list their partitions sorted.
  std::vector<std::string> x = a.partitions;
  std::vector<std::string> y = b.partitions;
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  std::vector<std::string> common;
  std::set_intersection(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(common));
  return !common.empty();
}

bool MustWaitForEarlierExport(const Task& candidate, const std::vector<Task>& earlier) {
  if (!candidate.request.incremental) return false;
  return std::any_of(earlier.begin(), earlier.end(), [&](const Task& other) {
    return !IsTerminal(other.state) && other.id != candidate.id &&
           IncrementalScopesOverlap(other.request, candidate.request);
  });
}

bool NeedsWindow(const ExportRequest& request) {
  return request.incremental || (!request.until && request.export_type != ExportType::kInstant);
}

}  // namespace exportd
