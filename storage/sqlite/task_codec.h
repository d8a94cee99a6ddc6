// Task <-> the JSON text stored in tasks.body.
//
// The stored form belongs to storage: its enum spellings are fixed here, not borrowed from the
// API, so that a change to the wire format cannot silently change how old rows decode. Times are
// unix milliseconds, so a round trip is exact at millisecond precision (finer parts are dropped).
// Filter values keep their variant type: integers and reals stay distinct.
#ifndef EXPORTD_STORAGE_SQLITE_TASK_CODEC_H_
#define EXPORTD_STORAGE_SQLITE_TASK_CODEC_H_

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/task.h"

namespace exportd {

// Never fails. Thread-safe (pure).
std::string EncodeTask(const Task& task);

// kDataLoss if `json` is not a task written by EncodeTask (of this or an older version).
Result<Task> DecodeTask(std::string_view json);

// The task as it reads back after a store round trip: times truncated to milliseconds.
Task TruncateTimes(Task task);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_TASK_CODEC_H_
