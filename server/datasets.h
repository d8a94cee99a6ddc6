// The datasets a running exportd (or `exportd verify --source`) reads from, each with its Source.
#ifndef EXPORTD_SERVER_DATASETS_H_
#define EXPORTD_SERVER_DATASETS_H_

#include "core/dataset.h"
#include "core/status.h"
#include "server/config.h"

namespace exportd {

// The configured datasets, each with its Source; with none configured, the demo dataset, first
// created when missing if `create_demo` (else kFailedPrecondition).
Result<DatasetCatalog> LoadDatasets(const Config& config, bool create_demo = true);

}  // namespace exportd

#endif  // EXPORTD_SERVER_DATASETS_H_
