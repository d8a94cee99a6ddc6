// Unauthenticated service routes: health, readiness, metrics, the OpenAPI document.
#include <cstdio>

#include "api/handlers.h"
#include "api/problem.h"

namespace exportd::api {

void Metrics::Record(int http_status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_by_status_[http_status];
  seconds_sum_ += seconds;
  ++count_;
}

std::string Metrics::Render(const Gauges& gauges) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# HELP exportd_http_requests_total HTTP requests answered, by status code.\n";
  out += "# TYPE exportd_http_requests_total counter\n";
  for (const auto& [code, n] : requests_by_status_) {
    out += "exportd_http_requests_total{code=\"" + std::to_string(code) + "\"} " +
           std::to_string(n) + "\n";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", seconds_sum_);
  out += "# HELP exportd_http_request_duration_seconds Time spent answering HTTP requests.\n";
  out += "# TYPE exportd_http_request_duration_seconds summary\n";
  out += "exportd_http_request_duration_seconds_sum " + std::string(buf) + "\n";
  out += "exportd_http_request_duration_seconds_count " + std::to_string(count_) + "\n";
  out += "# HELP exportd_exports_running Exports running in this process.\n";
  out += "# TYPE exportd_exports_running gauge\n";
  out += "exportd_exports_running " + std::to_string(gauges.running_exports) + "\n";
  out += "# HELP exportd_rows_exported_total Rows written by exports that succeeded.\n";
  out += "# TYPE exportd_rows_exported_total counter\n";
  out += "exportd_rows_exported_total " + std::to_string(gauges.rows_exported) + "\n";
  out += "# HELP exportd_tasks Tasks in the task store, by state.\n";
  out += "# TYPE exportd_tasks gauge\n";
  for (TaskState s : {TaskState::kPending, TaskState::kProcessing, TaskState::kSucceeded,
                      TaskState::kFailed, TaskState::kCancelled}) {
    auto it = gauges.tasks_by_state.find(s);
    out += "exportd_tasks{state=\"" + std::string(TaskStateName(s)) + "\"} " +
           std::to_string(it == gauges.tasks_by_state.end() ? 0 : it->second) + "\n";
  }
  return out;
}

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
