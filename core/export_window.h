// The time window of an export: what `export_type` fills in when a request gives no `until`,
// and the per-partition window an incremental export fixes when it first starts. Pure functions;
// the scheduler reads the watermarks and partitions and stores the result in Task::window.
#ifndef EXPORTD_CORE_EXPORT_WINDOW_H_
#define EXPORTD_CORE_EXPORT_WINDOW_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/request.h"
#include "core/task.h"
#include "core/time_zone.h"
#include "core/watermark.h"

namespace exportd {

// The `until` of an export of `type` that starts at `now` without one: instant = now minus
// `settle`; hourly = the start of the current local hour; daily = the start of the current local
// day, both in `zone` (core/local_calendar.h: DST-correct).
TimePoint DefaultUntil(ExportType type, TimePoint now, std::chrono::seconds settle,
                       const TimeZone& zone);

// Where a partition without a watermark starts when the request gives no `since`: the same local
// time one day earlier than `until` (daily; 23 or 25 hours across a DST change), one hour
// earlier (hourly), or the beginning of the data (instant: nullopt).
std::optional<TimePoint> DefaultSince(ExportType type, TimePoint until, const TimeZone& zone);

// The partitions an incremental export covers: the request's `partitions` when it lists some;
// otherwise every partition the dataset has now and every one that holds a watermark. Sorted,
// each once.
std::vector<std::string> IncrementalScope(const ExportRequest& request,
                                          const std::vector<std::string>& dataset_partitions,
                                          const WatermarkMap& watermarks);

// The window of an incremental export that ends at `until`: for each partition of `scope`,
// [its watermark, until), or [request.since, until) without a watermark, or
// [DefaultSince(...), until) without either. A partition whose watermark is at or after `until`
// is listed with since = its watermark: it exports nothing, and its watermark is not moved back.
TaskWindow IncrementalWindow(const ExportRequest& request, TimePoint until,
                             const std::vector<std::string>& scope, const WatermarkMap& watermarks,
                             const TimeZone& zone);

// Whether two incremental exports may not run at the same time: both incremental, over the same
// dataset, and their partitions overlap (no `partitions` list means every partition).
bool IncrementalScopesOverlap(const ExportRequest& a, const ExportRequest& b);

// Whether the Pending task `candidate` must stay Pending although it is ready: it is incremental
// and an incremental export of an overlapping scope that was created before it has not finished
// (`earlier`: the unfinished - Pending, Processing or Paused - tasks of its dataset created
// before it, in any order). A Paused earlier export is unfinished: the later ones wait until it
// is resumed and ends, or is cancelled.
// So overlapping incremental exports run one at a time in creation order, and each fixes its
// window only when the one before it has moved (or, failing, not moved) the watermarks.
bool MustWaitForEarlierExport(const Task& candidate, const std::vector<Task>& earlier);

// Whether a task fixes a window when it first starts: incremental exports, and exports whose
// export_type is hourly or daily without an `until` (their end is the start of the hour or day
// they start in).
bool NeedsWindow(const ExportRequest& request);

}  // namespace exportd

#endif  // EXPORTD_CORE_EXPORT_WINDOW_H_
