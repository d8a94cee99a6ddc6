#include "api/schedule_json.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "api/request_codec.h"
#include "api/request_values.h"
#include "core/text.h"
#include "core/time_format.h"

namespace exportd::api {
namespace {

using Json = nlohmann::json;

Result<Json> ParseObject(std::string_view body) {
  Json doc = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false,
                         /*ignore_comments=*/false);
  if (doc.is_discarded()) return Malformed("the body is not valid JSON");
  if (!doc.is_object()) return Malformed("the body must be a JSON object");
  return doc;
}

// nullptr when absent or null (an optional member given as null counts as absent).
const Json* Member(const Json& doc, const char* name) {
  auto it = doc.find(name);
  return it == doc.end() || it->is_null() ? nullptr : &*it;
}

Result<std::string> StringMember(const Json& v, const std::string& pointer) {
  if (!v.is_string()) return Malformed(pointer.substr(1) + " must be a string", pointer);
  return v.get<std::string>();
}

Result<bool> BoolMember(const Json& v, const std::string& pointer) {
  if (!v.is_boolean()) return Malformed(pointer.substr(1) + " must be true or false", pointer);
  return v.get<bool>();
}

Result<CatchUp> CatchUpMember(const Json& v) {
  ASSIGN_OR_RETURN(std::string name, StringMember(v, "/catch_up"));
  std::optional<CatchUp> catch_up = ParseCatchUp(name);
  if (!catch_up) return InvalidArgument("catch_up must be latest, all or none", "/catch_up");
  return *catch_up;
}

// The template, decoded as a POST /v1/exports body; its errors point under "/request".
Result<ScheduleTemplate> TemplateMember(const Json& v) {
  if (!v.is_object()) return Malformed("request must be a create-export object", "/request");
  Result<CreateExportInput> input = ParseCreateExportJson(v.dump());
  if (!input.ok()) {
    const Status& s = input.status();
    return Status(s.code(), "request: " + s.message(), "/request" + s.pointer());
  }
  ScheduleTemplate out;
  out.request = std::move(input->request);
  out.tag = std::move(input->tag);
  out.notify = std::move(input->notify);
  out.retention = input->retention;
  out.escape_formulas = input->escape_formulas;
  return out;
}

Status RejectUnknown(const Json& doc, const std::set<std::string, std::less<>>& known) {
  std::vector<std::string> unknown;
  for (const auto& [key, value] : doc.items()) {
    if (!known.contains(key)) unknown.push_back(key);
  }
  if (unknown.empty()) return Status::Ok();
  return InvalidArgument("unknown member(s): " + Join(unknown),
                         std::string("/").append(JsonPointerToken(unknown.front())));
}

const std::set<std::string, std::less<>> kScheduleMembers = {"name",    "cron",    "time_zone",
                                                             "request", "enabled", "catch_up"};

// Every member of a create or patch body that is present, into `patch`.
Status ReadScheduleMembers(const Json& doc, SchedulePatch& patch) {
  RETURN_IF_ERROR(RejectUnknown(doc, kScheduleMembers));
  if (const Json* v = Member(doc, "name")) {
    ASSIGN_OR_RETURN(patch.name, StringMember(*v, "/name"));
  }
  if (const Json* v = Member(doc, "cron")) {
    ASSIGN_OR_RETURN(patch.cron, StringMember(*v, "/cron"));
  }
  if (const Json* v = Member(doc, "time_zone")) {
    ASSIGN_OR_RETURN(patch.time_zone, StringMember(*v, "/time_zone"));
  }
  if (const Json* v = Member(doc, "request")) {
    ASSIGN_OR_RETURN(patch.request, TemplateMember(*v));
  }
  if (const Json* v = Member(doc, "enabled")) {
    ASSIGN_OR_RETURN(patch.enabled, BoolMember(*v, "/enabled"));
  }
  if (const Json* v = Member(doc, "catch_up")) {
    ASSIGN_OR_RETURN(patch.catch_up, CatchUpMember(*v));
  }
  return Status::Ok();
}

Json FilterValueToJson(const FilterValue& value) {
  return std::visit(
      [](const auto& v) -> Json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;
        } else {
          return v;
        }
      },
      value);
}

// {"field": {"op": value, ...}, ...}: the filter form ParseCreateExportJson reads.
Json FilterToJson(const std::vector<Condition>& filter) {
  Json out = Json::object();
  for (const Condition& c : filter) {
    Json arg;
    if (c.op == FilterOp::kIn) {
      arg = Json::array();
      for (const FilterValue& v : c.values) arg.push_back(FilterValueToJson(v));
    } else if (!c.values.empty()) {
      arg = FilterValueToJson(c.values.front());
    }
    out[c.field][std::string(FilterOpName(c.op))] = std::move(arg);
  }
  return out;
}

std::string Time(TimePoint t) { return FormatRfc3339(t); }

}  // namespace

Result<ScheduleSpec> ParseScheduleCreateJson(std::string_view body) {
  ASSIGN_OR_RETURN(Json doc, ParseObject(body));
  SchedulePatch given;
  RETURN_IF_ERROR(ReadScheduleMembers(doc, given));
  if (!given.name) return Malformed("name is required", "/name");
  if (!given.cron) return Malformed("cron is required", "/cron");
  if (!given.request) return Malformed("request is required", "/request");
  ScheduleSpec spec;
  spec.name = std::move(*given.name);
  spec.cron = std::move(*given.cron);
  if (given.time_zone) spec.time_zone = std::move(*given.time_zone);
  spec.request = std::move(*given.request);
  if (given.enabled) spec.enabled = *given.enabled;
  if (given.catch_up) spec.catch_up = *given.catch_up;
  return spec;
}

Result<SchedulePatch> ParseSchedulePatchJson(std::string_view body) {
  ASSIGN_OR_RETURN(Json doc, ParseObject(body));
  SchedulePatch patch;
  RETURN_IF_ERROR(ReadScheduleMembers(doc, patch));
  if (!patch.name && !patch.cron && !patch.time_zone && !patch.request && !patch.enabled &&
      !patch.catch_up) {
    return Malformed(
        "nothing to change: give any of name, cron, time_zone, request, enabled, catch_up");
  }
  return patch;
}

Result<PreviewQuery> ParsePreviewJson(std::string_view body, TimePoint now) {
  ASSIGN_OR_RETURN(Json doc, ParseObject(body));
  RETURN_IF_ERROR(RejectUnknown(doc, {"cron", "time_zone", "from", "count"}));
  PreviewQuery query;
  query.from = now;
  const Json* cron = Member(doc, "cron");
  if (cron == nullptr) return Malformed("cron is required", "/cron");
  ASSIGN_OR_RETURN(query.cron, StringMember(*cron, "/cron"));
  if (const Json* v = Member(doc, "time_zone")) {
    ASSIGN_OR_RETURN(query.time_zone, StringMember(*v, "/time_zone"));
  }
  if (const Json* v = Member(doc, "from")) {
    ASSIGN_OR_RETURN(std::string text, StringMember(*v, "/from"));
    ASSIGN_OR_RETURN(query.from, ParseTime(text, "/from"));
  }
  if (const Json* v = Member(doc, "count")) {
    if (!v->is_number_integer()) return Malformed("count must be an integer", "/count");
    // Out-of-range counts (beyond int too) stay out of range for ScheduleService::Preview.
    const int64_t count = v->is_number_unsigned()
                              ? static_cast<int64_t>(std::min<uint64_t>(
                                    v->get<uint64_t>(), uint64_t{kMaxPreviewRuns} + 1))
                              : v->get<int64_t>();
    query.count = static_cast<int>(std::clamp<int64_t>(count, 0, kMaxPreviewRuns + 1));
  }
  return query;
}

Json ScheduleTemplateToJson(const ScheduleTemplate& t) {
  const ExportRequest& r = t.request;
  Json out = {{"dataset", r.dataset},
              {"format", FormatName(r.format)},
              {"max_rows_per_file", r.max_rows_per_file},
              {"compression", CompressionName(r.compression)}};
  if (!r.fields.empty()) out["fields"] = r.fields;
  if (!r.filter.empty()) out["filter"] = FilterToJson(r.filter);
  if (r.since) out["since"] = Time(*r.since);
  if (r.until) out["until"] = Time(*r.until);
  if (!r.partitions.empty()) out["partitions"] = r.partitions;
  if (r.incremental) out["incremental"] = true;
  if (r.export_type != ExportType::kInstant) out["export_type"] = ExportTypeName(r.export_type);
  if (r.time_zone) out["time_zone"] = *r.time_zone;
  if (!r.record_ids.empty()) {
    Json ids = Json::array();
    for (const FilterValue& id : r.record_ids) ids.push_back(FilterValueToJson(id));
    out["record_ids"] = std::move(ids);
  }
  if (r.split_by) out["split_by"] = SplitByName(*r.split_by);
  if (t.tag) out["tag"] = *t.tag;
  if (t.notify.webhook || !t.notify.email.empty()) {
    Json notify = Json::object();
    if (t.notify.webhook) notify["webhook"] = UrlOriginForLog(*t.notify.webhook);
    if (!t.notify.email.empty()) notify["email"] = t.notify.email;
    out["notify"] = std::move(notify);
  }
  if (t.retention) out["retention"] = t.retention->count();
  if (t.escape_formulas) out["escape_formulas"] = *t.escape_formulas;
  return out;
}

Json ScheduleToJson(const ScheduleView& view) {
  const Schedule& s = view.schedule;
  Json next_runs = Json::array();
  for (SysSeconds t : view.next_runs) next_runs.push_back(Time(t));
  Json last_run = nullptr;
  if (s.last_run) {
    last_run = {{"slot", Time(s.last_run->slot)},
                {"task_id", s.last_run->task_id},
                {"at", Time(s.last_run->at)}};
  }
  return {{"id", s.id},
          {"name", s.name},
          {"cron", s.cron},
          {"time_zone", s.time_zone},
          {"request", ScheduleTemplateToJson(s.request)},
          {"enabled", s.enabled},
          {"catch_up", CatchUpName(s.catch_up)},
          {"created_at", Time(s.created_at)},
          {"updated_at", Time(s.updated_at)},
          {"next_runs", std::move(next_runs)},
          {"last_run", std::move(last_run)}};
}

Json PreviewToJson(const std::vector<SysSeconds>& runs) {
  Json out = Json::array();
  for (SysSeconds t : runs) out.push_back(Time(t));
  return {{"runs", std::move(out)}};
}

}  // namespace exportd::api
