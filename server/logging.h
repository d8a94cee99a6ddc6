// spdlog set-up and its adapter to core's Logger.
#ifndef EXPORTD_SERVER_LOGGING_H_
#define EXPORTD_SERVER_LOGGING_H_

#include <string>

#include "core/logger.h"

namespace exportd {

// Logs to stderr. Level names as in Config::log_level. `format` "text": one line per entry,
// "<time> <level> <message>"; "json": one JSON object per line with "time" (RFC 3339 UTC, ms),
// "level", "message", "thread", and, when known, "task_id" (the task being run or asked about;
// else one named by a message that starts "task <id>") and "request_id" (the X-Request-Id of
// the request being answered), from core/log_context.h.
void SetUpLogging(const std::string& level, const std::string& format = "text");

class SpdLogger final : public Logger {
 public:
  void Info(std::string_view message) override;
  void Warn(std::string_view message) override;
  void Error(std::string_view message) override;
};

}  // namespace exportd

#endif  // EXPORTD_SERVER_LOGGING_H_
