// JSON views of tasks, events and datasets as the API shows them (openapi.yaml is normative).
#ifndef EXPORTD_API_TASK_JSON_H_
#define EXPORTD_API_TASK_JSON_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
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
  // Links valid until the task's files expire (files_expire_at) rather than for url_ttl: for
  // the links a notification sends, which are read hours or days later.
  bool links_until_files_expire = false;
  // The longest lifetime the store's links can have (S3 pre-signed URLs: 7 days); nullopt: no
  // limit. A link is never shown as valid for longer than it is.
  std::optional<std::chrono::seconds> max_link_ttl;
};

// When the links of `task`'s files expire in a rendering with `ctx`: now + url_ttl (or the
// files' expiry with links_until_files_expire), never after the files expire, and never more
// than max_link_ttl from now. Whole seconds.
TimePoint LinkExpiry(const Task& task, const TaskViewContext& ctx);

nlohmann::json TaskToJson(const Task& task, const TaskViewContext& ctx);
// An import task: TaskToJson's members, with the import's own request (dataset, format,
// on_conflict and its source), rows_inserted, rows_skipped and rows_replaced (null until it
// Succeeds), error.details (the faults of a failed import, [] otherwise) and links under
// /v1/imports.
nlohmann::json ImportTaskToJson(const Task& task, const TaskViewContext& ctx);
nlohmann::json EventToJson(const TaskEvent& event);
nlohmann::json DatasetToJson(const Dataset& dataset);
// "45% (36000/80000 rows)" for the X-Progress header.
std::string ProgressHeader(const Task& task, TimePoint now);

}  // namespace exportd::api

#endif  // EXPORTD_API_TASK_JSON_H_
