#include "server/logging.h"

#include <spdlog/sinks/sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "core/log_text.h"

namespace exportd {
namespace {

// Every message passes through here before it is formatted: control characters are written out
// (core/log_text.h), so that text from a client (a path, a header, a name) can never break a
// log entry into several or forge one. Locking is the wrapped sink's.
class EscapingSink final : public spdlog::sinks::sink {
 public:
  explicit EscapingSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}

  void log(const spdlog::details::log_msg& msg) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    if (!NeedsLogEscape(payload)) {
      inner_->log(msg);
      return;
    }
    const std::string escaped = EscapeForLog(payload);
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(escaped.data(), escaped.size());
    inner_->log(copy);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace

void SetUpLogging(const std::string& level) {
  auto sink =
      std::make_shared<EscapingSink>(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  auto logger = std::make_shared<spdlog::logger>("exportd", std::move(sink));
  spdlog::register_logger(logger);
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::info);
}

void SpdLogger::Info(std::string_view message) { spdlog::info("{}", message); }
void SpdLogger::Warn(std::string_view message) { spdlog::warn("{}", message); }
void SpdLogger::Error(std::string_view message) { spdlog::error("{}", message); }

}  // namespace exportd
