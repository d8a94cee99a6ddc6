#include "server/exportctl/commands.h"

#include <cstdio>

#include "server/exportctl/file_download.h"
#include "server/exportctl/progress_bar.h"
#include "server/exportctl/render.h"
#include "server/exportctl/task_watch.h"

namespace exportd::ctl {
namespace {

using Json = nlohmann::json;

std::string TaskPath(const std::string& id) { return "/v1/exports/" + PathSegment(id); }

// OK for a Succeeded task; kAborted naming the outcome for Failed or Cancelled.
Status Outcome(const Json& task) {
  const std::string status = task.value("status", "");
  if (status == "Succeeded") return Status::Ok();
  std::string why = "export " + Text(task, "id") + " " + status;
  if (task.contains("error") && task["error"].is_object()) {
    why += ": " + Text(task["error"], "code") + ": " + Text(task["error"], "message");
  }
  return Aborted(why);
}

Result<Json> GetTask(const Context& ctx, const std::string& id) {
  ASSIGN_OR_RETURN(ApiResponse response, ctx.api.Expect("GET", TaskPath(id)));
  return std::move(response.json);
}

// Every file of a Succeeded `task` and its manifest into `dir`; prints a line per file unless
// --json.
Status DownloadFiles(const Context& ctx, const Json& task, const std::string& dir) {
  const std::string status = task.value("status", "");
  if (!IsTerminalStatus(status)) {
    return FailedPrecondition("export " + Text(task, "id") + " is " + status +
                              ", not Succeeded; `exportctl watch " + Text(task, "id") +
                              "` waits for it");
  }
  RETURN_IF_ERROR(Outcome(task));
  std::vector<FileToFetch> files;
  for (const Json& f : task.value("files", Json::array())) {
    FileToFetch file;
    file.name = Text(f, "name");
    file.url = ctx.api.Absolute(Text(f, "url"));
    if (!Text(f, "sha256").empty()) file.sha256 = Text(f, "sha256");
    if (f.contains("bytes") && f["bytes"].is_number()) file.bytes = f["bytes"].get<int64_t>();
    files.push_back(std::move(file));
  }
  const Json links = task.value("links", Json::object());
  if (Text(links, "manifest").empty()) {
    // A Succeeded export has its manifest until its files are deleted or expire.
    return Gone("export " + Text(task, "id") + " has no files any more (deleted or expired)");
  }
  files.push_back(
      {ctx.api.Absolute(Text(links, "manifest")), "manifest.json", std::nullopt, std::nullopt});
  for (const FileToFetch& file : files) {
    ASSIGN_OR_RETURN(FetchOutcome got, FetchFile(file, dir));
    if (ctx.json) continue;
    std::string note = file.sha256 ? "sha256 ok" : "";
    if (got.already_there) note = "already there, sha256 ok";
    if (got.resumed_from > 0) note += ", resumed from byte " + std::to_string(got.resumed_from);
    std::printf("%s/%s  %s bytes%s\n", dir.c_str(), file.name.c_str(),
                FormatCount(got.bytes).c_str(), note.empty() ? "" : ("  " + note).c_str());
  }
  return Status::Ok();
}

}  // namespace

int ExitCode(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kMalformed:
      return kExitUsage;
    case StatusCode::kNotFound:
      return kExitNotFound;
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return kExitAuth;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return kExitUnreachable;
    default:
      return kExitFailed;
  }
}

Status RunExport(const Context& ctx, const ExportArgs& args, bool wait,
                 const std::optional<std::string>& download_dir) {
  ASSIGN_OR_RETURN(Json body, ExportRequestBody(args));
  ASSIGN_OR_RETURN(ApiResponse created, ctx.api.Expect("POST", "/v1/exports", &body));
  const std::string id = Text(created.json, "id");
  if (!wait && !download_dir) {
    if (ctx.json) {
      PrintJson(created.json);
    } else {
      std::printf("%s\n", id.c_str());
    }
    return Status::Ok();
  }
  if (!ctx.json) {
    std::printf("export %s\n", id.c_str());
    std::fflush(stdout);
  }
  ASSIGN_OR_RETURN(Json task, WatchTask(ctx.api, id, TerminalWatchOptions(!ctx.json)));
  if (ctx.json) PrintJson(task);
  RETURN_IF_ERROR(Outcome(task));
  if (download_dir) RETURN_IF_ERROR(DownloadFiles(ctx, task, *download_dir));
  return Status::Ok();
}

Status RunStatus(const Context& ctx, const std::string& id) {
  ASSIGN_OR_RETURN(Json task, GetTask(ctx, id));
  if (ctx.json) {
    PrintJson(task);
  } else {
    PrintTask(stdout, task);
  }
  return Status::Ok();
}

Status RunWatch(const Context& ctx, const std::string& id) {
  ASSIGN_OR_RETURN(Json task, WatchTask(ctx.api, id, TerminalWatchOptions(!ctx.json)));
  if (ctx.json) PrintJson(task);
  return Outcome(task);
}

Status RunList(const Context& ctx, const ListArgs& args) {
  std::string query;
  auto add = [&](const char* name, const std::string& value) {
    query.append(query.empty() ? "?" : "&").append(name).append("=").append(PathSegment(value));
  };
  if (args.status) add("status", *args.status);
  if (args.dataset) add("dataset", *args.dataset);
  if (args.limit) add("limit", std::to_string(*args.limit));
  ASSIGN_OR_RETURN(ApiResponse response, ctx.api.Expect("GET", "/v1/exports" + query));
  if (ctx.json) {
    PrintJson(response.json);
  } else {
    PrintTaskList(stdout, response.json);
  }
  return Status::Ok();
}

Status RunCancel(const Context& ctx, const std::string& id) {
  ASSIGN_OR_RETURN(ApiResponse response, ctx.api.Expect("POST", TaskPath(id) + "/cancel"));
  if (ctx.json) {
    PrintJson(response.json);
  } else {
    std::printf(
        "%s %s%s\n", id.c_str(), Text(response.json, "status").c_str(),
        Flag(response.json, "cancel_requested") && Text(response.json, "status") != "Cancelled"
            ? " (cancel requested)"
            : "");
  }
  return Status::Ok();
}

Status RunDownload(const Context& ctx, const std::string& id, const std::string& dir) {
  ASSIGN_OR_RETURN(Json task, GetTask(ctx, id));
  RETURN_IF_ERROR(DownloadFiles(ctx, task, dir));
  if (ctx.json) PrintJson(task);
  return Status::Ok();
}

Status RunRemove(const Context& ctx, const std::string& id) {
  RETURN_IF_ERROR(ctx.api.Expect("DELETE", TaskPath(id)).status());
  if (ctx.json) {
    // DELETE answers 204 without a body; the task (its record stays, with files: []) is what a
    // script can read.
    ASSIGN_OR_RETURN(Json task, GetTask(ctx, id));
    PrintJson(task);
  } else {
    std::printf("%s: files removed\n", id.c_str());
  }
  return Status::Ok();
}

Status RunDatasets(const Context& ctx) {
  ASSIGN_OR_RETURN(ApiResponse response, ctx.api.Expect("GET", "/v1/datasets"));
  if (ctx.json) {
    PrintJson(response.json);
  } else {
    PrintDatasets(stdout, response.json);
  }
  return Status::Ok();
}

}  // namespace exportd::ctl
