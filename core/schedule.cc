#include "core/schedule.h"

#include "core/text.h"
#include "core/ulid.h"

namespace exportd {
std::string NewScheduleId(TimePoint now) { return std::string(kScheduleIdPrefix) + NewUlid(now); }

bool IsScheduleId(std::string_view id) {
  return id.starts_with(kScheduleIdPrefix) && IsUlid(id.substr(kScheduleIdPrefix.size()));
}

Status ValidateScheduleName(std::string_view name) {
  if (!IsValidUtf8(name)) return InvalidArgument("name must be valid UTF-8", "/name");
  size_t code_points = 0;
  for (size_t i = 0; i < name.size(); i += Utf8SequenceLength(name, i)) ++code_points;
  if (code_points == 0 || code_points > kMaxScheduleNameChars) {
    return InvalidArgument(
        "name must be 1 to " + std::to_string(kMaxScheduleNameChars) + " characters", "/name");
  }
  if (name.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return InvalidArgument("name must not be only white space", "/name");
  }
  return Status::Ok();
}

}  // namespace exportd
