// GET /v1/audit: the audit trail across every task, newest first, for admin keys. Read-only:
// no route changes or removes an event (other methods on the path are 405).
#include "api/audit_query.h"
#include "api/handlers.h"
#include "api/problem.h"
#include "api/task_json.h"

namespace exportd::api {

void HandleListAudit(HandlerContext& ctx, const Principal& who, const httplib::Request& req,
                     httplib::Response& res) {
  Result<EventQuery> query = ParseAuditQuery(req.params);
  if (!query.ok()) {
    SendStatus(req, res, query.status());
    return;
  }
  Result<EventPage> page = ctx.deps.service->Audit(who, *query);
  if (!page.ok()) {
    SendStatus(req, res, page.status());
    return;
  }
  nlohmann::json items = nlohmann::json::array();
  for (const TaskEvent& e : page->items) items.push_back(EventToJson(e));
  nlohmann::json body = {
      {"items", std::move(items)},
      {"next_cursor", page->next_cursor ? nlohmann::json(AuditCursor(*page->next_cursor))
                                        : nlohmann::json(nullptr)}};
  SendJson(res, 200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace exportd::api
