#include "server/logging.h"

#include <spdlog/sinks/sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/log_context.h"
#include "core/log_text.h"
#include "core/time_format.h"

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

// The task a message names by its first words, "task <id>" (how core's messages about a task
// begin), or empty.
std::string_view TaskNamedBy(std::string_view message) {
  constexpr std::string_view kPrefix = "task ";
  if (message.substr(0, kPrefix.size()) != kPrefix) return {};
  std::string_view rest = message.substr(kPrefix.size());
  size_t end = 0;
  while (end < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[end])) ||
                               rest[end] == '_' || rest[end] == '-')) {
    ++end;
  }
  return end >= 10 ? rest.substr(0, end) : std::string_view();
}

// One JSON object per entry (see SetUpLogging).
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    using nlohmann::json;
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    json entry = json::object();
    entry["time"] = FormatRfc3339(FromUnixMillis(millis));
    const spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);
    entry["level"] = std::string(level.data(), level.size());
    const std::string_view message(msg.payload.data(), msg.payload.size());
    entry["message"] = std::string(message);
    entry["thread"] = msg.thread_id;
    const LogContext& context = ThreadLogContext();
    if (!context.task_id.empty()) {
      entry["task_id"] = context.task_id;
    } else if (std::string_view named = TaskNamedBy(message); !named.empty()) {
      entry["task_id"] = std::string(named);
    }
    if (!context.request_id.empty()) entry["request_id"] = context.request_id;
    const std::string line = entry.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

void SetUpLogging(const std::string& level, const std::string& format) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (format == "json") {
    // JSON escapes every control character itself: no forged lines, and messages kept as they
    // were.
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    sink = std::make_shared<EscapingSink>(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  }
  auto logger = std::make_shared<spdlog::logger>("exportd", std::move(sink));
  spdlog::register_logger(logger);
  spdlog::set_default_logger(logger);
  if (format != "json") {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  }
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::info);
}

void SpdLogger::Info(std::string_view message) { spdlog::info("{}", message); }
void SpdLogger::Warn(std::string_view message) { spdlog::warn("{}", message); }
void SpdLogger::Error(std::string_view message) { spdlog::error("{}", message); }

}  // namespace exportd
