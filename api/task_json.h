// JSON views of tasks, events and datasets as the API shows them (openapi.yaml is normative).
#ifndef EXPORTD_API_TASK_JSON_H_
#define EXPORTD_API_TASK_JSON_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/clock.h"
#include "core/dataset.h"
#include "core/object_store.h"
#include "core/task.h"

namespace exportd::api {

struct TaskViewContext {
  ObjectStore* objects = nullptr;  // signs file links
  TimePoint now{};
  std::chrono::seconds url_ttl{86400};
};

nlohmann::json TaskToJson(const Task& task, const TaskViewContext& ctx);
nlohmann::json EventToJson(const TaskEvent& event);
nlohmann::json DatasetToJson(const Dataset& dataset);
// "45% (36000/80000 rows)" for the X-Progress header.
std::string ProgressHeader(const Task& task, TimePoint now);

}  // namespace exportd::api

#endif  // EXPORTD_API_TASK_JSON_H_
