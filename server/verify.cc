#include "server/verify.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>

#include "core/export_runner.h"
#include "core/text.h"
#include "server/data_dir.h"
#include "server/datasets.h"
#include "server/object_store_factory.h"
#include "server/stores.h"
#include "server/verifier_tools.h"
#include "storage/fs/url_signer.h"
#include "storage/tz/date_time_zone_db.h"

namespace exportd {

Result<VerifyReport> VerifyExport(const Task& task, ObjectStore& store,
                                  const VerifySource* source) {
  return VerifyExport(task, store, source, LibraryVerifierTools());
}

void PrintVerifyReport(const VerifyReport& report, std::ostream& out) {
  size_t width = 0;
  for (const FileVerdict& f : report.files) width = std::max(width, f.name.size());
  int64_t rows = 0;
  int64_t bytes = 0;
  int bad = 0;
  for (const FileVerdict& f : report.files) {
    std::string line = f.name;
    line.append(width + 2 - f.name.size(), ' ');
    std::string rows_text = f.rows ? Plural(*f.rows, "row") : std::string();
    line.append(std::max<size_t>(12, rows_text.size()) - rows_text.size(), ' ');
    line.append(rows_text);
    std::string bytes_text = Plural(f.bytes, "byte");
    line.append(std::max<size_t>(17, bytes_text.size()) - bytes_text.size(), ' ');
    line.append(bytes_text);
    if (f.ok()) {
      line.append("  OK");
    } else {
      ++bad;
      line.append("  MISMATCH: ");
      for (size_t i = 0; i < f.problems.size(); ++i) {
        if (i > 0) line.append("; ");
        line.append(f.problems[i]);
      }
    }
    out << line << "\n";
    if (f.rows) rows += *f.rows;
    if (f.name != kManifestName) bytes += f.bytes;
  }
  const std::string against = report.source_compared ? "the task store, the manifest and the source"
                                                     : "the task store and the manifest";
  if (report.ok()) {
    out << "OK: task " << report.task_id << ", "
        << Plural(static_cast<int64_t>(report.files.size()), "file") << ", " << Plural(rows, "row")
        << ", " << Plural(bytes, "byte") << " match " << against << "\n";
  } else {
    out << "MISMATCH: task " << report.task_id << ", " << bad << " of "
        << Plural(static_cast<int64_t>(report.files.size()), "file") << " differ from " << against;
    if (report.first_difference) out << "; first difference: " << *report.first_difference;
    out << "\n";
  }
}

int VerifyCommand(const Config& config, const std::string& task_id, bool with_source,
                  std::ostream& out, std::ostream& err) {
  const auto fail = [&err](int code, const std::string& message) {
    err << "exportd verify: " << message << "\n";
    return code;
  };
  if (config.task_store.type != "postgres") {
    const std::string db_path = TaskDbPath(config);
    if (!std::filesystem::exists(db_path)) return fail(2, "no task store at " + db_path);
  }
  Result<Stores> stores = OpenStores(config);
  if (!stores.ok()) return fail(1, stores.status().ToString());
  Result<Task> task = stores->tasks->Get(task_id);
  if (!task.ok()) {
    if (task.status().code() == StatusCode::kNotFound) return fail(2, "unknown task " + task_id);
    return fail(1, task.status().ToString());
  }
  if (task->state != TaskState::kSucceeded) {
    return fail(2, "task " + task_id + " is " + std::string(TaskStateName(task->state)) +
                       ", not Succeeded");
  }
  if (task->files.empty()) return fail(2, "task " + task_id + " has no files (they were deleted)");
  // Verification issues no download links: the signer's secret is never used.
  SystemClock clock;
  Result<std::unique_ptr<ObjectStore>> store =
      MakeObjectStore(config, std::make_shared<const UrlSigner>(std::string()), clock,
                      /*check_bucket=*/false);
  if (!store.ok()) return fail(1, store.status().ToString());
  ObjectStore& objects = **store;

  std::optional<DatasetCatalog> datasets;
  VerifySource source;
  if (with_source) {
    Result<DatasetCatalog> loaded = LoadDatasets(config, DateTimeZoneDb(), /*create_demo=*/false);
    // A source that cannot be opened or no longer matches its configuration (the file gone, a
    // column renamed) means the check could not run: 1, as documented. No dataset configured at
    // all (and no demo dataset) is a usage error, as for a dataset that is not configured.
    if (!loaded.ok()) {
      return fail(config.datasets.empty() ? 2 : 1,
                  "cannot load the datasets: " + loaded.status().ToString());
    }
    datasets = std::move(loaded).value();
    const DatasetCatalog::Entry* entry = datasets->Find(task->request.dataset);
    if (entry == nullptr) {
      return fail(2, "dataset '" + task->request.dataset + "' is not configured");
    }
    source.dataset = entry->dataset.get();
    source.source = entry->source.get();
  }
  Result<VerifyReport> report = VerifyExport(*task, objects, with_source ? &source : nullptr);
  if (!report.ok()) return fail(1, "cannot verify: " + report.status().ToString());
  PrintVerifyReport(*report, out);
  return report->ok() ? 0 : 1;
}

}  // namespace exportd
