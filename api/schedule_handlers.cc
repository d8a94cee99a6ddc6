// Handlers for /v1/schedules: thin, over ScheduleService.
#include "api/handlers.h"
#include "api/problem.h"
#include "api/schedule_json.h"

namespace exportd::api {
namespace {

using nlohmann::json;

// The service, or an error already sent (a server built without schedules).
ScheduleService* Schedules(HandlerContext& ctx, const httplib::Request& req,
                           httplib::Response& res) {
  if (ctx.deps.schedules == nullptr) {
    SendStatus(req, res, Internal("schedules are not available in this server"));
  }
  return ctx.deps.schedules;
}

// A JSON body is required: 415 for another media type, 400 for none. False when answered.
bool CheckJsonBody(const httplib::Request& req, httplib::Response& res) {
  if (req.body.empty()) {
    SendStatus(req, res, Malformed("a JSON body is required"));
    return false;
  }
  if (!IsJsonContentType(req.get_header_value("Content-Type"))) {
    SendProblem(req, res, 415, "the request body must be application/json");
    return false;
  }
  return true;
}

void SendSchedule(httplib::Response& res, int http_status, const ScheduleView& view) {
  SendJson(res, http_status, DumpJson(ScheduleToJson(view)));
}

}  // namespace

void HandleCreateSchedule(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                          httplib::Response& res) {
  ScheduleService* schedules = Schedules(ctx, req, res);
  if (schedules == nullptr || !CheckJsonBody(req, res)) return;
  Result<ScheduleSpec> spec = ParseScheduleCreateJson(req.body);
  if (!spec.ok()) {
    SendStatus(req, res, spec.status());
    return;
  }
  Result<ScheduleView> created = schedules->Create(who, std::move(*spec));
  if (!created.ok()) {
    SendStatus(req, res, created.status());
    return;
  }
  res.set_header("Location", "/v1/schedules/" + created->schedule.id);
  SendSchedule(res, 201, *created);
}

void HandleListSchedules(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                         httplib::Response& res) {
  ScheduleService* schedules = Schedules(ctx, req, res);
  if (schedules == nullptr) return;
  if (!req.params.empty()) {
    SendStatus(req, res,
               InvalidArgument("unknown query parameter '" + req.params.begin()->first + "'"));
    return;
  }
  Result<std::vector<ScheduleView>> views = schedules->List(who);
  if (!views.ok()) {
    SendStatus(req, res, views.status());
    return;
  }
  json items = json::array();
  for (const ScheduleView& view : *views) items.push_back(ScheduleToJson(view));
  SendJson(res, 200, DumpJson(json{{"items", std::move(items)}}));
}

void HandleGetSchedule(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                       httplib::Response& res) {
  ScheduleService* schedules = Schedules(ctx, req, res);
  if (schedules == nullptr) return;
  Result<ScheduleView> view = schedules->Get(who, req.matches[1]);
  if (!view.ok()) {
    SendStatus(req, res, view.status());
    return;
  }
  SendSchedule(res, 200, *view);
}

void HandleUpdateSchedule(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                          httplib::Response& res) {
  ScheduleService* schedules = Schedules(ctx, req, res);
  if (schedules == nullptr) return;
  const std::string id = req.matches[1];
  // An unknown or another principal's id is 404 before the body is judged.
  if (Result<ScheduleView> existing = schedules->Get(who, id); !existing.ok()) {
    SendStatus(req, res, existing.status());
    return;
  }
  if (!CheckJsonBody(req, res)) return;
  Result<SchedulePatch> patch = ParseSchedulePatchJson(req.body);
  if (!patch.ok()) {
    SendStatus(req, res, patch.status());
    return;
  }
  Result<ScheduleView> updated = schedules->Update(who, id, std::move(*patch));
  if (!updated.ok()) {
    SendStatus(req, res, updated.status());
    return;
  }
  SendSchedule(res, 200, *updated);
}

void HandleDeleteSchedule(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                          httplib::Response& res) {
  ScheduleService* schedules = Schedules(ctx, req, res);
  if (schedules == nullptr) return;
  if (Status deleted = schedules->Delete(who, req.matches[1]); !deleted.ok()) {
    SendStatus(req, res, deleted);
    return;
  }
  res.status = 204;
}

void HandlePreviewSchedule(HandlerContext& ctx, const Principal& /*who*/,
                           const httplib::Request& req, httplib::Response& res) {
  ScheduleService* schedules = Schedules(ctx, req, res);
  if (schedules == nullptr || !CheckJsonBody(req, res)) return;
  Result<PreviewQuery> query = ParsePreviewJson(req.body, ctx.deps.clock->Now());
  if (!query.ok()) {
    SendStatus(req, res, query.status());
    return;
  }
  Result<std::vector<SysSeconds>> runs =
      schedules->Preview(query->cron, query->time_zone, query->from, query->count);
  if (!runs.ok()) {
    SendStatus(req, res, runs.status());
    return;
  }
  SendJson(res, 200, DumpJson(PreviewToJson(*runs)));
}

void HandleRunSchedule(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                       httplib::Response& res) {
  ScheduleService* schedules = Schedules(ctx, req, res);
  if (schedules == nullptr) return;
  Result<Task> task = schedules->Run(who, req.matches[1]);
  if (!task.ok()) {
    SendStatus(req, res, task.status());
    return;
  }
  res.set_header("Location", "/v1/exports/" + task->id);
  SendTask(ctx, res, 202, *task);
}

}  // namespace exportd::api
