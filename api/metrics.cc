#include "api/metrics.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>

namespace exportd::api {
namespace {

constexpr int kFirstStatus = 100;
constexpr int kLastStatus = 599;

std::atomic<uint64_t> g_next_metrics_id{1};

std::string_view KnownMethod(std::string_view method) {
  static constexpr std::string_view kMethods[] = {"GET",    "HEAD",    "POST", "PUT",
                                                  "DELETE", "OPTIONS", "PATCH"};
  for (std::string_view m : kMethods) {
    if (m == method) return m;
  }
  return "other";
}

// Shortest text that reads back as the same double; integers without a fraction.
std::string Number(double value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

std::string Number(int64_t value) { return std::to_string(value); }

// A bucket bound as an le label: "0.0005", not "5e-04" (queries match le by its text).
std::string Bound(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", value);
  return buf;
}

// A label value as the exposition format wants it: backslash, quote and newline escaped.
std::string Escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

using LabelList = std::vector<std::pair<std::string_view, std::string>>;

std::string LabelText(const LabelList& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += std::string(labels[i].first) + "=\"" + Escape(labels[i].second) + "\"";
  }
  return out + "}";
}

void Family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void Sample(std::string& out, std::string_view name, const LabelList& labels,
            const std::string& value) {
  out += name;
  out += LabelText(labels);
  out += ' ';
  out += value;
  out += '\n';
}

template <size_t N, typename H>
void HistogramSamples(std::string& out, std::string_view name, LabelList labels,
                      const std::array<double, N>& bounds, const H& h) {
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  labels.emplace_back("le", "");
  for (size_t i = 0; i <= N; ++i) {
    cumulative += h.buckets[i];
    labels.back().second = i < N ? Bound(bounds[i]) : "+Inf";
    Sample(out, bucket, labels, std::to_string(cumulative));
  }
  labels.pop_back();
  Sample(out, std::string(name) + "_sum", labels, Number(h.sum));
  // The +Inf bucket's total, so that _count and the buckets agree within one scrape.
  Sample(out, std::string(name) + "_count", labels, std::to_string(cumulative));
}

double SecondsBetween(TimePoint from, TimePoint to) {
  return std::max(0.0, std::chrono::duration<double>(to - from).count());
}

}  // namespace

template <size_t N>
void Metrics::Histogram<N>::Observe(const std::array<double, N>& bounds, double value) {
  size_t bucket = 0;
  while (bucket < N && value > bounds[bucket]) ++bucket;
  ++buckets[bucket];
  sum += value;
}

template <size_t N>
void Metrics::Histogram<N>::Add(const Histogram& other) {
  for (size_t i = 0; i <= N; ++i) buckets[i] += other.buckets[i];
  sum += other.sum;
}

Metrics::Metrics() : id_(g_next_metrics_id.fetch_add(1)) {}

Metrics::~Metrics() = default;

Metrics::Shard& Metrics::LocalShard() {
  // (Metrics id, shard) of every Metrics this thread recorded into. Ids are never reused, so an
  // entry of a destroyed Metrics is never matched (nor dereferenced) again.
  thread_local std::vector<std::pair<uint64_t, Shard*>> mine;
  for (const auto& [id, shard] : mine) {
    if (id == id_) return *shard;
  }
  auto shard = std::make_unique<Shard>();
  Shard* raw = shard.get();
  {
    std::lock_guard<std::mutex> lock(shards_mu_);
    shards_.push_back(std::move(shard));
  }
  mine.emplace_back(id_, raw);
  return *raw;
}

void Metrics::RecordRequest(std::string_view method, std::string_view route, int http_status,
                            double seconds) {
  if (http_status < kFirstStatus || http_status > kLastStatus) return;
  struct View {
    std::string_view method;
    std::string_view route;
    int code;
  };
  const View key{KnownMethod(method), route, http_status};
  Shard& shard = LocalShard();
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.series.find(key);
  if (it == shard.series.end()) {
    it = shard.series
             .emplace(RequestKey{std::string(key.method), std::string(route), http_status},
                      RequestHistogram{})
             .first;
  }
  it->second.Observe(kRequestBuckets, seconds);
}

void Metrics::ExportRunEnded(std::string_view dataset, std::string_view outcome, double seconds) {
  std::lock_guard<std::mutex> lock(counters_mu_);
  counters_.export_runs[{std::string(dataset), std::string(outcome)}].Observe(kExportBuckets,
                                                                              seconds);
}

void Metrics::ExportSucceeded(std::string_view dataset, int64_t rows, int64_t bytes) {
  std::lock_guard<std::mutex> lock(counters_mu_);
  counters_.rows_by_dataset[std::string(dataset)] += rows;
  counters_.bytes_by_dataset[std::string(dataset)] += bytes;
}

void Metrics::RetryScheduled(std::string_view code) {
  std::lock_guard<std::mutex> lock(counters_mu_);
  ++counters_.retries_by_code[std::string(code)];
}

void Metrics::LeasesExpired(int64_t count) {
  std::lock_guard<std::mutex> lock(counters_mu_);
  counters_.lease_expiries += count;
}

void Metrics::TasksRecovered(std::string_view reason, int64_t count) {
  std::lock_guard<std::mutex> lock(counters_mu_);
  counters_.recoveries_by_reason[std::string(reason)] += count;
}

void Metrics::NotificationAttempted(std::string_view channel, std::string_view outcome) {
  std::lock_guard<std::mutex> lock(counters_mu_);
  ++counters_.notifications[{std::string(channel), std::string(outcome)}];
}

void Metrics::ScheduleFired(std::string_view dataset, std::string_view outcome) {
  std::lock_guard<std::mutex> lock(counters_mu_);
  ++counters_.schedule_firings[{std::string(dataset), std::string(outcome)}];
}

std::string Metrics::Render(const Gauges& gauges) const {
  std::map<RequestKey, RequestHistogram, RequestKeyLess> requests;
  {
    std::lock_guard<std::mutex> lock(shards_mu_);
    for (const std::unique_ptr<Shard>& shard : shards_) {
      std::lock_guard<std::mutex> shard_lock(shard->mu);
      for (const auto& [key, h] : shard->series) requests[key].Add(h);
    }
  }
  Counters c;
  {
    std::lock_guard<std::mutex> lock(counters_mu_);
    c = counters_;
  }

  std::string out;
  constexpr std::string_view kRequests = "exportd_http_request_duration_seconds";
  Family(out, kRequests, "histogram",
         "Time spent answering HTTP requests, by method, route template and status code.");
  for (const auto& [key, h] : requests) {
    HistogramSamples(out, kRequests,
                     {{"method", key.method},
                      {"route", key.route.empty() ? "unmatched" : key.route},
                      {"code", std::to_string(key.code)}},
                     kRequestBuckets, h);
  }

  // The same counts as the histogram's _count, under the name dashboards have used since the
  // first version.
  Family(out, "exportd_http_requests_total", "counter",
         "HTTP requests answered, by method, route template and status code.");
  for (const auto& [key, h] : requests) {
    uint64_t n = 0;
    for (uint64_t b : h.buckets) n += b;
    Sample(out, "exportd_http_requests_total",
           {{"method", key.method},
            {"route", key.route.empty() ? "unmatched" : key.route},
            {"code", std::to_string(key.code)}},
           std::to_string(n));
  }

  if (gauges.tasks_by_state) {
    Family(out, "exportd_tasks", "gauge", "Tasks in the task store, by state.");
    for (TaskState s : {TaskState::kPending, TaskState::kProcessing, TaskState::kPaused,
                        TaskState::kSucceeded, TaskState::kFailed, TaskState::kCancelled}) {
      auto it = gauges.tasks_by_state->find(s);
      Sample(out, "exportd_tasks", {{"state", std::string(TaskStateName(s))}},
             Number(it == gauges.tasks_by_state->end() ? 0 : it->second));
    }
  }
  if (gauges.pending) {
    Family(out, "exportd_queue_depth", "gauge",
           "Pending tasks ready to run, waiting for a worker (not those waiting for a retry).");
    Sample(out, "exportd_queue_depth", {}, Number(gauges.pending->ready));
    Family(out, "exportd_oldest_pending_task_age_seconds", "gauge",
           "Age of the oldest Pending task since its creation; 0 when none is Pending.");
    Sample(out, "exportd_oldest_pending_task_age_seconds", {},
           Number(gauges.pending->oldest_created_at
                      ? SecondsBetween(*gauges.pending->oldest_created_at, gauges.now)
                      : 0.0));
  }
  if (gauges.running_exports) {
    Family(out, "exportd_exports_running", "gauge", "Exports running in this process.");
    Sample(out, "exportd_exports_running", {}, Number(int64_t{*gauges.running_exports}));
  }

  constexpr std::string_view kRuns = "exportd_export_duration_seconds";
  Family(out, kRuns, "histogram",
         "Duration of export runs in this process (claim to end), by dataset and outcome.");
  for (const auto& [labels, h] : c.export_runs) {
    HistogramSamples(out, kRuns, {{"dataset", labels.first}, {"outcome", labels.second}},
                     kExportBuckets, h);
  }
  Family(out, "exportd_rows_exported_total", "counter",
         "Rows of the exports that succeeded in this process, by dataset.");
  for (const auto& [dataset, n] : c.rows_by_dataset) {
    Sample(out, "exportd_rows_exported_total", {{"dataset", dataset}}, Number(n));
  }
  Family(out, "exportd_bytes_exported_total", "counter",
         "Bytes of the data files of the exports that succeeded in this process, by dataset.");
  for (const auto& [dataset, n] : c.bytes_by_dataset) {
    Sample(out, "exportd_bytes_exported_total", {{"dataset", dataset}}, Number(n));
  }
  Family(out, "exportd_export_retries_total", "counter",
         "Failed export runs scheduled for a retry, by error code.");
  for (const auto& [code, n] : c.retries_by_code) {
    Sample(out, "exportd_export_retries_total", {{"code", code}}, Number(n));
  }
  Family(out, "exportd_lease_expiries_total", "counter",
         "Processing tasks whose lease expired, put back in the queue by this process.");
  Sample(out, "exportd_lease_expiries_total", {}, Number(c.lease_expiries));
  Family(out, "exportd_task_recoveries_total", "counter",
         "Interrupted export runs put back in the queue, by reason (restart, shutdown).");
  for (const auto& [reason, n] : c.recoveries_by_reason) {
    Sample(out, "exportd_task_recoveries_total", {{"reason", reason}}, Number(n));
  }
  Family(out, "exportd_notifications_total", "counter",
         "Notification delivery attempts, by channel and outcome (delivered, retry, failed).");
  for (const auto& [labels, n] : c.notifications) {
    Sample(out, "exportd_notifications_total",
           {{"channel", labels.first}, {"outcome", labels.second}}, Number(n));
  }
  if (gauges.notifications_queued) {
    Family(out, "exportd_notifications_queued", "gauge",
           "Notification deliveries queued or in flight in this process.");
    Sample(out, "exportd_notifications_queued", {}, Number(*gauges.notifications_queued));
  }
  Family(out, "exportd_schedule_firings_total", "counter",
         "Schedule slots fired, by dataset and outcome (created, already_fired, error).");
  for (const auto& [labels, n] : c.schedule_firings) {
    Sample(out, "exportd_schedule_firings_total",
           {{"dataset", labels.first}, {"outcome", labels.second}}, Number(n));
  }
  if (gauges.oldest_watermarks) {
    Family(out, "exportd_watermark_lag_seconds", "gauge",
           "Time since the watermark of the least advanced partition of each dataset.");
    for (const auto& [dataset, mark] : *gauges.oldest_watermarks) {
      Sample(out, "exportd_watermark_lag_seconds", {{"dataset", dataset}},
             Number(SecondsBetween(mark, gauges.now)));
    }
  }
  return out;
}

}  // namespace exportd::api
