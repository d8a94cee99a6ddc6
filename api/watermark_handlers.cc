// GET /v1/datasets/{name}/watermarks, PUT and DELETE /v1/datasets/{name}/watermarks/{partition}.
#include <nlohmann/json.hpp>

#include "api/handlers.h"
#include "api/problem.h"
#include "core/time_format.h"

namespace exportd::api {
namespace {

using nlohmann::json;

json WatermarkToJson(const Watermark& w) {
  return json{{"partition", w.partition},
              {"watermark", FormatRfc3339(w.watermark)},
              {"task_id", w.task_id ? json(*w.task_id) : json(nullptr)},
              {"updated_at", FormatRfc3339(w.updated_at)}};
}

// {"watermark": "<RFC 3339>"}: the instant, or the error to answer.
Result<TimePoint> ParseWatermarkBody(const std::string& body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Malformed("the body is not valid JSON");
  if (!doc.is_object()) return Malformed("the body must be a JSON object");
  for (const auto& [key, value] : doc.items()) {
    if (key != "watermark") return InvalidArgument("unknown field '" + key + "'", "/" + key);
  }
  auto it = doc.find("watermark");
  if (it == doc.end()) return InvalidArgument("watermark is required", "/watermark");
  if (!it->is_string()) return Malformed("watermark must be a string (RFC 3339)", "/watermark");
  std::optional<TimePoint> at = ParseRfc3339(it->get<std::string>());
  if (!at) {
    return InvalidArgument("watermark must be an RFC 3339 timestamp, e.g. 2026-01-31T00:00:00Z",
                           "/watermark");
  }
  return *at;
}

}  // namespace

void HandleListWatermarks(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                          httplib::Response& res) {
  Result<std::vector<Watermark>> list = ctx.deps.watermarks->List(who, req.matches[1]);
  if (!list.ok()) {
    SendStatus(req, res, list.status());
    return;
  }
  json items = json::array();
  for (const Watermark& w : *list) items.push_back(WatermarkToJson(w));
  SendJson(res, 200, DumpJson(json{{"items", std::move(items)}}));
}

void HandlePutWatermark(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res) {
  if (!IsJsonContentType(req.get_header_value("Content-Type"))) {
    SendProblem(req, res, 415, "the request body must be application/json");
    return;
  }
  Result<TimePoint> at = ParseWatermarkBody(req.body);
  if (!at.ok()) {
    SendStatus(req, res, at.status());
    return;
  }
  Result<Watermark> saved = ctx.deps.watermarks->Put(who, req.matches[1], req.matches[2], *at);
  if (!saved.ok()) {
    SendStatus(req, res, saved.status());
    return;
  }
  SendJson(res, 200, DumpJson(WatermarkToJson(*saved)));
}

void HandleDeleteWatermark(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                           httplib::Response& res) {
  Status deleted = ctx.deps.watermarks->Delete(who, req.matches[1], req.matches[2]);
  if (!deleted.ok()) {
    SendStatus(req, res, deleted);
    return;
  }
  res.status = 204;
}

}  // namespace exportd::api
