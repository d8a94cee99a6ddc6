#include "tests/fakes/memory_task_store.h"

#include <algorithm>
#include <utility>

#include "core/export_window.h"
#include "core/task_rules.h"
#include "core/time_format.h"
#include "core/watermark.h"

namespace exportd::fakes {
namespace {

Status TaskNotFound(const std::string& id) { return NotFound("task " + id + " not found"); }

bool Matches(const EventQuery& q, const TaskEvent& e) {
  if (q.actor && e.actor != *q.actor) return false;
  if (q.task_id && e.task_id != *q.task_id) return false;
  if (!q.types.empty() && std::find(q.types.begin(), q.types.end(), e.type) == q.types.end()) {
    return false;
  }
  if (q.since && e.at < *q.since) return false;
  if (q.until && e.at >= *q.until) return false;
  if (q.remote && e.remote != *q.remote) return false;
  if (q.file && e.file != *q.file) return false;
  if (q.outcome && e.outcome != *q.outcome) return false;
  if (q.before_seq && e.seq >= *q.before_seq) return false;
  return true;
}

bool Matches(const TaskListQuery& q, const Task& t) {
  if (q.principal && t.principal != *q.principal) return false;
  if (q.kind && t.kind != *q.kind) return false;
  if (q.state && t.state != *q.state) return false;
  if (q.dataset && t.request.dataset != *q.dataset) return false;
  if (q.query_hash && t.query_hash != *q.query_hash) return false;
  if (q.before_id && t.id >= *q.before_id) return false;
  return true;
}

}  // namespace

Result<MemoryTaskStore::Entry*> MemoryTaskStore::FindLocked(const std::string& id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return TaskNotFound(id);
  return &it->second;
}

Result<TaskEvent> MemoryTaskStore::CheckCreateLocked(const Task& task, const EventOrigin& origin) {
  ASSIGN_OR_RETURN(Transitioned created, ApplyCreate(task, origin));
  if (tasks_.contains(task.id)) {
    return Status(StatusCode::kAlreadyExists, "task " + task.id + " already exists");
  }
  if (task.idempotency_key) {
    for (const auto& [id, entry] : tasks_) {
      if (entry.task.principal == task.principal &&
          entry.task.idempotency_key == task.idempotency_key) {
        return Status(StatusCode::kAlreadyExists,
                      "idempotency key already used by principal " + task.principal);
      }
    }
  }
  if (task.schedule_id && task.schedule_slot &&
      schedule_runs_.contains({*task.schedule_id, ToUnixMillis(*task.schedule_slot)})) {
    return Status(StatusCode::kAlreadyExists, "schedule " + *task.schedule_id +
                                                  " already fired slot " +
                                                  FormatRfc3339(*task.schedule_slot));
  }
  return created.event;
}

void MemoryTaskStore::InsertLocked(const Task& task, const TaskEvent& created) {
  Entry entry{task, next_task_seq_++};
  entry.task.notifications.clear();
  entry.task.revision = 0;  // as a new task comes back from Get: the first change makes it 1
  tasks_.emplace(task.id, std::move(entry));
  AppendLocked(created);
  if (task.schedule_id && task.schedule_slot) {
    schedule_runs_.emplace(std::pair{*task.schedule_id, ToUnixMillis(*task.schedule_slot)},
                           task.id);
    if (on_schedule_run_) {
      on_schedule_run_(*task.schedule_id,
                       ScheduleRun{*task.schedule_slot, task.id, task.created_at});
    }
  }
}

Task MemoryTaskStore::SaveLocked(Entry& entry, const Task& task) {
  const int64_t revision = entry.task.revision + 1;
  entry.task = task;
  entry.task.revision = revision;
  return entry.task;
}

void MemoryTaskStore::AppendLocked(TaskEvent event) {
  event.seq = static_cast<int64_t>(events_.size()) + 1;
  events_.push_back(std::move(event));
}

Task MemoryTaskStore::SaveChangeLocked(Entry& entry, const std::optional<Transitioned>& change) {
  if (!change) return entry.task;
  Task saved = SaveLocked(entry, change->task);
  AppendLocked(change->event);
  return saved;
}

Result<Task> MemoryTaskStore::TransitionLocked(Entry& entry, const TransitionArgs& args) {
  ASSIGN_OR_RETURN(Transitioned next, ApplyTransition(entry.task, args));
  std::vector<HookDelivery> owed = DeliveriesOwed(entry.task, next.task);
  if (!owed.empty()) next.task.notifications = std::move(owed);
  const Task before = entry.task;
  Task saved = SaveLocked(entry, next.task);
  AppendLocked(next.event);
  if (std::optional<std::string> dataset = WatermarksMovedBy(before, saved)) {
    WatermarkMap current;
    for (const auto& [key, w] : watermarks_) {
      if (key.first == *dataset) current[key.second] = w.watermark;
    }
    for (WatermarkChange& change :
         AdvanceWatermarks(before, saved, current, args.now, args.origin)) {
      watermarks_[{change.watermark.dataset, change.watermark.partition}] = change.watermark;
      AppendLocked(std::move(change.event));
    }
  }
  return saved;
}

void MemoryTaskStore::OnScheduleRun(
    std::function<void(const std::string& schedule_id, const ScheduleRun&)> f) {
  std::lock_guard<std::mutex> lock(mu_);
  on_schedule_run_ = std::move(f);
}

Status MemoryTaskStore::Create(const Task& task, const EventOrigin& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(TaskEvent created, CheckCreateLocked(task, origin));
  InsertLocked(task, created);
  return Status::Ok();
}

Result<Task> MemoryTaskStore::Get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Entry * entry, FindLocked(id));
  return entry->task;
}

Result<TaskRevision> MemoryTaskStore::Revision(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Entry * entry, FindLocked(id));
  return TaskRevision{entry->task.principal, entry->task.revision};
}

Result<std::optional<Task>> MemoryTaskStore::FindByIdempotencyKey(const std::string& principal,
                                                                  const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, entry] : tasks_) {
    if (entry.task.principal == principal && entry.task.idempotency_key == key) {
      return std::optional<Task>(entry.task);
    }
  }
  return std::optional<Task>();
}

Result<TaskPage> MemoryTaskStore::List(const TaskListQuery& query) {
  if (query.limit < 1) return InvalidArgument("limit must be at least 1", "/limit");
  std::lock_guard<std::mutex> lock(mu_);
  TaskPage page;
  for (auto it = tasks_.rbegin(); it != tasks_.rend(); ++it) {
    if (!Matches(query, it->second.task)) continue;
    if (page.items.size() == static_cast<size_t>(query.limit)) {
      page.next_cursor = page.items.back().id;
      break;
    }
    page.items.push_back(it->second.task);
  }
  return page;
}

Status MemoryTaskStore::CreateTakingKey(const Task& task, const std::string& previous_id,
                                        const EventOrigin& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Entry * previous, FindLocked(previous_id));
  ASSIGN_OR_RETURN(Transitioned released, ApplyKeyRelease(previous->task, task, origin));
  // All or nothing: the new task is checked as if the key were already released.
  const Task holder = previous->task;
  previous->task.idempotency_key.reset();
  Result<TaskEvent> created = CheckCreateLocked(task, origin);
  previous->task = holder;
  if (!created.ok()) return created.status();
  SaveLocked(*previous, released.task);
  AppendLocked(released.event);
  InsertLocked(task, *created);
  return Status::Ok();
}

Result<Task> MemoryTaskStore::Transition(const std::string& id, const TransitionArgs& args) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Entry * entry, FindLocked(id));
  return TransitionLocked(*entry, args);
}

Result<Task> MemoryTaskStore::RequestCancel(const std::string& id, TimePoint now,
                                            const EventOrigin& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Entry * entry, FindLocked(id));
  ASSIGN_OR_RETURN(std::optional<Transitioned> change,
                   ApplyCancelRequest(entry->task, now, origin));
  return SaveChangeLocked(*entry, change);
}

Result<Task> MemoryTaskStore::RequestPause(const std::string& id, TimePoint now,
                                           const EventOrigin& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Entry * entry, FindLocked(id));
  ASSIGN_OR_RETURN(std::optional<Transitioned> change, ApplyPauseRequest(entry->task, now, origin));
  return SaveChangeLocked(*entry, change);
}

Result<Task> MemoryTaskStore::ReplaceFiles(const std::string& id, std::vector<FileInfo> files,
                                           const std::string& event_type, TimePoint now,
                                           const EventOrigin& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Entry * entry, FindLocked(id));
  ASSIGN_OR_RETURN(std::optional<Transitioned> change,
                   ApplyFileReplacement(entry->task, std::move(files), event_type, now, origin));
  return SaveChangeLocked(*entry, change);
}

Result<std::map<TaskState, int64_t>> MemoryTaskStore::CountByState() {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<TaskState, int64_t> counts;
  for (const auto& [id, entry] : tasks_) ++counts[entry.task.state];
  return counts;
}

Result<int64_t> MemoryTaskStore::CountActive(const std::string& principal) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t count = 0;
  for (const auto& [id, entry] : tasks_) {
    count += entry.task.principal == principal && !IsTerminal(entry.task.state);
  }
  return count;
}

Result<std::optional<Task>> MemoryTaskStore::ClaimNext(TimePoint now, const std::string& owner,
                                                       Millis lease) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Entry*> ready;
  for (auto& [id, entry] : tasks_) {
    const Task& t = entry.task;
    if (t.state != TaskState::kPending || (t.not_before && *t.not_before > now)) continue;
    ready.push_back(&entry);
  }
  std::sort(ready.begin(), ready.end(),
            [](const Entry* a, const Entry* b) { return a->seq < b->seq; });
  Entry* first = nullptr;
  for (Entry* candidate : ready) {
    std::vector<Task> earlier;
    for (const auto& [id, entry] : tasks_) {
      if (entry.seq < candidate->seq &&
          entry.task.request.dataset == candidate->task.request.dataset &&
          !IsTerminal(entry.task.state)) {
        earlier.push_back(entry.task);
      }
    }
    if (MustWaitForEarlierExport(candidate->task, earlier)) continue;
    first = candidate;
    break;
  }
  if (first == nullptr) return std::optional<Task>();
  ASSIGN_OR_RETURN(Task claimed, TransitionLocked(*first, ClaimArgs(now, owner, lease)));
  return std::optional<Task>(std::move(claimed));
}

Result<std::optional<TimePoint>> MemoryTaskStore::NextWakeup(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (t > now && (!next || t < *next)) next = t;
  };
  for (const auto& [id, entry] : tasks_) {
    const Task& t = entry.task;
    if (t.state == TaskState::kPending && t.not_before) consider(*t.not_before);
    if (t.state == TaskState::kProcessing && t.lease) consider(t.lease->expires_at);
  }
  return next;
}

Result<Task> MemoryTaskStore::Heartbeat(const std::string& id, const LeaseKey& key,
                                        const std::optional<Progress>& progress, TimePoint now,
                                        Millis lease) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Entry * entry, FindLocked(id));
  ASSIGN_OR_RETURN(Task renewed, ApplyHeartbeat(entry->task, key, progress, now, lease));
  return SaveLocked(*entry, renewed);
}

Result<Task> MemoryTaskStore::CommitFile(const std::string& id, const LeaseKey& key,
                                         const FileInfo& file, const Checkpoint& next,
                                         TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Entry * entry, FindLocked(id));
  ASSIGN_OR_RETURN(Transitioned change, ApplyCheckpoint(entry->task, key, file, next, now));
  return SaveChangeLocked(*entry, change);
}

Result<std::vector<std::string>> MemoryTaskStore::ExpireLeases(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Entry*> expired;
  for (auto& [id, entry] : tasks_) {
    const Task& t = entry.task;
    if (t.state == TaskState::kProcessing && t.lease && t.lease->expires_at <= now) {
      expired.push_back(&entry);
    }
  }
  std::sort(expired.begin(), expired.end(), [](const Entry* a, const Entry* b) {
    return a->task.lease->expires_at < b->task.lease->expires_at;
  });
  std::vector<std::string> ids;
  for (Entry* entry : expired) {
    ids.push_back(entry->task.id);
    RETURN_IF_ERROR(TransitionLocked(*entry, LeaseExpiryArgs(entry->task, now)).status());
  }
  return ids;
}

Result<std::vector<std::string>> MemoryTaskStore::RecoverProcessing(TimePoint now,
                                                                    const std::string& owner) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Entry*> held;
  for (auto& [id, entry] : tasks_) {
    const Task& t = entry.task;
    if (t.state == TaskState::kProcessing && (!t.lease || t.lease->owner == owner)) {
      held.push_back(&entry);
    }
  }
  std::sort(held.begin(), held.end(),
            [](const Entry* a, const Entry* b) { return a->seq < b->seq; });
  const TransitionArgs args = RecoverArgs(now, owner);
  std::vector<std::string> ids;
  for (Entry* entry : held) {
    ids.push_back(entry->task.id);
    RETURN_IF_ERROR(TransitionLocked(*entry, args).status());
  }
  return ids;
}

Status MemoryTaskStore::UpdateProgress(const std::string& id, const Progress& progress,
                                       TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Entry * entry, FindLocked(id));
  if (std::optional<Task> next = ApplyProgress(entry->task, progress, now)) {
    SaveLocked(*entry, *next);
  }
  return Status::Ok();
}

Result<std::vector<std::string>> MemoryTaskStore::ListExpiredFiles(TimePoint now, int limit) {
  if (limit < 1) return InvalidArgument("limit must be at least 1");
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<TimePoint, const Entry*>> due;
  for (const auto& [id, entry] : tasks_) {
    std::optional<TimePoint> at = FilesDueAt(entry.task);
    if (at && *at <= now) due.emplace_back(*at, &entry);
  }
  std::sort(due.begin(), due.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second->seq < b.second->seq;
  });
  std::vector<std::string> ids;
  for (const auto& [at, entry] : due) {
    if (ids.size() == static_cast<size_t>(limit)) break;
    ids.push_back(entry->task.id);
  }
  return ids;
}

Status MemoryTaskStore::FilesRemoved(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Entry * entry, FindLocked(id));
  if (std::optional<Task> next = ApplyFilesRemoved(entry->task)) SaveLocked(*entry, *next);
  return Status::Ok();
}

Status MemoryTaskStore::RecordNotificationAttempt(const std::string& task_id,
                                                  const HookDelivery& delivery,
                                                  const TaskEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tasks_.find(task_id);
  HookDelivery* stored = nullptr;
  if (it != tasks_.end()) {
    for (HookDelivery& d : it->second.task.notifications) {
      if (d.hook == delivery.hook) stored = &d;
    }
  }
  if (stored == nullptr) {
    return NotFound("task " + task_id + " has no hook " + std::to_string(delivery.hook));
  }
  // Channel and target are the task's own; an attempt changes only its outcome.
  stored->status = delivery.status;
  stored->attempts = delivery.attempts;
  stored->last_attempt_at = delivery.last_attempt_at;
  stored->last_error = delivery.last_error;
  stored->delivered_at = delivery.delivered_at;
  ++it->second.task.revision;
  TaskEvent recorded = event;
  recorded.task_id = task_id;
  AppendLocked(std::move(recorded));
  return Status::Ok();
}

Result<std::optional<HookDelivery>> MemoryTaskStore::ClaimNotification(const std::string& task_id,
                                                                       int hook,
                                                                       const std::string& owner,
                                                                       TimePoint now,
                                                                       TimePoint until) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tasks_.find(task_id);
  const HookDelivery* stored = nullptr;
  if (it != tasks_.end()) {
    for (const HookDelivery& d : it->second.task.notifications) {
      if (d.hook == hook) stored = &d;
    }
  }
  if (stored == nullptr)
    return NotFound("task " + task_id + " has no hook " + std::to_string(hook));
  if (stored->status != DeliveryStatus::kPending) return std::optional<HookDelivery>();
  auto claim = claims_.find({task_id, hook});
  if (claim != claims_.end() && claim->second.first != owner && claim->second.second > now) {
    return std::optional<HookDelivery>();
  }
  claims_[{task_id, hook}] = {owner, until};
  return std::optional<HookDelivery>(*stored);
}

Result<std::vector<Task>> MemoryTaskStore::PendingNotifications(int limit,
                                                                const std::string& after_id) {
  if (limit < 1) return InvalidArgument("limit must be at least 1");
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Task> tasks;
  for (auto it = tasks_.upper_bound(after_id); it != tasks_.end(); ++it) {
    if (tasks.size() == static_cast<size_t>(limit)) break;
    const std::vector<HookDelivery>& owed = it->second.task.notifications;
    if (std::any_of(owed.begin(), owed.end(),
                    [](const HookDelivery& d) { return d.status == DeliveryStatus::kPending; })) {
      tasks.push_back(it->second.task);
    }
  }
  return tasks;
}

Status MemoryTaskStore::AppendEvent(const TaskEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(FindLocked(event.task_id).status());
  AppendLocked(event);
  return Status::Ok();
}

Result<std::vector<TaskEvent>> MemoryTaskStore::Events(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(FindLocked(id).status());
  std::vector<TaskEvent> events;
  for (const TaskEvent& e : events_) {
    if (e.task_id == id) events.push_back(e);
  }
  return events;
}

Result<EventPage> MemoryTaskStore::ListEvents(const EventQuery& query) {
  if (query.limit < 1) return InvalidArgument("limit must be at least 1", "/limit");
  std::lock_guard<std::mutex> lock(mu_);
  EventPage page;
  for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
    if (!Matches(query, *it)) continue;
    if (page.items.size() == static_cast<size_t>(query.limit)) {
      page.next_cursor = page.items.back().seq;
      break;
    }
    page.items.push_back(*it);
  }
  return page;
}

Status MemoryTaskStore::CheckWritable() {
  std::lock_guard<std::mutex> lock(mu_);
  return writable_;
}

void MemoryTaskStore::SetWritable(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  writable_ = std::move(status);
}

Result<Task> MemoryTaskStore::FixWindow(const std::string& id, const LeaseKey& key,
                                        const TaskWindow& window, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Entry * entry, FindLocked(id));
  ASSIGN_OR_RETURN(std::optional<Transitioned> fixed, ApplyWindow(entry->task, key, window, now));
  return SaveChangeLocked(*entry, fixed);
}

Result<std::vector<Watermark>> MemoryTaskStore::ListWatermarks(const std::string& dataset) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Watermark> out;
  for (const auto& [key, w] : watermarks_) {
    if (key.first == dataset) out.push_back(w);
  }
  return out;
}

Result<PendingSummary> MemoryTaskStore::SummarizePending(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  PendingSummary summary;
  for (const auto& [id, entry] : tasks_) {
    const Task& t = entry.task;
    if (t.state != TaskState::kPending) continue;
    summary.ready += !t.not_before || *t.not_before <= now;
    if (!summary.oldest_created_at || t.created_at < *summary.oldest_created_at) {
      summary.oldest_created_at = t.created_at;
    }
  }
  return summary;
}

Result<std::map<std::string, TimePoint>> MemoryTaskStore::OldestWatermarks() {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, TimePoint> oldest;
  for (const auto& [key, w] : watermarks_) {
    auto [it, inserted] = oldest.emplace(key.first, w.watermark);
    if (!inserted && w.watermark < it->second) it->second = w.watermark;
  }
  return oldest;
}

Result<Watermark> MemoryTaskStore::PutWatermark(const std::string& dataset,
                                                const std::string& partition, TimePoint watermark,
                                                TimePoint now, const EventOrigin& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<TimePoint> previous;
  if (auto it = watermarks_.find({dataset, partition}); it != watermarks_.end()) {
    previous = it->second.watermark;
  }
  Watermark next{.dataset = dataset,
                 .partition = partition,
                 .watermark = watermark,
                 .task_id = std::nullopt,
                 .updated_at = now};
  watermarks_[{dataset, partition}] = next;
  AppendLocked(ManualWatermarkEvent(dataset, partition, previous, watermark, now, origin));
  return next;
}

Status MemoryTaskStore::DeleteWatermark(const std::string& dataset, const std::string& partition,
                                        TimePoint now, const EventOrigin& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = watermarks_.find({dataset, partition});
  if (it == watermarks_.end()) {
    return NotFound("dataset '" + dataset + "' has no watermark for partition '" + partition + "'");
  }
  const TimePoint previous = it->second.watermark;
  watermarks_.erase(it);
  AppendLocked(ManualWatermarkEvent(dataset, partition, previous, std::nullopt, now, origin));
  return Status::Ok();
}

}  // namespace exportd::fakes
