// GET /v1/instances: the exportd instances sharing the task store, for admin keys.
#include <nlohmann/json.hpp>

#include "api/handlers.h"
#include "api/problem.h"
#include "core/time_format.h"

namespace exportd::api {
namespace {

// Instances whose heartbeat stopped longer ago than this are no longer listed (a dead instance
// stays visible, with its old heartbeat, for this long).
constexpr auto kListedFor = std::chrono::hours(1);

}  // namespace

void HandleListInstances(HandlerContext& ctx, const Principal&, const httplib::Request& req,
                         httplib::Response& res) {
  if (ctx.deps.instances == nullptr) {
    SendStatus(req, res, Internal("no instance registry"));
    return;
  }
  Result<std::vector<InstanceInfo>> list =
      ctx.deps.instances->ListInstances(ctx.deps.clock->Now() - kListedFor);
  if (!list.ok()) {
    SendStatus(req, res, list.status());
    return;
  }
  nlohmann::json items = nlohmann::json::array();
  for (const InstanceInfo& i : *list) {
    items.push_back({{"id", i.id},
                     {"host", i.host},
                     {"started_at", FormatRfc3339(i.started_at)},
                     {"heartbeat_at", FormatRfc3339(i.heartbeat_at)},
                     {"running", i.running}});
  }
  nlohmann::json body = {{"items", std::move(items)}};
  SendJson(res, 200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace exportd::api
