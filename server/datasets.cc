#include "server/datasets.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "server/demo_dataset.h"
#include "storage/sqlite/sqlite_dataset.h"
#include "storage/sqlite/sqlite_source.h"

namespace exportd {
namespace {

namespace fs = std::filesystem;

}  // namespace

Result<DatasetCatalog> LoadDatasets(const Config& config, bool create_demo) {
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
    Result<Dataset> dataset = ResolveSqliteDataset(spec);
    if (!dataset.ok()) return dataset.status().WithContext("dataset '" + spec.name + "'");
    auto shared = std::make_shared<const Dataset>(std::move(dataset).value());
    ASSIGN_OR_RETURN(std::shared_ptr<Source> source, OpenSqliteSource(shared));
    RETURN_IF_ERROR(catalog.Add({shared, std::move(source)}));
    spdlog::info("dataset '{}': {} fields from {} ({})", spec.name, shared->fields().size(),
                 spec.source.path, spec.source.table);
  }
  return catalog;
}

}  // namespace exportd
