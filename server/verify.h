// `exportd verify`: the command around the data validator (core/verifier.h): opens the task
// store, the object store and the datasets, prints the report, answers an exit code.
#ifndef EXPORTD_SERVER_VERIFY_H_
#define EXPORTD_SERVER_VERIFY_H_

#include <ostream>
#include <string>

#include "core/object_store.h"
#include "core/status.h"
#include "core/task.h"
#include "core/verifier.h"
#include "server/config.h"

namespace exportd {

// VerifyExport (core/verifier.h) with this build's libraries as its tools.
Result<VerifyReport> VerifyExport(const Task& task, ObjectStore& store, const VerifySource* source);

// One line per file ("name  rows  bytes  OK" or "... MISMATCH: reasons"), then a summary line.
void PrintVerifyReport(const VerifyReport& report, std::ostream& out);

// `exportd verify TASK_ID [--source]` on config.data_dir's task store and files; the datasets
// come from `config` (the demo dataset is never created). Prints the report on `out`, errors
// on `err`, and returns the exit code: 0 everything matches; 1 a mismatch, or the check could
// not finish (with --source: a dataset's file missing or unreadable, or a configured column no
// longer in its table); 2 a usage error (no task store, unknown task, not Succeeded, files deleted,
// dataset not configured).
int VerifyCommand(const Config& config, const std::string& task_id, bool with_source,
                  std::ostream& out, std::ostream& err);

}  // namespace exportd

#endif  // EXPORTD_SERVER_VERIFY_H_
