// The file series of an export split by partition ("split_by": "partition"): which partitions
// get one, in which order they are written, and which rows each holds. The export runner writes
// them and the verifier regenerates them through these same functions.
#ifndef EXPORTD_CORE_SPLIT_SERIES_H_
#define EXPORTD_CORE_SPLIT_SERIES_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/source.h"
#include "core/status.h"
#include "core/task.h"

namespace exportd {

// One series per partition value; nullopt is the series of the rows whose partition is NULL.
using SeriesPartition = std::optional<std::string>;

// The series of an export reading `query`, in the order they are written: the partitions of
// query.windows when set (those also in query.partitions, when that is set), else
// query.partitions when set, else every partition `source` lists (Source::Partitions) followed
// by the NULL partition; ascending by byte value, each once, NULL last. A partition without
// rows is listed but yields no file. kFailedPrecondition when two partitions would share a
// directory (core/partition_name.h: possible only for shortened names); errors of
// Source::Partitions.
Result<std::vector<SeriesPartition>> SplitSeries(const SourceQuery& query, Source& source);

// `query` restricted to the rows of `partition`.
SourceQuery SeriesQuery(const SourceQuery& query, const SeriesPartition& partition);

// Where an export resumed at `at` continues in `series` (SplitSeries' order): the index of
// at.partition, or of the first series after it when it is no longer listed (then that series
// starts from its first row and file); series.size() when none follows.
size_t ResumeSeriesIndex(const std::vector<SeriesPartition>& series, const SeriesCheckpoint& at);

}  // namespace exportd

#endif  // EXPORTD_CORE_SPLIT_SERIES_H_
