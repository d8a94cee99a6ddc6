#include "server/datasets.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "core/request_prepare.h"
#include "server/demo_dataset.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres_source/pg_source.h"
#include "storage/sqlite/sqlite_dataset.h"
#include "storage/sqlite/sqlite_source.h"

namespace exportd {
namespace {

namespace fs = std::filesystem;

// The spec's recurring-export rules checked against the resolved dataset: a zone the database
// knows (spelled as it spells it), a row filter valid as a request's filter (in canonical
// form), count_distinct fields that exist, each once.
Result<Dataset> CheckDatasetRules(Dataset resolved, const TimeZoneDb& time_zones) {
  DatasetSpec spec = resolved.spec();
  if (spec.time_zone) {
    Result<std::shared_ptr<const TimeZone>> zone = time_zones.Find(*spec.time_zone);
    if (!zone.ok()) {
      return InvalidArgument("time_zone '" + *spec.time_zone +
                             "' is not a known IANA time zone: " + zone.status().message());
    }
    spec.time_zone = (*zone)->name();
  }
  Result<std::vector<Condition>> row_filter = PrepareRowFilter(spec.row_filter, resolved);
  if (!row_filter.ok()) {
    return InvalidArgument("row_filter: " + row_filter.status().message() + " (at " +
                           row_filter.status().pointer() + ")");
  }
  spec.row_filter = std::move(row_filter).value();
  std::set<std::string_view> seen;
  for (const std::string& name : spec.count_distinct) {
    if (resolved.FindField(name) == nullptr) {
      return InvalidArgument("metrics.count_distinct names '" + name +
                             "', which is not a field of the dataset");
    }
    if (!seen.insert(name).second) {
      return InvalidArgument("metrics.count_distinct names '" + name + "' twice");
    }
  }
  std::vector<Field> fields = resolved.fields();
  return Dataset(std::move(spec), std::move(fields));
}

}  // namespace

Result<DatasetCatalog> LoadDatasets(const Config& config, const TimeZoneDb& time_zones,
                                    bool create_demo) {
  std::vector<DatasetSpec> specs = config.datasets;
  if (specs.empty()) {
    std::string path = (fs::path(config.data_dir) / "demo" / "samples.sqlite").string();
    if (!fs::exists(path)) {
      if (!create_demo) return FailedPrecondition("no demo dataset at " + path);
      std::error_code ec;
      fs::create_directories(fs::path(path).parent_path(), ec);
      spdlog::info("creating the demo dataset ({} rows) at {}", config.demo_rows, path);
      auto started = std::chrono::steady_clock::now();
      RETURN_IF_ERROR(CreateDemoDataset(path, config.demo_rows));
      spdlog::info(
          "demo dataset ready in {:.1f} s",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    specs.push_back(DemoDatasetSpec(path));
  }
  DatasetCatalog catalog;
  for (const DatasetSpec& spec : specs) {
    const bool postgres = spec.source.type == "postgres";
    Result<Dataset> dataset = postgres ? ResolvePgDataset(spec) : ResolveSqliteDataset(spec);
    if (dataset.ok()) dataset = CheckDatasetRules(std::move(dataset).value(), time_zones);
    if (!dataset.ok()) return dataset.status().WithContext("dataset '" + spec.name + "'");
    auto shared = std::make_shared<const Dataset>(std::move(dataset).value());
    ASSIGN_OR_RETURN(std::shared_ptr<Source> source,
                     postgres ? OpenPgSource(shared) : OpenSqliteSource(shared));
    RETURN_IF_ERROR(catalog.Add({shared, std::move(source)}));
    spdlog::info("dataset '{}': {} fields from {} ({})", spec.name, shared->fields().size(),
                 postgres ? RedactPgUrl(spec.source.url) : spec.source.path, spec.source.table);
  }
  return catalog;
}

}  // namespace exportd
