// The JSON text of a task's window and metrics: one rendering for the manifest (written by the
// export runner) and the API's task (api/task_json.cc), so that both say the same thing.
#ifndef EXPORTD_CORE_TASK_METRICS_JSON_H_
#define EXPORTD_CORE_TASK_METRICS_JSON_H_

#include <string>

#include "core/task.h"

namespace exportd {

// {"partitions":[{"partition":"p1","since":"...Z"|null,"until":"...Z"}],"until":"...Z"}
std::string TaskWindowJson(const TaskWindow& window);

// {"distinct":{"field":{"p1":40}},"excluded_rows":3,"missing_ids":0,"missing_ids_sample":[..],
//  "rows_by_partition":{"p1":120}}
std::string TaskMetricsJson(const TaskMetrics& metrics);

}  // namespace exportd

#endif  // EXPORTD_CORE_TASK_METRICS_JSON_H_
