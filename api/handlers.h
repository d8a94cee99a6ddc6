// Handlers of every route, one group per file; api_server.cc maps paths to them.
// Internal to api/.
#ifndef EXPORTD_API_HANDLERS_H_
#define EXPORTD_API_HANDLERS_H_

#include <httplib.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>

#include "api/api_server.h"
#include "api/metrics.h"
#include "api/rate_limiter.h"
#include "api/task_body_cache.h"
#include "api/task_json.h"
#include "core/export_service.h"
#include "core/imports/import_service.h"
#include "core/role.h"

namespace exportd::api {

struct HandlerContext {
  ApiDependencies deps;
  ApiOptions options;
  Metrics* metrics = nullptr;            // never null once the server is built
  std::unique_ptr<RateLimiter> limiter;  // never null once the server is built
  // Bodies of finished tasks for GET /v1/exports/{id}; never null once the server is built.
  std::unique_ptr<TaskBodyCache> task_bodies;
};

// A JSON document as a response body: compact, invalid UTF-8 replaced rather than thrown.
std::string DumpJson(const nlohmann::json& document);

// How tasks are rendered at `now` (download links from ctx's object store, with its TTL);
// without `now`, at the clock's time.
TaskViewContext ViewContext(const HandlerContext& ctx, TimePoint now);
TaskViewContext ViewContext(const HandlerContext& ctx);

// Task ids are ULIDs; anything else cannot name a task (and never reaches the store).
bool ValidTaskId(const std::string& id);

// Who is calling and with which role.
struct Caller {
  Principal principal;
  Role role = Role::kReader;
};

// The client's address for the audit trail: the peer address, or, only when
// options.trust_forwarded_for is set (exportd behind a reverse proxy that appends it), the last
// address of X-Forwarded-For: the one that proxy saw. Earlier entries are the client's own
// claims and are never used.
std::string ClientAddress(const HandlerContext& ctx, const httplib::Request& req);

// Authenticates a bearer API key. kUnauthenticated when missing, invalid or revoked (looked up
// on every request, so a revocation takes effect at once, even from another process).
Result<Caller> Authenticate(const HandlerContext& ctx, const httplib::Request& req);

// For a request on one export (/v1/exports/{id}/...) refused because of the caller's role (403):
// records an access_denied event on that export, as for a request on another principal's task.
// Does nothing for other routes.
void RecordRoleRefusal(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                       std::string_view reason);

// Sends `task` as its JSON rendering (with download links), and, while it is not terminal, the
// Retry-After and X-Progress headers.
void SendTask(HandlerContext& ctx, httplib::Response& res, int http_status, const Task& task);

// /v1/exports...
// Applies a paging parameter of a task listing: "limit" (1..200) or "cursor" (a task id this
// server returned). REQUIRES: name is one of them. Shared by the exports' and imports' lists.
Status ApplyPageParam(const std::string& name, const std::string& value, TaskListQuery& query);

void HandleCreateExport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res);
void HandleListExports(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                       httplib::Response& res);
void HandleGetExport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                     httplib::Response& res);
void HandleCancelExport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res);
void HandlePauseExport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                       httplib::Response& res);
void HandleResumeExport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res);
void HandleDeleteExport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res);
void HandleListEvents(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                      httplib::Response& res);
void HandleListDatasets(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res);
// /v1/imports... The create handler reads its body itself: a JSON request, or the file to
// import, streamed to the import staging area.
void HandleCreateImport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res, const httplib::ContentReader& read);
void HandleListImports(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                       httplib::Response& res);
void HandleGetImport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                     httplib::Response& res);
void HandleCancelImport(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res);
void HandleListImportEvents(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                            httplib::Response& res);
// /v1/schedules...
void HandleCreateSchedule(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                          httplib::Response& res);
void HandleListSchedules(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                         httplib::Response& res);
void HandleGetSchedule(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                       httplib::Response& res);
void HandleUpdateSchedule(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                          httplib::Response& res);
void HandleDeleteSchedule(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                          httplib::Response& res);
void HandlePreviewSchedule(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                           httplib::Response& res);
void HandleRunSchedule(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                       httplib::Response& res);
// /v1/audit (admin): events across all tasks.
void HandleListAudit(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                     httplib::Response& res);
// /v1/instances (admin): the instances sharing the task store.
void HandleListInstances(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                         httplib::Response& res);
// /v1/exports/{id}/files/{name}: the signature is the credential.
void HandleDownload(HandlerContext& ctx, const httplib::Request& req, httplib::Response& res);
// Unauthenticated service routes.
void HandleHealthz(HandlerContext& ctx, const httplib::Request& req, httplib::Response& res);
void HandleReadyz(HandlerContext& ctx, const httplib::Request& req, httplib::Response& res);
void HandleMetrics(HandlerContext& ctx, const httplib::Request& req, httplib::Response& res);
void HandleOpenApi(HandlerContext& ctx, const httplib::Request& req, httplib::Response& res);
// The web dashboard's static files: "/" (index.html) and "/ui/{file}".
void HandleDashboardIndex(HandlerContext& ctx, const httplib::Request& req, httplib::Response& res);
void HandleDashboardAsset(HandlerContext& ctx, const httplib::Request& req, httplib::Response& res);

// /v1/datasets/{name}/watermarks[/{partition}]: listing for every role; PUT and DELETE for
// admins (the service checks).
void HandleListWatermarks(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                          httplib::Response& res);
void HandlePutWatermark(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                        httplib::Response& res);
void HandleDeleteWatermark(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                           httplib::Response& res);

// Whether a Content-Type names JSON (application/json or any +json type), parameters aside.
bool IsJsonContentType(const std::string& content_type);

// Writes a JSON body.
void SendJson(httplib::Response& res, int http_status, const std::string& body);

}  // namespace exportd::api

#endif  // EXPORTD_API_HANDLERS_H_
