// The rendered JSON bodies of finished tasks, so that polling a task nobody changed costs one
// indexed read (ExportService::Revision) instead of reading, decoding and rendering the task.
#ifndef EXPORTD_API_TASK_BODY_CACHE_H_
#define EXPORTD_API_TASK_BODY_CACHE_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace exportd::api {

// A body is served only for the task revision it was rendered from and within its validity
// [valid_from, valid_until): a rendering depends on the time only through its download links'
// expiry, counted in whole seconds, so a body rendered for a second stays right for all of it.
//
// Every thread polling a task would find its body out of date at the same moment, at the turn of
// the second, and all would render it at once (a stall of tens of milliseconds under load:
// docs/perf/history.md). So, in the last kRenderAhead of a body's validity, one Find asks its
// caller to render the body of the next period ahead of time (Lookup::render_from), and a Put of
// that rendering keeps it beside the current one until its period begins.
//
// Bounded by max_bytes of bodies: a Put beyond it drops the oldest entries first.
// Thread-safe. Every GET of a finished task passes here, so a Find takes the lock shared: a thread
// the scheduler preempts inside it holds up no other Find (docs/perf/history.md). Only Put,
// and the one Find per period that promotes the rendering ahead, take it exclusively.
class TaskBodyCache {
 public:
  using Body = std::shared_ptr<const std::string>;

  static constexpr std::chrono::milliseconds kRenderAhead{250};

  struct Lookup {
    // The body of the task at the revision asked for, valid now; null when none is kept.
    Body body;
    // Set for one caller per period: it should render the task as of this time (when the
    // current body's validity ends) and Put it, valid from then.
    std::optional<TimePoint> render_from;
  };

  explicit TaskBodyCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  Lookup Find(const std::string& id, int64_t revision, TimePoint now);
  // Whether a body of task `id` valid at `now` is kept, whatever its revision: whether reading
  // the task's revision can spare reading the task.
  bool Holds(const std::string& id, TimePoint now) const;
  // Keeps `body` as the rendering of task `id` at `revision`, valid in [valid_from, valid_until).
  // A rendering of the same revision for the period right after the kept one is kept beside it
  // (the rendering ahead); any other replaces what is kept of the task. A body larger than
  // max_bytes is not kept.
  void Put(const std::string& id, int64_t revision, TimePoint valid_from, TimePoint valid_until,
           std::string body);

  size_t bytes() const;

 private:
  struct Rendering {
    int64_t revision = 0;
    TimePoint valid_from{};
    TimePoint valid_until{};
    Body body;
  };
  struct Entry {
    Rendering current;
    std::optional<Rendering> next;  // same revision, valid from current.valid_until
    // Whether a Find asked for the rendering after `current`. Set under the shared lock (one
    // caller wins the exchange), reset under the exclusive one.
    std::atomic<bool> render_ahead_asked{false};
    std::list<std::string>::iterator age;  // its place in oldest_first_
  };

  static size_t BytesOf(const Entry& entry);
  static bool NextIsDue(const Entry& entry, TimePoint now);
  // The lookup in `entry`, which must not be NextIsDue at `now`; mu_ held, shared or not.
  static Lookup LookUpLocked(Entry& entry, int64_t revision, TimePoint now);
  void EraseLocked(std::unordered_map<std::string, Entry>::iterator it);

  const size_t max_bytes_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
  std::list<std::string> oldest_first_;             // guarded by mu_: ids by time of Put
  size_t bytes_ = 0;                                // guarded by mu_: sum of the bodies' sizes
};

}  // namespace exportd::api

#endif  // EXPORTD_API_TASK_BODY_CACHE_H_
