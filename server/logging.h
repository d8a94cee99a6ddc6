// spdlog set-up and its adapter to core's Logger.
#ifndef EXPORTD_SERVER_LOGGING_H_
#define EXPORTD_SERVER_LOGGING_H_

#include <string>

#include "core/logger.h"

namespace exportd {

// Logs to stderr with timestamps. Level names as in Config::log_level.
void SetUpLogging(const std::string& level);

class SpdLogger final : public Logger {
 public:
  void Info(std::string_view message) override;
  void Warn(std::string_view message) override;
  void Error(std::string_view message) override;
};

}  // namespace exportd

#endif  // EXPORTD_SERVER_LOGGING_H_
