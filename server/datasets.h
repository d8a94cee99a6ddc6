// The datasets a running exportd (or `exportd verify --source`) reads from, each with its Source.
#ifndef EXPORTD_SERVER_DATASETS_H_
#define EXPORTD_SERVER_DATASETS_H_

#include "core/dataset.h"
#include "core/status.h"
#include "core/time_zone.h"
#include "server/config.h"

namespace exportd {

// The configured datasets, each with its Source; with none configured, the demo dataset, first
// created when missing if `create_demo` (else kFailedPrecondition). Each dataset's time_zone is
// looked up in `time_zones`, its row_filter and metrics.count_distinct checked against its
// fields: a bad one fails with a message naming the dataset and the key.
Result<DatasetCatalog> LoadDatasets(const Config& config, const TimeZoneDb& time_zones,
                                    bool create_demo = true);

}  // namespace exportd

#endif  // EXPORTD_SERVER_DATASETS_H_
