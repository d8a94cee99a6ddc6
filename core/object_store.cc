#include "core/object_store.h"

#include <algorithm>

#include "core/partition_name.h"
#include "core/text.h"

namespace exportd {
namespace {}  // namespace

Status ValidateTaskId(std::string_view task_id) {
  if (task_id.empty() || task_id.size() > 64 ||
      !std::all_of(task_id.begin(), task_id.end(), IsAsciiAlnum)) {
    return InvalidArgument("task id must be 1 to 64 letters or digits");
  }
  return Status::Ok();
}

Status ValidateObjectName(std::string_view name) {
  const auto allowed = [](char c) { return IsAsciiAlnum(c) || c == '.' || c == '_' || c == '-'; };
  const size_t slash = name.find('/');
  const std::string_view dir =
      slash == std::string_view::npos ? std::string_view() : name.substr(0, slash);
  const std::string_view file = slash == std::string_view::npos ? name : name.substr(slash + 1);
  if (slash != std::string_view::npos && !IsPartitionDirName(dir)) {
    return InvalidArgument(
        "object name directory must be 1 to 100 of [A-Za-z0-9._~-], not starting with '.' or "
        "'-', not ending with '.', without \"..\"");
  }
  if (file.empty() || file.size() > 128 || !IsAsciiAlnum(file.front()) ||
      !std::all_of(file.begin(), file.end(), allowed) ||
      file.find("..") != std::string_view::npos) {
    return InvalidArgument(
        "object name must match [A-Za-z0-9][A-Za-z0-9._-]{0,127} without \"..\", optionally "
        "after one partition directory and '/'");
  }
  return Status::Ok();
}

Status ValidateListPrefix(std::string_view prefix) {
  const auto allowed = [](char c) {
    return IsAsciiAlnum(c) || c == '.' || c == '_' || c == '-' || c == '~' || c == '/';
  };
  const size_t slash = prefix.find('/');
  const std::string_view task = prefix.substr(0, slash);
  if (prefix.empty() || prefix.size() > 300 || task.empty() || task.size() > 64 ||
      !std::all_of(task.begin(), task.end(), IsAsciiAlnum) ||
      !std::all_of(prefix.begin(), prefix.end(), allowed) ||
      prefix.find("..") != std::string_view::npos || prefix.find("//") != std::string_view::npos ||
      std::count(prefix.begin(), prefix.end(), '/') > 2) {
    return InvalidArgument(
        "a prefix must be 1 to 300 of [A-Za-z0-9._~/-], begin with a task directory (letters "
        "and digits), and have no \"..\", no \"//\" and at most two '/'");
  }
  return Status::Ok();
}

}  // namespace exportd
