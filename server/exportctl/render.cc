#include "server/exportctl/render.h"

#include <algorithm>

#include "server/exportctl/progress_bar.h"

namespace exportd::ctl {
namespace {

using Json = nlohmann::json;

// `datasets` shows this many fields of each dataset.
constexpr size_t kFieldsShown = 12;

const Json& Items(const Json& page) {
  static const Json kEmpty = Json::array();
  return page.is_object() && page.contains("items") && page["items"].is_array() ? page["items"]
                                                                                : kEmpty;
}

void Field(std::vector<std::vector<std::string>>& rows, const std::string& name,
           const std::string& value) {
  if (!value.empty()) rows.push_back({name, value});
}

std::string Rows(const Json& task) {
  const ProgressView view = ViewOfTask(task, std::nullopt);
  std::string out = FormatCount(view.rows);
  if (view.rows_total) out.append("/").append(FormatCount(*view.rows_total));
  return out;
}

std::string Percent(const Json& task) {
  const ProgressView view = ViewOfTask(task, std::nullopt);
  return view.percent ? std::to_string(static_cast<int>(*view.percent)) + "%" : "";
}

}  // namespace

std::string FormatTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

bool Flag(const Json& object, const char* name) { return Text(object, name) == "true"; }

std::string Text(const Json& object, const char* name) {
  if (!object.is_object() || !object.contains(name)) return "";
  const Json& v = object[name];
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

void PrintJson(const Json& document) { std::printf("%s\n", document.dump(2).c_str()); }

void PrintTask(std::FILE* out, const Json& task) {
  std::vector<std::vector<std::string>> rows;
  Field(rows, "id", Text(task, "id"));
  Field(rows, "status",
        Text(task, "status") + (Flag(task, "cancel_requested") ? " (cancel requested)" : ""));
  Field(rows, "dataset", Text(task, "dataset") + " (" + Text(task, "format") + ")");
  Field(rows, "rows", Rows(task) + (Percent(task).empty() ? "" : "  " + Percent(task)));
  Field(rows, "tag", Text(task, "tag"));
  Field(rows, "created", Text(task, "created_at"));
  Field(rows, "started", Text(task, "started_at"));
  Field(rows, "finished", Text(task, "finished_at"));
  Field(rows, "attempts", Text(task, "attempts") + "/" + Text(task, "max_attempts"));
  if (task.contains("error") && task["error"].is_object()) {
    Field(rows, "error", Text(task["error"], "code") + ": " + Text(task["error"], "message"));
  }
  std::fputs(FormatTable(rows).c_str(), out);
  if (task.contains("files") && task["files"].is_array() && !task["files"].empty()) {
    std::vector<std::vector<std::string>> files = {{"FILE", "ROWS", "BYTES", "SHA256"}};
    for (const Json& f : task["files"]) {
      const std::string rows_text =
          f.contains("rows") && f["rows"].is_number() ? FormatCount(f["rows"].get<int64_t>()) : "";
      const std::string bytes_text = f.contains("bytes") && f["bytes"].is_number()
                                         ? FormatCount(f["bytes"].get<int64_t>())
                                         : "";
      files.push_back({Text(f, "name"), rows_text, bytes_text, Text(f, "sha256")});
    }
    std::fputs(("\n" + FormatTable(files)).c_str(), out);
  }
}

void PrintTaskList(std::FILE* out, const Json& page) {
  std::vector<std::vector<std::string>> rows = {
      {"ID", "STATUS", "DATASET", "ROWS", "DONE", "CREATED", "TAG"}};
  for (const Json& task : Items(page)) {
    rows.push_back({Text(task, "id"), Text(task, "status"), Text(task, "dataset"), Rows(task),
                    Percent(task), Text(task, "created_at"), Text(task, "tag")});
  }
  std::fputs(FormatTable(rows).c_str(), out);
  if (!Text(page, "next_cursor").empty()) {
    std::fprintf(out, "(more: raise --limit, up to 200)\n");
  }
}

void PrintDatasets(std::FILE* out, const Json& page) {
  for (const Json& d : Items(page)) {
    std::fprintf(out, "%s", Text(d, "name").c_str());
    if (!Text(d, "description").empty()) std::fprintf(out, ": %s", Text(d, "description").c_str());
    std::fputc('\n', out);
    std::vector<std::vector<std::string>> rows;
    Field(rows, "  time field", Text(d, "time_field"));
    Field(rows, "  partition field", Text(d, "partition_field"));
    std::string fields;
    if (d.contains("fields") && d["fields"].is_array()) {
      const Json& all = d["fields"];
      for (size_t i = 0; i < all.size() && i < kFieldsShown; ++i) {
        if (!fields.empty()) fields += ", ";
        fields += Text(all[i], "name") +
                  (Text(all[i], "type").empty() ? "" : " (" + Text(all[i], "type") + ")");
      }
      if (all.size() > kFieldsShown) {
        fields += ", ... (" + std::to_string(all.size()) + " in all; --json lists them)";
      }
    }
    Field(rows, "  fields", fields);
    std::fputs(FormatTable(rows).c_str(), out);
  }
}

void PrintSchedule(std::FILE* out, const Json& schedule) {
  std::vector<std::vector<std::string>> rows;
  Field(rows, "id", Text(schedule, "id"));
  Field(rows, "name", Text(schedule, "name"));
  Field(rows, "cron", Text(schedule, "cron") + " (" + Text(schedule, "time_zone") + ")");
  Field(rows, "enabled", Text(schedule, "enabled"));
  Field(rows, "catch up", Text(schedule, "catch_up"));
  Field(rows, "request", schedule.contains("request") ? schedule["request"].dump() : "");
  if (schedule.contains("next_runs") && schedule["next_runs"].is_array()) {
    std::string runs;
    for (const Json& r : schedule["next_runs"])
      runs += (runs.empty() ? "" : ", ") + r.get<std::string>();
    Field(rows, "next runs", runs);
  }
  if (schedule.contains("last_run") && schedule["last_run"].is_object()) {
    Field(rows, "last run",
          Text(schedule["last_run"], "slot") + " -> " + Text(schedule["last_run"], "task_id"));
  }
  std::fputs(FormatTable(rows).c_str(), out);
}

void PrintScheduleList(std::FILE* out, const Json& page) {
  std::vector<std::vector<std::string>> rows = {
      {"ID", "NAME", "CRON", "TIME ZONE", "ENABLED", "NEXT RUN"}};
  for (const Json& s : Items(page)) {
    const std::string next = s.contains("next_runs") && s["next_runs"].is_array() &&
                                     !s["next_runs"].empty() && s["next_runs"][0].is_string()
                                 ? s["next_runs"][0].get<std::string>()
                                 : "";
    rows.push_back({Text(s, "id"), Text(s, "name"), Text(s, "cron"), Text(s, "time_zone"),
                    Text(s, "enabled"), next});
  }
  std::fputs(FormatTable(rows).c_str(), out);
}

void PrintWatermarks(std::FILE* out, const Json& page) {
  std::vector<std::vector<std::string>> rows = {{"PARTITION", "WATERMARK", "TASK", "UPDATED"}};
  for (const Json& w : Items(page)) {
    rows.push_back(
        {Text(w, "partition"), Text(w, "watermark"), Text(w, "task_id"), Text(w, "updated_at")});
  }
  std::fputs(FormatTable(rows).c_str(), out);
}

}  // namespace exportd::ctl
