#include "api/handlers.h"
#include "core/ulid.h"

namespace exportd::api {

std::string DumpJson(const nlohmann::json& document) {
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TaskViewContext ViewContext(const HandlerContext& ctx, TimePoint now) {
  return {ctx.deps.objects, now, ctx.options.download_url_ttl};
}

TaskViewContext ViewContext(const HandlerContext& ctx) {
  return ViewContext(ctx, ctx.deps.clock->Now());
}

bool ValidTaskId(const std::string& id) { return IsUlid(id); }

}  // namespace exportd::api
