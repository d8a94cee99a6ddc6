// Where a partition's file series lives in an export split by partition: the directory name
// that stands for a partition value in "<directory>/part-00001.csv".
//
// The encoding, reversible for every name not shortened:
//  - the NULL partition is "~NULL"; the empty value is "~EMPTY";
//  - bytes A-Z a-z 0-9 and '_' stand for themselves; so does '-' unless it is the first byte,
//    and '.' unless it is the first or the last byte or follows another '.';
//  - every other byte (and those three exceptions) is '~' and two uppercase hex digits:
//    "eu/west" -> "eu~2Fwest", ".." -> "~2E~2E", "a b" -> "a~20b", "é" -> "~C3~A9".
// So a directory name is made of [A-Za-z0-9._~-] only: a safe local file name (not ".", "..",
// hidden or starting with '-'), a safe S3 key segment, and a URL path segment that needs no
// escaping. Each value has exactly one encoding, so two partitions never share a directory.
//  - an encoding longer than kMaxPartitionDirLength is shortened: its first characters (a whole
//    number of bytes), then "~~" and 16 hex digits of a 64-bit FNV-1a hash of the value. Such a
//    name cannot be decoded; the task's files[] and the manifest give each file's partition.
//    The export runner refuses (kFailedPrecondition) an export where two partitions would still
//    share a directory.
#ifndef EXPORTD_CORE_PARTITION_NAME_H_
#define EXPORTD_CORE_PARTITION_NAME_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace exportd {

// The longest directory name PartitionDirName gives. With a part name of at most 128 characters
// an object name stays within 229: under a local file name's 255 and an S3 key's 1024 bytes.
inline constexpr size_t kMaxPartitionDirLength = 100;

// The directory of `partition`'s series; nullopt is the NULL partition.
std::string PartitionDirName(const std::optional<std::string>& partition);

// The partition a directory name stands for (nullopt: NULL). kInvalidArgument for a name that is
// not the encoding of any value; kFailedPrecondition for a shortened name (see above).
Result<std::optional<std::string>> ParsePartitionDirName(std::string_view dir);

// Whether `dir` may be the directory part of an object name: 1 to kMaxPartitionDirLength of
// [A-Za-z0-9._~-], not starting with '.' or '-', not ending with '.', without "..". Every
// PartitionDirName passes; a name that passes is safe whether or not it decodes.
bool IsPartitionDirName(std::string_view dir);

// "<PartitionDirName(partition)>/<part_name>".
std::string SeriesPartName(const std::optional<std::string>& partition, std::string_view part_name);

}  // namespace exportd

#endif  // EXPORTD_CORE_PARTITION_NAME_H_
