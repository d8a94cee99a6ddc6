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
  if (ctx.deps.check_sources) {
    Status sources = ctx.deps.check_sources();
    if (!sources.ok()) {
      SendProblem(req, res, 503, "source is not usable: " + sources.message());
      res.set_header("Retry-After", "5");
      return;
    }
  }
  SendJson(res, 200, R"({"status":"ready"})");
}

void HandleMetrics(HandlerContext& ctx, const httplib::Request&, httplib::Response& res) {
  Metrics::Gauges gauges;
  gauges.now = ctx.deps.clock != nullptr ? ctx.deps.clock->Now() : SystemClock().Now();
  if (ctx.deps.running_exports) gauges.running_exports = ctx.deps.running_exports();
  if (ctx.deps.notifications_queued) gauges.notifications_queued = ctx.deps.notifications_queued();
  // A figure the store cannot give now has no line (a scrape still answers); the store's
  // trouble shows on /readyz.
  if (Result<std::map<TaskState, int64_t>> counts = ctx.deps.tasks->CountByState(); counts.ok()) {
    gauges.tasks_by_state = std::move(counts).value();
  }
  if (ctx.deps.stats != nullptr) {
    if (Result<PendingSummary> pending = ctx.deps.stats->SummarizePending(gauges.now);
        pending.ok()) {
      gauges.pending = *pending;
    }
    if (Result<std::map<std::string, TimePoint>> marks = ctx.deps.stats->OldestWatermarks();
        marks.ok()) {
      gauges.oldest_watermarks = std::move(marks).value();
    }
  }
  res.set_content(ctx.metrics->Render(gauges), "text/plain; version=0.0.4; charset=utf-8");
}

void HandleOpenApi(HandlerContext& ctx, const httplib::Request&, httplib::Response& res) {
  res.set_content(ctx.options.openapi_yaml, "application/yaml");
}

}  // namespace exportd::api
