// The stored form of an ExportRequest inside storage's JSON records: the one written into
// tasks.body by the task codec, shared with the schedule codec so that both read and write a
// request the same way. Internal to storage/sqlite.
#ifndef EXPORTD_STORAGE_SQLITE_REQUEST_RECORD_H_
#define EXPORTD_STORAGE_SQLITE_REQUEST_RECORD_H_

#include <nlohmann/json.hpp>

#include "core/request.h"
#include "core/status.h"

namespace exportd {

// Never fails.
nlohmann::json EncodeRequestRecord(const ExportRequest& request);
// kDataLoss if `record` is not a request written by EncodeRequestRecord (of this or an older
// version).
Result<ExportRequest> DecodeRequestRecord(const nlohmann::json& record);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_SQLITE_REQUEST_RECORD_H_
