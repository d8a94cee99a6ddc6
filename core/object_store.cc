#include "core/object_store.h"

#include <algorithm>

namespace exportd {
namespace {

bool IsAlnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

Status ValidateTaskId(std::string_view task_id) {
  if (task_id.empty() || task_id.size() > 64 ||
      !std::all_of(task_id.begin(), task_id.end(), IsAlnum)) {
    return InvalidArgument("task id must be 1 to 64 letters or digits");
  }
  return Status::Ok();
}

Status ValidateObjectName(std::string_view name) {
  const auto allowed = [](char c) { return IsAlnum(c) || c == '.' || c == '_' || c == '-'; };
  if (name.empty() || name.size() > 128 || !IsAlnum(name.front()) ||
      !std::all_of(name.begin(), name.end(), allowed) ||
      name.find("..") != std::string_view::npos) {
    return InvalidArgument(
        "object name must match [A-Za-z0-9][A-Za-z0-9._-]{0,127} without \"..\"");
  }
  return Status::Ok();
}

}  // namespace exportd
