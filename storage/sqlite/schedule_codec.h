// What the owner of a schedule controls <-> the JSON text stored in schedules.body.
//
// Like the task codec (storage/sqlite/task_codec.h), the stored form belongs to storage: enum
// spellings are fixed here and the request template is written by the task codec's request
// encoding (storage/sqlite/request_record.h). The other columns of the row (id, principal, times,
// the last run) are not part of the body.
#ifndef EXPORTD_STORAGE_SQLITE_SCHEDULE_CODEC_H_
#define EXPORTD_STORAGE_SQLITE_SCHEDULE_CODEC_H_

#include <string>
#include <string_view>

#include "core/schedule.h"
#include "core/status.h"

namespace exportd {

// name, cron, time_zone, request, enabled, catch_up and enabled_at of `schedule`. Never fails.
std::string EncodeScheduleBody(const Schedule& schedule);

// Fills those members of `schedule` from `json`; kDataLoss if it is not a body written by
// EncodeScheduleBody (of this or an older version).
Status DecodeScheduleBody(std::string_view json, Schedule& schedule);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_SCHEDULE_CODEC_H_
