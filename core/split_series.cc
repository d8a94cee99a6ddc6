#include "core/split_series.h"

#include <algorithm>
#include <map>
#include <utility>

#include "core/partition_name.h"

namespace exportd {
namespace {

// SplitSeries' order: values ascending, NULL after every value.
bool SeriesBefore(const SeriesPartition& a, const SeriesPartition& b) {
  if (!a || !b) return a.has_value() && !b.has_value();
  return *a < *b;
}

}  // namespace

Result<std::vector<SeriesPartition>> SplitSeries(const SourceQuery& query, Source& source) {
  std::vector<SeriesPartition> series;
  if (query.windows) {
    for (const PartitionWindow& window : *query.windows) {
      if (query.partitions.empty() || std::find(query.partitions.begin(), query.partitions.end(),
                                                window.partition) != query.partitions.end()) {
        series.emplace_back(window.partition);
      }
    }
  } else if (!query.partitions.empty()) {
    series.assign(query.partitions.begin(), query.partitions.end());
  } else {
    ASSIGN_OR_RETURN(std::vector<std::string> partitions, source.Partitions());
    series.assign(partitions.begin(), partitions.end());
    series.emplace_back(std::nullopt);
  }
  std::sort(series.begin(), series.end(), SeriesBefore);
  series.erase(std::unique(series.begin(), series.end()), series.end());
  std::map<std::string, const SeriesPartition*> directories;
  for (const SeriesPartition& partition : series) {
    const auto [it, inserted] = directories.emplace(PartitionDirName(partition), &partition);
    if (!inserted) {
      return FailedPrecondition("partitions '" + it->second->value_or("NULL") + "' and '" +
                                partition.value_or("NULL") + "' would share the directory " +
                                it->first);
    }
  }
  return series;
}

SourceQuery SeriesQuery(const SourceQuery& query, const SeriesPartition& partition) {
  SourceQuery out = query;
  // SplitSeries takes every value from query.partitions when that is set, so this narrows it.
  out.partitions.clear();
  if (partition) {
    out.partitions.push_back(*partition);
  } else {
    out.null_partition = true;
  }
  return out;
}

size_t ResumeSeriesIndex(const std::vector<SeriesPartition>& series, const SeriesCheckpoint& at) {
  return static_cast<size_t>(
      std::lower_bound(series.begin(), series.end(), at.partition, SeriesBefore) - series.begin());
}

}  // namespace exportd
