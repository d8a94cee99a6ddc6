// The rendered JSON bodies of finished tasks, so that polling a task nobody changed costs one
// indexed read (ExportService::Revision) instead of reading, decoding and rendering the task.
#ifndef EXPORTD_API_TASK_BODY_CACHE_H_
#define EXPORTD_API_TASK_BODY_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace exportd::api {

// A body is served only for the task revision it was rendered from and until its valid_until:
// a rendering depends on the time only through its download links' expiry, counted in whole
// seconds from the time of rendering, so a body stays right until the next second.
// Bounded by max_bytes of bodies: a Put beyond it drops the oldest entries first.
// Thread-safe.
class TaskBodyCache {
 public:
  using Body = std::shared_ptr<const std::string>;

  explicit TaskBodyCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The body of task `id` at `revision`, or null when none is cached or it is no longer valid
  // at `now`.
  Body Find(const std::string& id, int64_t revision, TimePoint now) const;
  // Whether a body of task `id` that is still valid at `now` is kept, whatever its revision:
  // whether reading the task's revision can spare reading the task.
  bool Holds(const std::string& id, TimePoint now) const;
  // Keeps `body` as the rendering of task `id` at `revision`, valid before `valid_until`. It
  // replaces any earlier one of the task. A body larger than max_bytes is not kept.
  void Put(const std::string& id, int64_t revision, TimePoint valid_until, std::string body);

  size_t bytes() const;

 private:
  struct Entry {
    int64_t revision = 0;
    TimePoint valid_until{};
    Body body;
    std::list<std::string>::iterator age;  // its place in oldest_first_
  };

  void EraseLocked(std::unordered_map<std::string, Entry>::iterator it);

  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
  std::list<std::string> oldest_first_;             // guarded by mu_: ids by time of Put
  size_t bytes_ = 0;                                // guarded by mu_: sum of the bodies' sizes
};

}  // namespace exportd::api

#endif  // EXPORTD_API_TASK_BODY_CACHE_H_
