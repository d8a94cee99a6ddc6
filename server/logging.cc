#include "server/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace exportd {

void SetUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("exportd");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::info);
}

void SpdLogger::Info(std::string_view message) { spdlog::info("{}", message); }
void SpdLogger::Warn(std::string_view message) { spdlog::warn("{}", message); }
void SpdLogger::Error(std::string_view message) { spdlog::error("{}", message); }

}  // namespace exportd
