// Logger: how core reports what it does, without knowing the logging library (server/ adapts
// spdlog to it).
#ifndef EXPORTD_CORE_LOGGER_H_
#define EXPORTD_CORE_LOGGER_H_

#include <string_view>

namespace exportd {

// Thread-safe.
class Logger {
 public:
  virtual ~Logger() = default;
  virtual void Info(std::string_view message) = 0;
  virtual void Warn(std::string_view message) = 0;
  virtual void Error(std::string_view message) = 0;
};

// Discards everything; for tests and tools.
class NullLogger final : public Logger {
 public:
  void Info(std::string_view) override {}
  void Warn(std::string_view) override {}
  void Error(std::string_view) override {}
};

}  // namespace exportd

#endif  // EXPORTD_CORE_LOGGER_H_
