#include "core/task_metrics_json.h"

#include <map>

#include "core/canonical_json.h"
#include "core/formats/format_writer.h"
#include "core/time_format.h"

namespace exportd {
namespace {

void AppendKey(std::string_view key, std::string& out) {
  out += '"';
  AppendJsonEscaped(key, out);
  out += "\":";
}

void AppendTime(const std::optional<TimePoint>& t, std::string& out) {
  if (!t) {
    out += "null";
    return;
  }
  out += '"';
  out += FormatRfc3339(*t);
  out += '"';
}

void AppendCounts(const std::map<std::string, int64_t>& counts, std::string& out) {
  out += '{';
  bool first = true;
  for (const auto& [name, count] : counts) {
    if (!first) out += ',';
    first = false;
    AppendKey(name, out);
    out += std::to_string(count);
  }
  out += '}';
}

}  // namespace

std::string TaskWindowJson(const TaskWindow& window) {
  std::string out = "{\"partitions\":[";
  for (size_t i = 0; i < window.partitions.size(); ++i) {
    const PartitionWindow& p = window.partitions[i];
    if (i > 0) out += ',';
    out += '{';
    AppendKey("partition", out);
    out += '"';
    AppendJsonEscaped(p.partition, out);
    out += "\",";
    AppendKey("since", out);
    AppendTime(p.since, out);
    out += ',';
    AppendKey("until", out);
    AppendTime(p.until, out);
    out += '}';
  }
  out += "],";
  AppendKey("until", out);
  AppendTime(window.until, out);
  out += '}';
  return out;
}

std::string TaskMetricsJson(const TaskMetrics& metrics) {
  std::string out = "{";
  AppendKey("distinct", out);
  out += '{';
  bool first = true;
  for (const auto& [field, counts] : metrics.distinct) {
    if (!first) out += ',';
    first = false;
    AppendKey(field, out);
    AppendCounts(counts, out);
  }
  out += "},";
  AppendKey("excluded_rows", out);
  out += std::to_string(metrics.excluded_rows);
  out += ',';
  AppendKey("missing_ids", out);
  out += std::to_string(metrics.missing_ids);
  out += ',';
  AppendKey("missing_ids_sample", out);
  out += '[';
  for (size_t i = 0; i < metrics.missing_ids_sample.size(); ++i) {
    if (i > 0) out += ',';
    AppendFilterValueJson(metrics.missing_ids_sample[i], out);
  }
  out += "],";
  AppendKey("rows_by_partition", out);
  AppendCounts(metrics.rows_by_partition, out);
  out += '}';
  return out;
}

}  // namespace exportd
