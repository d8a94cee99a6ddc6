// Handlers for /v1/exports and /v1/datasets.
#include <charconv>

#include "api/handlers.h"
#include "api/problem.h"
#include "api/request_codec.h"
#include "api/task_json.h"
#include "core/ulid.h"

namespace exportd::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxIdempotencyKey = 255;

std::string TaskBody(const TaskViewContext& view, const Task& task) {
  return TaskToJson(task, view).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void SendTask(const TaskViewContext& view, httplib::Response& res, int http_status,
              const Task& task) {
  if (!IsTerminal(task.state)) {
    res.set_header("Retry-After", "1");
    res.set_header("X-Progress", ProgressHeader(task, view.now));
  }
  SendJson(res, http_status, TaskBody(view, task));
}

}  // namespace

void SendTask(HandlerContext& ctx, httplib::Response& res, int http_status, const Task& task) {
  SendTask(ViewContext(ctx), res, http_status, task);
}

bool IsJsonContentType(const std::string& content_type) {
  std::string media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return media == "application/json" ||
         (media.size() > 5 && media.compare(media.size() - 5, 5, "+json") == 0);
}

void SendJson(httplib::Response& res, int http_status, const std::string& body) {
  res.status = http_status;
  res.set_content(body, "application/json");
}

void HandleCreateExport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res) {
  Result<CreateExportInput> input = Status(StatusCode::kInternal, "unset");
  if (!req.body.empty()) {
    if (!IsJsonContentType(req.get_header_value("Content-Type"))) {
      SendProblem(req, res, 415, "the request body must be application/json");
      return;
    }
    if (!req.params.empty()) {
      SendStatus(req, res,
                 InvalidArgument("send the request either as a JSON body or as query "
                                 "parameters, not both"));
      return;
    }
    input = ParseCreateExportJson(req.body);
  } else {
    if (req.params.empty()) {
      SendStatus(req, res, Malformed("empty request: send a JSON body or query parameters"));
      return;
    }
    input = ParseCreateExportQuery(req.params);
  }
  if (!input.ok()) {
    SendStatus(req, res, input.status());
    return;
  }
  CreateExportArgs args;
  args.request = std::move(input->request);
  args.tag = std::move(input->tag);
  args.notify = std::move(input->notify);
  args.retention = input->retention;
  args.escape_formulas = input->escape_formulas;
  if (req.has_header("Idempotency-Key")) {
    std::string key = req.get_header_value("Idempotency-Key");
    bool printable = !key.empty() && key.size() <= kMaxIdempotencyKey;
    for (char c : key) printable = printable && c >= 0x21 && c <= 0x7e;
    if (!printable) {
      SendStatus(req, res, Malformed("Idempotency-Key must be 1 to 255 visible ASCII characters"));
      return;
    }
    args.idempotency_key = key;
  }
  Result<CreateExportResult> created = ctx.deps.service->Create(who, std::move(args));
  if (!created.ok()) {
    SendStatus(req, res, created.status());
    return;
  }
  res.set_header("Location", "/v1/exports/" + created->task.id);
  SendTask(ctx, res, created->replayed ? 200 : 202, created->task);
}

Status ApplyPageParam(const std::string& name, const std::string& value, TaskListQuery& query) {
  if (name == "limit") {
    int limit = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
    if (ec != std::errc() || ptr != value.data() + value.size()) {
      return Malformed("limit must be an integer");
    }
    if (limit < 1 || limit > 200)
      return InvalidArgument("limit must be between 1 and 200", "/limit");
    query.limit = limit;
    return Status::Ok();
  }
  if (!ValidTaskId(value)) return Malformed("cursor is not one this server returned");
  query.before_id = value;
  return Status::Ok();
}

void HandleListExports(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                       httplib::Response& res) {
  TaskListQuery query;
  query.kind = TaskKind::kExport;  // imports are listed under /v1/imports
  for (const auto& [name, value] : req.params) {
    if (req.params.count(name) > 1) {
      SendStatus(req, res, Malformed("query parameter '" + name + "' is repeated"));
      return;
    }
    if (name == "status") {
      query.state = ParseTaskState(value);
      if (!query.state) {
        SendStatus(req, res,
                   InvalidArgument("status must be one of Pending, Processing, Paused, "
                                   "Succeeded, Failed, Cancelled",
                                   "/status"));
        return;
      }
    } else if (name == "dataset") {
      query.dataset = value;
    } else if (name == "query_hash") {
      // A SHA-256 in lower-case hex, as tasks show it (openapi.yaml's Sha256Hex).
      if (value.size() != 64 || value.find_first_not_of("0123456789abcdef") != std::string::npos) {
        SendStatus(req, res,
                   InvalidArgument("query_hash must be 64 lower-case hex digits (a task's "
                                   "query_hash)",
                                   "/query_hash"));
        return;
      }
      query.query_hash = value;
    } else if (name == "limit" || name == "cursor") {
      if (Status s = ApplyPageParam(name, value, query); !s.ok()) {
        SendStatus(req, res, s);
        return;
      }
    } else {
      SendStatus(req, res, InvalidArgument("unknown query parameter '" + name + "'"));
      return;
    }
  }
  Result<TaskPage> page = ctx.deps.service->List(who, query);
  if (!page.ok()) {
    SendStatus(req, res, page.status());
    return;
  }
  TaskViewContext view = ViewContext(ctx);
  json items = json::array();
  for (const Task& t : page->items) items.push_back(TaskToJson(t, view));
  json body = {{"items", std::move(items)},
               {"next_cursor", page->next_cursor ? json(*page->next_cursor) : json(nullptr)}};
  SendJson(res, 200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

namespace {

// Renders the body that GETs of task `id` will get from `from` on, for the second that begins
// then, as a GET at that time would (links expire in whole seconds, so the rendering is the
// same), and keeps it. A failure leaves it to the GETs of that second.
void RenderAhead(HandlerContext& ctx, const Principal& who, const std::string& id, TimePoint from) {
  Result<Task> task = ctx.deps.service->Get(who, id);
  if (!task.ok() || !IsTerminal(task->state)) return;
  ctx.task_bodies->Put(id, task->revision, from, from + std::chrono::seconds(1),
                       TaskBody(ViewContext(ctx, from), *task));
}

}  // namespace

void HandleGetExport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                     httplib::Response& res) {
  std::string id = req.matches[1];
  if (!ValidTaskId(id)) {
    SendStatus(req, res, NotFound("no export " + id));
    return;
  }
  // Finished tasks change rarely and are the ones polled most (dashboards, scripts fetching
  // links): a body is rendered once per revision and second (TaskBodyCache), and while one is
  // kept a GET reads only the task's revision and owner. Running tasks are never kept, and a GET
  // of one reads the task alone.
  const TimePoint now = ctx.deps.clock->Now();
  if (ctx.task_bodies->Holds(id, now)) {
    Result<int64_t> revision = ctx.deps.service->Revision(who, id);
    if (!revision.ok()) {
      SendStatus(req, res, revision.status());
      return;
    }
    TaskBodyCache::Lookup kept = ctx.task_bodies->Find(id, *revision, now);
    if (kept.body) {
      SendJson(res, 200, *kept.body);
      if (kept.render_from) RenderAhead(ctx, who, id, *kept.render_from);
      return;
    }
  }
  Result<Task> task = ctx.deps.service->Get(who, id);
  if (!task.ok()) {
    SendStatus(req, res, task.status());
    return;
  }
  SendTask(ViewContext(ctx, now), res, 200, *task);
  if (IsTerminal(task->state)) {
    const TimePoint second = std::chrono::floor<std::chrono::seconds>(now);
    ctx.task_bodies->Put(id, task->revision, second, second + std::chrono::seconds(1), res.body);
  }
}

void RecordRoleRefusal(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                       std::string_view reason) {
  constexpr std::string_view kExports = "/v1/exports/";
  if (req.matches.size() < 2 || req.path.rfind(kExports, 0) != 0) return;
  const std::string id = req.matches[1];
  if (!ValidTaskId(id)) return;
  std::string action = req.method;
  if (req.method == "DELETE") {
    action = "delete";
  } else {
    for (std::string_view verb : {"cancel", "pause", "resume"}) {
      const std::string suffix = "/" + std::string(verb);
      if (req.path.size() > suffix.size() &&
          req.path.compare(req.path.size() - suffix.size(), suffix.size(), suffix) == 0) {
        action = verb;
      }
    }
  }
  ctx.deps.service->RecordRefusal(who, id, action, reason);
}

namespace {

// POST /v1/exports/{id}/<action>: 202 with the task `act` returns, or its error.
void SendTaskAction(HandlerContext& ctx, const httplib::Request& req, httplib::Response& res,
                    Result<Task> (ExportService::*act)(const Principal&, const std::string&),
                    const Principal& who) {
  std::string id = req.matches[1];
  if (!ValidTaskId(id)) {
    SendStatus(req, res, NotFound("no export " + id));
    return;
  }
  Result<Task> task = (ctx.deps.service->*act)(who, id);
  if (!task.ok()) {
    SendStatus(req, res, task.status());
    return;
  }
  SendTask(ctx, res, 202, *task);
}

}  // namespace

void HandleCancelExport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res) {
  SendTaskAction(ctx, req, res, &ExportService::Cancel, who);
}

void HandlePauseExport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                       httplib::Response& res) {
  SendTaskAction(ctx, req, res, &ExportService::Pause, who);
}

void HandleResumeExport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res) {
  SendTaskAction(ctx, req, res, &ExportService::Resume, who);
}

void HandleDeleteExport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res) {
  std::string id = req.matches[1];
  if (!ValidTaskId(id)) {
    SendStatus(req, res, NotFound("no export " + id));
    return;
  }
  Status deleted = ctx.deps.service->DeleteFiles(who, id);
  if (!deleted.ok()) {
    SendStatus(req, res, deleted);
    return;
  }
  res.status = 204;
}

void HandleListEvents(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                      httplib::Response& res) {
  std::string id = req.matches[1];
  if (!ValidTaskId(id)) {
    SendStatus(req, res, NotFound("no export " + id));
    return;
  }
  Result<std::vector<TaskEvent>> events = ctx.deps.service->Events(who, id);
  if (!events.ok()) {
    SendStatus(req, res, events.status());
    return;
  }
  json items = json::array();
  for (const TaskEvent& e : *events) items.push_back(EventToJson(e));
  SendJson(res, 200,
           json{{"items", std::move(items)}}.dump(-1, ' ', false,
                                                  nlohmann::json::error_handler_t::replace));
}

void HandleListDatasets(HandlerContext& ctx, const Principal&, const httplib::Request&,
                        httplib::Response& res) {
  json items = json::array();
  for (const DatasetCatalog::Entry* entry : ctx.deps.service->datasets().List()) {
    items.push_back(DatasetToJson(*entry->dataset));
  }
  SendJson(res, 200,
           json{{"items", std::move(items)}}.dump(-1, ' ', false,
                                                  nlohmann::json::error_handler_t::replace));
}

}  // namespace exportd::api
