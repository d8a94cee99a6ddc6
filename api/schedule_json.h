// JSON of /v1/schedules: the bodies clients send (decoded into core's ScheduleSpec,
// SchedulePatch and a preview query) and the schedule as the API shows it.
//
// Errors as in request_codec.h: syntax and types kMalformed (400), meaning kInvalidArgument
// (422), each with a JSON pointer into the body. The `request` member is decoded by
// ParseCreateExportJson, the decoder of POST /v1/exports bodies; its pointers come back under
// "/request". Nothing here throws.
#ifndef EXPORTD_API_SCHEDULE_JSON_H_
#define EXPORTD_API_SCHEDULE_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/schedule_service.h"
#include "core/status.h"

namespace exportd::api {

// POST /v1/schedules: name, cron and request are required; time_zone defaults to "UTC",
// enabled to true, catch_up to "latest".
Result<ScheduleSpec> ParseScheduleCreateJson(std::string_view body);

// PATCH /v1/schedules/{id}: any of name, cron, time_zone, request (replaced whole), enabled,
// catch_up; at least one.
Result<SchedulePatch> ParseSchedulePatchJson(std::string_view body);

struct PreviewQuery {
  std::string cron;
  std::string time_zone = "UTC";
  TimePoint from{};
  int count = kNextRunsShown;
};

// POST /v1/schedules/preview: {"cron" (required), "time_zone", "from" (RFC 3339; default
// `now`), "count" (default 5; its range is checked by ScheduleService::Preview)}.
Result<PreviewQuery> ParsePreviewJson(std::string_view body, TimePoint now);

// The schedule as openapi.yaml shows it; `request` is a create-export body (webhook URLs
// shortened to their origin, as tasks show them: their paths often carry tokens).
nlohmann::json ScheduleToJson(const ScheduleView& view);
nlohmann::json ScheduleTemplateToJson(const ScheduleTemplate& request);
// {"runs": [...]}
nlohmann::json PreviewToJson(const std::vector<SysSeconds>& runs);

}  // namespace exportd::api

#endif  // EXPORTD_API_SCHEDULE_JSON_H_
