// LogContext: fields that every log line made on a thread carries besides its message (the
// request being answered, the task being run), so that structured logs can be filtered by them
// (server/logging.h writes them into each JSON line). Set them with the scoped guards.
#ifndef EXPORTD_CORE_LOG_CONTEXT_H_
#define EXPORTD_CORE_LOG_CONTEXT_H_

#include <string>
#include <utility>

namespace exportd {

struct LogContext {
  std::string request_id;  // empty: none
  std::string task_id;     // empty: none
};

// The calling thread's context.
inline LogContext& ThreadLogContext() {
  thread_local LogContext context;
  return context;
}

// Sets the thread's task id for its lifetime; restores the previous one after.
class ScopedLogTask {
 public:
  explicit ScopedLogTask(std::string task_id)
      : previous_(std::exchange(ThreadLogContext().task_id, std::move(task_id))) {}
  ~ScopedLogTask() { ThreadLogContext().task_id = std::move(previous_); }
  ScopedLogTask(const ScopedLogTask&) = delete;
  ScopedLogTask& operator=(const ScopedLogTask&) = delete;

 private:
  std::string previous_;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_LOG_CONTEXT_H_
