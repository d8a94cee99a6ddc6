#include "api/task_json.h"

#include <cmath>
#include <cstdio>

#include "core/canonical_json.h"
#include "core/notification.h"
#include "core/task_metrics_json.h"
#include "core/text.h"
#include "core/time_format.h"

namespace exportd::api {
namespace {

using nlohmann::json;

json OptTime(const std::optional<TimePoint>& t) {
  return t ? json(FormatRfc3339(*t)) : json(nullptr);
}

}  // namespace

// A download link lives url_ttl, but never past the expiry of the task's files. Links carry
// their expiry in whole seconds, so it is cut to the second here too: expires_at is then exactly
// when the link stops working, and a rendering stays the same for the rest of its second
// (TaskBodyCache relies on that).
TimePoint LinkExpiry(const Task& task, const TaskViewContext& ctx) {
  TimePoint expires = ctx.now + ctx.url_ttl;
  if (task.files_expire_at && (*task.files_expire_at < expires || ctx.links_until_files_expire)) {
    expires = *task.files_expire_at;
  }
  if (ctx.max_link_ttl && ctx.now + *ctx.max_link_ttl < expires) {
    expires = ctx.now + *ctx.max_link_ttl;
  }
  return std::chrono::floor<std::chrono::seconds>(expires);
}

namespace {

json FileToJson(const Task& task, const FileInfo& f, const TaskViewContext& ctx) {
  json out = {{"name", f.name},
              {"rows", f.rows},
              {"bytes", f.bytes},
              {"sha256", f.sha256},
              {"content_type", f.content_type}};
  if (f.contains_formulas) out["contains_formulas"] = *f.contains_formulas;
  out["partition"] = f.partition ? json(*f.partition) : json(nullptr);
  TimePoint expires = LinkExpiry(task, ctx);
  Result<std::string> url = ctx.objects->DownloadUrl(task.id, f.name, expires);
  out["url"] = url.ok() ? json(*url) : json(nullptr);
  out["expires_at"] = FormatRfc3339(expires);
  return out;
}

json NotificationsToJson(const std::vector<HookDelivery>& deliveries) {
  json out = json::array();
  for (const HookDelivery& d : deliveries) {
    out.push_back({
        {"channel", d.channel},
        {"target", HookTargetForLog(d.channel, d.target)},
        {"status", std::string(DeliveryStatusName(d.status))},
        {"attempts", d.attempts},
        {"last_attempt_at", OptTime(d.last_attempt_at)},
        {"last_error", d.last_error ? json(*d.last_error) : json(nullptr)},
        {"delivered_at", OptTime(d.delivered_at)},
    });
  }
  return out;
}

}  // namespace

json TaskToJson(const Task& task, const TaskViewContext& ctx) {
  ProgressView view = ViewProgress(task, ctx.now);
  json progress = {
      {"rows", task.progress.rows},
      {"rows_total", task.progress.rows_total ? json(*task.progress.rows_total) : json(nullptr)},
      {"bytes", task.progress.bytes},
      {"percent", view.percent ? json(*view.percent) : json(nullptr)},
      {"eta_seconds", view.eta_seconds ? json(*view.eta_seconds) : json(nullptr)},
  };
  json error = nullptr;
  if (task.error) {
    error = {{"code", task.error->code},
             {"message", task.error->message},
             {"retryable", task.error->retryable}};
  }
  json notify = nullptr;
  if (task.notify.webhook || !task.notify.email.empty()) {
    notify = json::object();
    // The origin only, as everywhere else a hook is shown: the resource also goes to admins, to
    // the receivers themselves and into logs of whoever fetches it.
    if (task.notify.webhook) notify["webhook"] = UrlOriginForLog(*task.notify.webhook);
    if (!task.notify.email.empty()) notify["email"] = task.notify.email;
  }
  json files = json::array();
  const std::string self = "/v1/exports/" + task.id;
  json links = {{"self", self}, {"cancel", self + "/cancel"}, {"events", self + "/events"}};
  if (task.state == TaskState::kSucceeded) {
    for (const FileInfo& f : task.files) files.push_back(FileToJson(task, f, ctx));
    if (task.manifest) {
      Result<std::string> url =
          ctx.objects->DownloadUrl(task.id, task.manifest->name, LinkExpiry(task, ctx));
      if (url.ok()) links["manifest"] = *url;
    }
  }
  return json{
      {"id", task.id},
      {"status", std::string(TaskStateName(task.state))},
      {"dataset", task.request.dataset},
      {"format", std::string(FormatName(task.request.format))},
      {"request", json::parse(CanonicalJson(task.request))},
      {"query_hash", task.query_hash},
      {"tag", task.tag ? json(*task.tag) : json(nullptr)},
      {"notify", notify},
      {"notifications", NotificationsToJson(task.notifications)},
      {"created_at", FormatRfc3339(task.created_at)},
      {"started_at", OptTime(task.started_at)},
      {"finished_at", OptTime(task.finished_at)},
      {"updated_at", FormatRfc3339(task.updated_at)},
      {"attempts", task.attempts},
      {"max_attempts", task.max_attempts},
      {"recoveries", task.recoveries},
      {"progress", progress},
      {"error", error},
      {"cancel_requested", task.cancel_requested},
      {"pause_requested", task.pause_requested},
      {"files", files},
      {"csv_contains_formulas",
       task.csv_contains_formulas ? json(*task.csv_contains_formulas) : json(nullptr)},
      {"retention_seconds", task.retention.count()},
      {"files_expire_at", OptTime(task.files_expire_at)},
      {"window", task.window ? json::parse(TaskWindowJson(*task.window)) : json(nullptr)},
      {"metrics", task.metrics ? json::parse(TaskMetricsJson(*task.metrics)) : json(nullptr)},
      {"schedule_id", task.schedule_id ? json(*task.schedule_id) : json(nullptr)},
      {"links", links},
  };
}

json ImportTaskToJson(const Task& task, const TaskViewContext& ctx) {
  json out = TaskToJson(task, ctx);
  const std::string self = "/v1/imports/" + task.id;
  out["links"] = {{"self", self}, {"cancel", self + "/cancel"}, {"events", self + "/events"}};
  json request = {{"dataset", task.request.dataset},
                  {"format", std::string(FormatName(task.request.format))},
                  {"compression", std::string(CompressionName(task.request.compression))}};
  if (task.import) {
    const ImportSpec& spec = *task.import;
    request["on_conflict"] = std::string(OnConflictName(spec.on_conflict));
    request["from_export"] = spec.from_export ? json(*spec.from_export) : json(nullptr);
    request["from_prefix"] = spec.from_prefix ? json(*spec.from_prefix) : json(nullptr);
    request["upload"] = spec.upload;
    request["content_encoding"] = spec.gzip ? json("gzip") : json(nullptr);
  }
  out["request"] = std::move(request);
  if (task.error) {
    json details = json::array();
    for (const ImportErrorDetail& d : task.error->details) {
      details.push_back(
          {{"file", d.file}, {"line", d.line}, {"column", d.column}, {"message", d.message}});
    }
    out["error"]["details"] = std::move(details);
  }
  const std::optional<ImportCounts>& counts = task.import_counts;
  out["rows_inserted"] = counts ? json(counts->rows_inserted) : json(nullptr);
  out["rows_skipped"] = counts ? json(counts->rows_skipped) : json(nullptr);
  out["rows_replaced"] = counts ? json(counts->rows_replaced) : json(nullptr);
  return out;
}

json EventToJson(const TaskEvent& event) {
  auto text_or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  return json{
      {"seq", event.seq},
      {"task_id", event.task_id.empty() ? json(nullptr) : json(event.task_id)},
      {"at", FormatRfc3339(event.at)},
      {"type", event.type},
      {"from", event.from ? json(std::string(TaskStateName(*event.from))) : json(nullptr)},
      {"to", event.to ? json(std::string(TaskStateName(*event.to))) : json(nullptr)},
      {"actor", text_or_null(event.actor)},
      {"remote", text_or_null(event.remote)},
      {"file", text_or_null(event.file)},
      {"bytes", event.bytes ? json(*event.bytes) : json(nullptr)},
      {"outcome", text_or_null(event.outcome)},
      {"detail", event.detail},
  };
}

json DatasetToJson(const Dataset& dataset) {
  json fields = json::array();
  for (const Field& f : dataset.fields()) {
    fields.push_back({{"name", f.name}, {"type", std::string(FieldTypeName(f.type))}});
  }
  const DatasetSpec& spec = dataset.spec();
  return json{
      {"name", spec.name},
      {"description", spec.description},
      {"key", spec.key},
      {"time_field", spec.time_field ? json(*spec.time_field) : json(nullptr)},
      {"partition_field", spec.partition_field ? json(*spec.partition_field) : json(nullptr)},
      {"fields", fields},
      {"time_zone", spec.time_zone ? json(*spec.time_zone) : json(nullptr)},
      {"settle_seconds", spec.settle_seconds},
      // The rows every export of the dataset is limited to, in the canonical request's filter
      // form: a client can see why rows it expected are not exported.
      {"row_filter", json::parse(CanonicalFilterJson(spec.row_filter))},
      {"metrics", json{{"count_distinct", spec.count_distinct}}},
      {"importable", spec.importable},
  };
}

std::string ProgressHeader(const Task& task, TimePoint now) {
  ProgressView view = ViewProgress(task, now);
  std::string out;
  if (view.percent) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g%% ", *view.percent);
    out += buf;
  }
  // Appended piece by piece: `"(" + std::to_string(...)` trips GCC 12's -Wrestrict false positive.
  out += '(';
  out += std::to_string(task.progress.rows);
  out += '/';
  out += task.progress.rows_total ? std::to_string(*task.progress.rows_total) : "?";
  out += " rows)";
  return out;
}

}  // namespace exportd::api
