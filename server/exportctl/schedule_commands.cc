#include "server/exportctl/schedule_commands.h"

#include <cstdio>

#include "server/exportctl/render.h"

namespace exportd::ctl {
namespace {

using Json = nlohmann::json;

std::string SchedulePath(const std::string& id) { return "/v1/schedules/" + PathSegment(id); }

std::string WatermarksPath(const std::string& dataset) {
  return "/v1/datasets/" + PathSegment(dataset) + "/watermarks";
}

// --json: the server's JSON; else `print`.
template <typename Print>
void Show(const Context& ctx, const Json& j, Print print) {
  if (ctx.json) {
    PrintJson(j);
  } else {
    print(stdout, j);
  }
}

}  // namespace

Status RunScheduleList(const Context& ctx) {
  ASSIGN_OR_RETURN(ApiResponse response, ctx.api.Expect("GET", "/v1/schedules"));
  Show(ctx, response.json, PrintScheduleList);
  return Status::Ok();
}

Status RunScheduleShow(const Context& ctx, const std::string& id) {
  ASSIGN_OR_RETURN(ApiResponse response, ctx.api.Expect("GET", SchedulePath(id)));
  Show(ctx, response.json, PrintSchedule);
  return Status::Ok();
}

Status RunScheduleCreate(const Context& ctx, const ScheduleArgs& args) {
  ASSIGN_OR_RETURN(Json request, ExportRequestBody(args.request));
  Json body = {{"name", args.name}, {"cron", args.cron}, {"request", request}};
  if (args.time_zone) body["time_zone"] = *args.time_zone;
  if (args.catch_up) body["catch_up"] = *args.catch_up;
  if (args.disabled) body["enabled"] = false;
  ASSIGN_OR_RETURN(ApiResponse response, ctx.api.Expect("POST", "/v1/schedules", &body));
  Show(ctx, response.json, PrintSchedule);
  return Status::Ok();
}

Status RunScheduleEnable(const Context& ctx, const std::string& id, bool enabled) {
  const Json body = {{"enabled", enabled}};
  ASSIGN_OR_RETURN(ApiResponse response, ctx.api.Expect("PATCH", SchedulePath(id), &body));
  Show(ctx, response.json, PrintSchedule);
  return Status::Ok();
}

Status RunScheduleRun(const Context& ctx, const std::string& id) {
  ASSIGN_OR_RETURN(ApiResponse response, ctx.api.Expect("POST", SchedulePath(id) + "/run"));
  Show(ctx, response.json, PrintTask);
  return Status::Ok();
}

Status RunScheduleRemove(const Context& ctx, const std::string& id) {
  RETURN_IF_ERROR(ctx.api.Expect("DELETE", SchedulePath(id)).status());
  if (!ctx.json) std::printf("schedule %s removed\n", id.c_str());
  return Status::Ok();
}

Status RunWatermarkList(const Context& ctx, const std::string& dataset) {
  ASSIGN_OR_RETURN(ApiResponse response, ctx.api.Expect("GET", WatermarksPath(dataset)));
  Show(ctx, response.json, PrintWatermarks);
  return Status::Ok();
}

Status RunWatermarkSet(const Context& ctx, const std::string& dataset, const std::string& partition,
                       const std::string& time) {
  const Json body = {{"watermark", time}};
  ASSIGN_OR_RETURN(
      ApiResponse response,
      ctx.api.Expect("PUT", WatermarksPath(dataset) + "/" + PathSegment(partition), &body));
  Show(ctx, response.json, [](std::FILE* out, const Json& item) {
    PrintWatermarks(out, Json{{"items", Json::array({item})}});
  });
  return Status::Ok();
}

Status RunWatermarkRemove(const Context& ctx, const std::string& dataset,
                          const std::string& partition) {
  RETURN_IF_ERROR(
      ctx.api.Expect("DELETE", WatermarksPath(dataset) + "/" + PathSegment(partition)).status());
  if (!ctx.json) std::printf("watermark of %s/%s removed\n", dataset.c_str(), partition.c_str());
  return Status::Ok();
}

}  // namespace exportd::ctl
