// FileRetention: the tasks of a TaskStore (core/task_store.h) whose objects are due for
// deletion, and the record that they are gone.
#ifndef EXPORTD_CORE_FILE_RETENTION_H_
#define EXPORTD_CORE_FILE_RETENTION_H_

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/task.h"

namespace exportd {

// What the retention janitor asks of a TaskStore. Thread-safe. Every method is atomic; a
// returned OK means the change is durable.
class FileRetention {
 public:
  virtual ~FileRetention() = default;

  // The ids of terminal tasks whose files_expire_at is at or before `now` and that
  // still list files or a manifest, and of failed or cancelled tasks whose files_to_remove is set
  // (due from their finished_at), earliest first, at most `limit` (>= 1) (FilesDueAt).
  virtual Result<std::vector<std::string>> ListExpiredFiles(TimePoint now, int limit) = 0;
  // Records that the objects of a failed or cancelled task are gone (ObjectStore::DeleteAll
  // succeeded): clears files_to_remove. No event; a no-op when it is not set. kNotFound if unknown.
  virtual Status FilesRemoved(const std::string& id) = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_FILE_RETENTION_H_
