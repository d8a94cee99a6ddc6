#include "server/exportctl/cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>

#include "server/exportctl/commands.h"
#include "server/exportctl/connection.h"
#include "server/exportctl/schedule_commands.h"

namespace exportd::ctl {
namespace {

constexpr const char* kFooter =
    R"(Configuration: --url/--token, else EXPORTD_URL/EXPORTD_TOKEN, else the profile
file ~/.config/exportd/config (lines 'url = ...' and 'token = ...'; mode 0600),
else http://127.0.0.1:8080.

Exit codes:
  0  success
  1  the export failed or was cancelled, a download did not verify, or the server
     refused for another reason (409 conflict, 429, 5xx)
  2  usage: bad arguments (also the server's 400/422 about them)
  3  not found (404)
  4  authentication or permission (401, 403)
  5  server unreachable (connection refused, DNS, TLS, timeout))";

std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

// The flags of a create-export request, shared by `export` and `schedules create`.
void AddRequestFlags(CLI::App* cmd, ExportArgs& a) {
  cmd->add_option("dataset", a.dataset, "A dataset listed by `exportctl datasets`")->required();
  cmd->add_option("--format", a.format, "csv (default), tsv, json or ndjson");
  cmd->add_option("--field", a.fields, "A field to export, in order (repeat; default: all)")
      ->allow_extra_args(false);
  cmd->add_option("--filter", a.filters,
                  "'FIELD OP VALUE', OP: = != < <= > >= in prefix null not-null (repeat: ANDed)")
      ->allow_extra_args(false);
  cmd->add_option("--since", a.since, "RFC 3339: rows at or after it (the dataset's time field)");
  cmd->add_option("--until", a.until, "RFC 3339: rows before it");
  cmd->add_option("--partition", a.partitions, "Only this partition (repeat)")
      ->allow_extra_args(false);
  cmd->add_flag("--gzip", a.gzip, "Compress the files with gzip");
  cmd->add_option("--max-rows-per-file", a.max_rows_per_file, "Rows per file (1..80000)");
  cmd->add_option("--tag", a.tag, "Free text kept with the task");
  cmd->add_flag("--incremental", a.incremental,
                "Per partition, from its watermark; success moves the watermarks");
}

struct Options {
  std::optional<std::string> url, token;
  bool json = false;
  ExportArgs export_args;
  bool wait = false;
  std::optional<std::string> download_dir;
  std::string id;
  std::string dir = ".";
  ListArgs list;
  ScheduleArgs schedule;
  std::string dataset, partition, time;
};

}  // namespace

int RunCli(int argc, char** argv) {
  Options o;
  std::function<Status(const Context&)> run;
  CLI::App app{"exportctl: start, follow and download exportd exports", "exportctl"};
  app.set_version_flag("--version", std::string("exportctl ") + EXPORTD_VERSION);
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--url", o.url, "exportd's base URL (env EXPORTD_URL)");
  app.add_option("--token", o.token, "API key (env EXPORTD_TOKEN)");
  app.add_flag("--json", o.json, "Print the server's JSON (for scripts)");

  CLI::App* exp = app.add_subcommand("export", "Create an export (and follow, download it)");
  AddRequestFlags(exp, o.export_args);
  exp->add_flag("--wait", o.wait, "Follow it to its end (progress bar on a terminal)");
  exp->add_option("--download", o.download_dir, "Wait, then download its files into DIR");
  exp->callback([&] {
    run = [&](const Context& c) { return RunExport(c, o.export_args, o.wait, o.download_dir); };
  });

  auto with_id = [&](const char* name, const char* help,
                     std::function<Status(const Context&, const std::string&)> fn) {
    CLI::App* cmd = app.add_subcommand(name, help);
    cmd->add_option("id", o.id, "The task id")->required();
    cmd->callback([&o, &run, fn] { run = [&o, fn](const Context& c) { return fn(c, o.id); }; });
    return cmd;
  };
  with_id("status", "Show a task", RunStatus);
  with_id("watch", "Follow a task to its end (exit 1 unless it succeeds)", RunWatch);
  with_id("cancel", "Cancel a task", RunCancel);
  with_id("rm", "Remove the files of a finished task (its record stays)", RunRemove);
  CLI::App* dl = with_id("download", "Download the files of a succeeded task, verified", nullptr);
  dl->add_option("--dir", o.dir, "Where to put them (default: the current directory)");
  dl->callback([&] { run = [&](const Context& c) { return RunDownload(c, o.id, o.dir); }; });

  CLI::App* list = app.add_subcommand("list", "List tasks, newest first");
  list->add_option("--status", o.list.status, "Only tasks in this state");
  list->add_option("--dataset", o.list.dataset, "Only tasks of this dataset");
  list->add_option("--limit", o.list.limit, "At most this many (1..200, default 50)");
  list->callback([&] { run = [&](const Context& c) { return RunList(c, o.list); }; });

  app.add_subcommand("datasets", "List the datasets and their fields")->callback([&] {
    run = RunDatasets;
  });

  CLI::App* schedules = app.add_subcommand("schedules", "Recurring exports");
  schedules->require_subcommand(1);
  schedules->add_subcommand("list", "List schedules")->callback([&] { run = RunScheduleList; });
  auto schedule_id = [&](const char* name, const char* help,
                         std::function<Status(const Context&, const std::string&)> fn) {
    CLI::App* cmd = schedules->add_subcommand(name, help);
    cmd->add_option("id", o.id, "The schedule id")->required();
    cmd->callback([&o, &run, fn] { run = [&o, fn](const Context& c) { return fn(c, o.id); }; });
  };
  schedule_id("show", "Show a schedule and its next runs", RunScheduleShow);
  schedule_id("pause", "Stop firing", [](const Context& c, const std::string& id) {
    return RunScheduleEnable(c, id, false);
  });
  schedule_id("resume", "Fire again", [](const Context& c, const std::string& id) {
    return RunScheduleEnable(c, id, true);
  });
  schedule_id("run", "Run now: prints the export task it created", RunScheduleRun);
  schedule_id("rm", "Delete a schedule", RunScheduleRemove);
  CLI::App* create = schedules->add_subcommand("create", "Create a schedule of an export");
  create->add_option("--name", o.schedule.name, "Its name")->required();
  create->add_option("--cron", o.schedule.cron, "5 fields, e.g. '0 2 * * *'")->required();
  create->add_option("--time-zone", o.schedule.time_zone, "IANA zone of the cron (default UTC)");
  create->add_option("--catch-up", o.schedule.catch_up, "latest (default), all or none");
  create->add_flag("--disabled", o.schedule.disabled, "Create it paused");
  create->add_option("--export-type", o.schedule.request.export_type, "instant, hourly or daily");
  AddRequestFlags(create, o.schedule.request);
  create->callback(
      [&] { run = [&](const Context& c) { return RunScheduleCreate(c, o.schedule); }; });

  CLI::App* watermarks = app.add_subcommand("watermarks", "Watermarks of incremental exports");
  watermarks->require_subcommand(1);
  CLI::App* wm_list = watermarks->add_subcommand("list", "A dataset's watermarks");
  wm_list->add_option("dataset", o.dataset, "The dataset")->required();
  wm_list->callback(
      [&] { run = [&](const Context& c) { return RunWatermarkList(c, o.dataset); }; });
  CLI::App* wm_set = watermarks->add_subcommand("set", "Set a partition's watermark (admin)");
  wm_set->add_option("dataset", o.dataset, "The dataset")->required();
  wm_set->add_option("partition", o.partition, "The partition")->required();
  wm_set->add_option("time", o.time, "RFC 3339 instant")->required();
  wm_set->callback([&] {
    run = [&](const Context& c) { return RunWatermarkSet(c, o.dataset, o.partition, o.time); };
  });
  CLI::App* wm_rm = watermarks->add_subcommand("rm", "Delete a partition's watermark (admin)");
  wm_rm->add_option("dataset", o.dataset, "The dataset")->required();
  wm_rm->add_option("partition", o.partition, "The partition")->required();
  wm_rm->callback([&] {
    run = [&](const Context& c) { return RunWatermarkRemove(c, o.dataset, o.partition); };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (!run) return kExitUsage;

  ConnectionSources sources;
  sources.flag_url = o.url;
  sources.flag_token = o.token;
  sources.env_url = Env("EXPORTD_URL");
  sources.env_token = Env("EXPORTD_TOKEN");
  sources.profile_path = DefaultProfilePath();
  auto connection = ResolveConnection(sources);
  if (!connection.ok()) {
    std::fprintf(stderr, "exportctl: %s\n", connection.status().message().c_str());
    return ExitCode(connection.status());
  }
  const Context ctx{ApiClient(*connection), o.json};
  const Status status = run(ctx);
  if (!status.ok()) std::fprintf(stderr, "exportctl: %s\n", status.message().c_str());
  return ExitCode(status);
}

}  // namespace exportd::ctl
