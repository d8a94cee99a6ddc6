// exportctl's human-readable output: tasks, lists, datasets, schedules, watermarks. (--json
// prints the server's JSON instead; see commands.cc.)
#ifndef EXPORTD_SERVER_EXPORTCTL_RENDER_H_
#define EXPORTD_SERVER_EXPORTCTL_RENDER_H_

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace exportd::ctl {

// Columns padded to their widest cell, two spaces apart; the last column is not padded.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows);

// The text of a JSON scalar ("" for null or absent, numbers as the server wrote them).
std::string Text(const nlohmann::json& object, const char* name);
// True when `name` is the boolean true.
bool Flag(const nlohmann::json& object, const char* name);

// The document as indented JSON on stdout (--json).
void PrintJson(const nlohmann::json& document);
void PrintTask(std::FILE* out, const nlohmann::json& task);
void PrintTaskList(std::FILE* out, const nlohmann::json& page);
void PrintDatasets(std::FILE* out, const nlohmann::json& page);
void PrintSchedule(std::FILE* out, const nlohmann::json& schedule);
void PrintScheduleList(std::FILE* out, const nlohmann::json& page);
void PrintWatermarks(std::FILE* out, const nlohmann::json& page);

}  // namespace exportd::ctl

#endif  // EXPORTD_SERVER_EXPORTCTL_RENDER_H_
