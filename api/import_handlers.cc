// Handlers for /v1/imports.
#include <charconv>

#include "api/handlers.h"
#include "api/problem.h"
#include "api/request_codec.h"
#include "api/task_json.h"
#include "core/imports/import_service.h"
#include "core/ulid.h"

namespace exportd::api {
namespace {

using nlohmann::json;

std::string MediaType(const std::string& content_type) {
  std::string media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return media;
}

// The format an upload's Content-Type names; nullopt for another type.
std::optional<Format> UploadFormat(const std::string& media) {
  if (media == "text/csv") return Format::kCsv;
  if (media == "text/tab-separated-values") return Format::kTsv;
  if (media == "application/x-ndjson") return Format::kNdjson;
  return std::nullopt;
}

void SendImport(HandlerContext& ctx, httplib::Response& res, int http_status, const Task& task) {
  const TaskViewContext view = ViewContext(ctx);
  if (!IsTerminal(task.state)) {
    res.set_header("Retry-After", "1");
    res.set_header("X-Progress", ProgressHeader(task, view.now));
  }
  SendJson(res, http_status,
           ImportTaskToJson(task, view).dump(-1, ' ', false, json::error_handler_t::replace));
}

// The members of a JSON create-import body.
Result<CreateImportArgs> ParseImportJson(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Malformed("the body must be a JSON object");
  CreateImportArgs args;
  json notify_part = json::object();
  for (const auto& [key, value] : j.items()) {
    if (value.is_null()) continue;
    auto text = [&](std::string& out) -> Status {
      if (!value.is_string()) return Malformed(key + " must be a string", "/" + key);
      out = value.get<std::string>();
      return Status::Ok();
    };
    std::string s;
    if (key == "dataset") {
      RETURN_IF_ERROR(text(args.dataset));
    } else if (key == "from_export") {
      RETURN_IF_ERROR(text(s));
      args.from_export = s;
    } else if (key == "from_prefix") {
      RETURN_IF_ERROR(text(s));
      args.from_prefix = s;
    } else if (key == "format") {
      RETURN_IF_ERROR(text(s));
      args.format = ParseFormat(s);
      if (!args.format) return InvalidArgument("format must be csv, tsv or ndjson", "/format");
    } else if (key == "compression") {
      RETURN_IF_ERROR(text(s));
      args.compression = ParseCompression(s);
      if (!args.compression) {
        return InvalidArgument("compression must be none or gzip", "/compression");
      }
    } else if (key == "on_conflict") {
      RETURN_IF_ERROR(text(s));
      std::optional<OnConflict> c = ParseOnConflict(s);
      if (!c) return InvalidArgument("on_conflict must be error, skip or replace", "/on_conflict");
      args.on_conflict = *c;
    } else if (key == "tag" || key == "notify") {
      notify_part[key] = value;
    } else {
      return InvalidArgument("unknown member '" + key + "'", "/" + key);
    }
  }
  if (args.dataset.empty()) return InvalidArgument("dataset is required", "/dataset");
  if (!notify_part.empty()) {
    // The tag and hooks of an import follow the rules of an export's.
    notify_part["dataset"] = args.dataset;
    ASSIGN_OR_RETURN(CreateExportInput input, ParseCreateExportJson(notify_part.dump()));
    args.tag = std::move(input.tag);
    args.notify = std::move(input.notify);
  }
  return args;
}

// ?dataset=&on_conflict= of an upload.
Result<CreateImportArgs> ParseUploadQuery(const httplib::Request& req) {
  CreateImportArgs args;
  for (const auto& [name, value] : req.params) {
    if (req.params.count(name) > 1) {
      return Malformed("query parameter '" + name + "' is repeated");
    }
    if (name == "dataset") {
      args.dataset = value;
    } else if (name == "on_conflict") {
      std::optional<OnConflict> c = ParseOnConflict(value);
      if (!c) return InvalidArgument("on_conflict must be error, skip or replace", "/on_conflict");
      args.on_conflict = *c;
    } else {
      return InvalidArgument("unknown query parameter '" + name + "'");
    }
  }
  if (args.dataset.empty()) return InvalidArgument("dataset is required", "/dataset");
  return args;
}

}  // namespace

void HandleCreateImport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res, const httplib::ContentReader& read) {
  ImportService& imports = *ctx.deps.imports;
  const std::string media = MediaType(req.get_header_value("Content-Type"));
  std::string encoding = MediaType(req.get_header_value("Content-Encoding"));
  const bool announced =
      req.has_header("Content-Length") ||
      req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
  if (IsJsonContentType(media)) {
    if (!encoding.empty() && encoding != "identity") {
      SendProblem(req, res, 415, "a JSON body cannot have a Content-Encoding");
      return;
    }
    if (!req.params.empty()) {
      SendStatus(req, res,
                 InvalidArgument("a JSON body takes its members in the body, not as query "
                                 "parameters"));
      return;
    }
    const size_t limit = ctx.options.max_body_bytes;
    std::string body;
    bool too_large = false;
    const bool complete = !announced || read([&](const char* data, size_t len) {
      if (body.size() + len > limit) {
        too_large = true;
        return false;
      }
      body.append(data, len);
      return true;
    });
    if (too_large) {
      SendProblem(
          req, res, 413,
          "the request body is larger than the limit of " + std::to_string(limit) + " bytes");
      return;
    }
    if (!complete) {
      SendProblem(req, res, 400, "the request body could not be read");
      return;
    }
    Result<CreateImportArgs> args = ParseImportJson(body);
    if (!args.ok()) {
      SendStatus(req, res, args.status());
      return;
    }
    Result<Task> task = imports.Create(who, std::move(args).value());
    if (!task.ok()) {
      SendStatus(req, res, task.status());
      return;
    }
    res.set_header("Location", "/v1/imports/" + task->id);
    SendImport(ctx, res, 202, *task);
    return;
  }
  const std::optional<Format> format = UploadFormat(media);
  if (!format) {
    SendProblem(req, res, 415,
                "send application/json (from_export or from_prefix), or the file itself as "
                "text/csv, text/tab-separated-values or application/x-ndjson");
    return;
  }
  if (!encoding.empty() && encoding != "identity" && encoding != "gzip") {
    SendProblem(req, res, 415, "Content-Encoding must be gzip or absent");
    return;
  }
  Result<CreateImportArgs> args = ParseUploadQuery(req);
  if (!args.ok()) {
    SendStatus(req, res, args.status());
    return;
  }
  args->format = format;
  args->upload = true;
  args->gzip = encoding == "gzip";
  // Refused before a byte of the body is stored.
  if (Status checked = imports.Check(*args); !checked.ok()) {
    SendStatus(req, res, checked);
    return;
  }
  const auto limit = static_cast<uint64_t>(ctx.options.max_import_upload_bytes);
  if (!announced) {
    SendStatus(req, res, Malformed("an upload needs a body (Content-Length or chunked)"));
    return;
  }
  if (req.has_header("Content-Length") &&
      std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) > limit) {
    SendProblem(req, res, 413,
                "the upload is larger than the limit of " + std::to_string(limit) + " bytes");
    return;
  }
  Result<std::pair<std::string, std::unique_ptr<ObjectWriter>>> staged = imports.StageUpload();
  if (!staged.ok()) {
    SendStatus(req, res, staged.status());
    return;
  }
  auto& [id, writer] = *staged;
  uint64_t received = 0;
  bool too_large = false;
  Status written;
  const bool complete = read([&](const char* data, size_t len) {
    received += len;
    if (received > limit) {
      too_large = true;
      return false;
    }
    written = writer->Write(std::string_view(data, len));
    return written.ok();
  });
  if (too_large || !written.ok() || !complete) {
    writer.reset();
    imports.DropUpload(id);
    if (too_large) {
      SendProblem(req, res, 413,
                  "the upload is larger than the limit of " + std::to_string(limit) + " bytes");
    } else if (!written.ok()) {
      SendStatus(req, res, written);
    } else {
      SendProblem(req, res, 400, "the request body could not be read");
    }
    return;
  }
  if (Result<ObjectInfo> committed = writer->Commit(); !committed.ok()) {
    writer.reset();
    imports.DropUpload(id);
    SendStatus(req, res, committed.status());
    return;
  }
  writer.reset();
  args->id = id;
  Result<Task> task = imports.Create(who, std::move(args).value());
  if (!task.ok()) {
    imports.DropUpload(id);
    SendStatus(req, res, task.status());
    return;
  }
  res.set_header("Location", "/v1/imports/" + task->id);
  SendImport(ctx, res, 202, *task);
}

void HandleListImports(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                       httplib::Response& res) {
  TaskListQuery query;
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
  Result<TaskPage> page = ctx.deps.imports->List(who, query);
  if (!page.ok()) {
    SendStatus(req, res, page.status());
    return;
  }
  const TaskViewContext view = ViewContext(ctx);
  json items = json::array();
  for (const Task& t : page->items) items.push_back(ImportTaskToJson(t, view));
  json body = {{"items", std::move(items)},
               {"next_cursor", page->next_cursor ? json(*page->next_cursor) : json(nullptr)}};
  SendJson(res, 200, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

void HandleGetImport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                     httplib::Response& res) {
  const std::string id = req.matches[1];
  if (!ValidTaskId(id)) {
    SendStatus(req, res, NotFound("no import " + id));
    return;
  }
  Result<Task> task = ctx.deps.imports->Get(who, id);
  if (!task.ok()) {
    SendStatus(req, res, task.status());
    return;
  }
  SendImport(ctx, res, 200, *task);
}

void HandleCancelImport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res) {
  const std::string id = req.matches[1];
  if (!ValidTaskId(id)) {
    SendStatus(req, res, NotFound("no import " + id));
    return;
  }
  Result<Task> task = ctx.deps.imports->Cancel(who, id);
  if (!task.ok()) {
    Status s = task.status();
    if (s.code() == StatusCode::kFailedPrecondition) {
      s = FailedPrecondition("import " + id + " has already ended");
    }
    SendStatus(req, res, s);
    return;
  }
  SendImport(ctx, res, 202, *task);
}

void HandleListImportEvents(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                            httplib::Response& res) {
  const std::string id = req.matches[1];
  if (!ValidTaskId(id)) {
    SendStatus(req, res, NotFound("no import " + id));
    return;
  }
  Result<std::vector<TaskEvent>> events = ctx.deps.imports->Events(who, id);
  if (!events.ok()) {
    SendStatus(req, res, events.status());
    return;
  }
  json items = json::array();
  for (const TaskEvent& e : *events) items.push_back(EventToJson(e));
  SendJson(res, 200,
           json{{"items", std::move(items)}}.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace exportd::api
