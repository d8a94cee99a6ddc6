// `exportctl schedules ...` and `exportctl watermarks ...`: the recurring-export routes.
#ifndef EXPORTD_SERVER_EXPORTCTL_SCHEDULE_COMMANDS_H_
#define EXPORTD_SERVER_EXPORTCTL_SCHEDULE_COMMANDS_H_

#include <optional>
#include <string>

#include "core/status.h"
#include "server/exportctl/commands.h"
#include "server/exportctl/export_args.h"

namespace exportd::ctl {

struct ScheduleArgs {
  std::string name;
  std::string cron;
  std::optional<std::string> time_zone;
  std::optional<std::string> catch_up;  // latest, all, none
  bool disabled = false;
  ExportArgs request;  // the template: a create-export body
};

Status RunScheduleList(const Context& ctx);
Status RunScheduleShow(const Context& ctx, const std::string& id);
Status RunScheduleCreate(const Context& ctx, const ScheduleArgs& args);
// pause: enabled false; resume: enabled true (PATCH).
Status RunScheduleEnable(const Context& ctx, const std::string& id, bool enabled);
// A manual run: prints the export task it created.
Status RunScheduleRun(const Context& ctx, const std::string& id);
Status RunScheduleRemove(const Context& ctx, const std::string& id);

Status RunWatermarkList(const Context& ctx, const std::string& dataset);
Status RunWatermarkSet(const Context& ctx, const std::string& dataset, const std::string& partition,
                       const std::string& time);
Status RunWatermarkRemove(const Context& ctx, const std::string& dataset,
                          const std::string& partition);

}  // namespace exportd::ctl

#endif  // EXPORTD_SERVER_EXPORTCTL_SCHEDULE_COMMANDS_H_
