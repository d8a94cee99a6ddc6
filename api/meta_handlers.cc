// Unauthenticated service routes: health, readiness, metrics, the OpenAPI document.
#include <map>

#include "api/handlers.h"
#include "api/problem.h"

namespace exportd::api {

void HandleHealthz(HandlerContext&, const httplib::Request&, httplib::Response& res) {
  SendJson(res, 200, R"({"status":"ok"})");
}

void HandleReadyz(HandlerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Status writable = ctx.deps.tasks->CheckWritable();
  if (!writable.ok()) {
    SendProblem(req, res, 503, "task store is not writable: " + writable.message());
    res.set_header("Retry-After", "5");
    return;
  }
  if (ctx.deps.check_object_store) {
    Status store = ctx.deps.check_object_store();
    if (!store.ok()) {
      SendProblem(req, res, 503, "object store is not usable: " + store.message());
      res.set_header("Retry-After", "5");
      return;
    }
  }
  SendJson(res, 200, R"({"status":"ready"})");
}

void HandleMetrics(HandlerContext& ctx, const httplib::Request&, httplib::Response& res) {
  Metrics::Gauges gauges;
  if (ctx.deps.running_exports) gauges.running_exports = ctx.deps.running_exports();
  if (ctx.deps.rows_exported) gauges.rows_exported = ctx.deps.rows_exported();
  Result<std::map<TaskState, int64_t>> counts = ctx.deps.tasks->CountByState();
  if (counts.ok()) gauges.tasks_by_state = std::move(counts).value();
  res.set_content(ctx.metrics.Render(gauges), "text/plain; version=0.0.4; charset=utf-8");
}

void HandleOpenApi(HandlerContext& ctx, const httplib::Request&, httplib::Response& res) {
  res.set_content(ctx.options.openapi_yaml, "application/yaml");
}

}  // namespace exportd::api
